"""Who may see the committee's pages and which submissions: committee membership, conflicts and recusal.

- The committee pages of a call are open to its committee members (role COMITE bound to the call or to every
  call), to the admin, and, read-only, to a technical lead of the call.
- The selection rules are edited by the admin and a technical lead of the whole call (not region-bound).
- A member who declared a conflict of interest in the call (`evaluacion.models.Conflicto`, the same table
  reviewers use) is *recused* from every submission it touches: one submission; an organisation's or a
  person's RUT (the submitting organisation's RUT); or a region (the submission's region). A recused member
  cannot open that submission's detail nor decide on it, and the recusal is listed in the acta.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from convocatorias import lead_queries
from convocatorias.models import Convocatoria, EstadoPostulacion, Fase, Organizacion, Postulacion
from evaluacion.models import Conflicto, TipoConflicto
from evaluacion.permissions import can_lead, can_lead_whole_call
from idea.extensions import db
from idea.models import Role, RoleAssignment, User

# The phases in which the committee pages of a call exist (the ranking needs the evaluation done).
COMMITTEE_PHASES = frozenset({Fase.VOTACION, Fase.COMITE, Fase.FORMACION, Fase.EJECUCION, Fase.CIERRE})


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_member(user: Any, convocatoria_id: int) -> bool:
    """Holds the committee role itself (not through admin) for this call or for every call."""
    return _authenticated(user) and any(
        a.role == Role.COMITE and a.convocatoria_id in (None, convocatoria_id) for a in user.roles
    )


def can_view_committee(user: Any, convocatoria: Convocatoria) -> bool:
    """Members, the admin, and (to read) a technical lead of the call, once the call has a ranking."""
    if not _authenticated(user) or convocatoria.fase not in COMMITTEE_PHASES:
        return False
    return user.is_admin or is_member(user, convocatoria.id) or can_lead(user, convocatoria)


def can_edit_rules(user: Any, convocatoria: Convocatoria) -> bool:
    """The admin and a technical lead of the whole call, while the call is in votación or comité."""
    return (
        can_view_committee(user, convocatoria)
        and (user.is_admin or can_lead_whole_call(user, convocatoria))
        and convocatoria.fase in (Fase.VOTACION, Fase.COMITE)
    )


def can_declare_conflict(user: Any, convocatoria: Convocatoria) -> bool:
    return can_view_committee(user, convocatoria) and (user.is_admin or is_member(user, convocatoria.id))


def conflicts_touch(conflicts: Iterable[Conflicto], p_id: int, org_rut: str, region: str | None) -> bool:
    for c in conflicts:
        if c.tipo == TipoConflicto.POSTULACION and c.postulacion_id == p_id:
            return True
        if c.tipo in (TipoConflicto.ORGANIZACION, TipoConflicto.PERSONA) and c.value == org_rut:
            return True
        if c.tipo == TipoConflicto.REGION and region is not None and c.value == region:
            return True
    return False


def _conflicts_of(user_ids: Iterable[int], convocatoria_id: int) -> list[Conflicto]:
    ids = sorted(set(user_ids))
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Conflicto)
            .where(Conflicto.convocatoria_id == convocatoria_id, Conflicto.user_id.in_(ids))
            .order_by(Conflicto.id)
        )
    )


def recused_ids(user: Any, convocatoria_id: int) -> set[int]:
    """The admissible submissions of the call that `user` is recused from (two queries)."""
    if not _authenticated(user):
        return set()
    conflicts = _conflicts_of([user.id], convocatoria_id)
    if not conflicts:
        return set()
    stmt = (
        sa.select(Postulacion.id, Organizacion.rut, Postulacion.region)
        .join(Organizacion, Organizacion.id == Postulacion.organizacion_id)
        .where(
            Postulacion.convocatoria_id == convocatoria_id,
            Postulacion.status == EstadoPostulacion.ADMISIBLE,
        )
    )
    rows = db.session.execute(stmt)
    return {pid for pid, rut, region in rows if conflicts_touch(conflicts, pid, rut, region)}


def is_recused(user: Any, p: Postulacion) -> bool:
    if not _authenticated(user):
        return False
    conflicts = _conflicts_of([user.id], p.convocatoria_id)
    return conflicts_touch(conflicts, p.id, p.organizacion.rut, p.region)


def lead_regions(user: Any, convocatoria: Convocatoria) -> list[str] | None:
    """The regions a reader who is only a technical lead sees on the committee pages (their lead scope);
    None for members and the admin (every region)."""
    if user.is_admin or is_member(user, convocatoria.id):
        return None
    return lead_queries.regions_in_scope(user, convocatoria.id)


def can_see_postulacion(user: Any, p: Postulacion) -> bool:
    """Whether `user` may open this submission's committee detail: a committee page reader (a lead only
    within their regions), not recused, and only an admissible submission (the committee works on those)."""
    if p.status != EstadoPostulacion.ADMISIBLE or not can_view_committee(user, p.convocatoria):
        return False
    regions = lead_regions(user, p.convocatoria)
    if regions is not None and p.region not in regions:
        return False
    return not is_recused(user, p)


def members(convocatoria_id: int) -> list[User]:
    """The active committee members of the call (role bound to it or to every call), by name."""
    stmt = (
        sa.select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.role == Role.COMITE,
            sa.or_(
                RoleAssignment.convocatoria_id.is_(None), RoleAssignment.convocatoria_id == convocatoria_id
            ),
        )
        .order_by(User.name, User.id)
    )
    seen: dict[int, User] = {}
    for u in db.session.scalars(stmt).unique():
        if u.is_active:
            seen.setdefault(u.id, u)
    return list(seen.values())


def recusals(convocatoria: Convocatoria) -> list[tuple[User, Postulacion]]:
    """Every (committee member, submission) pair where the member is recused, for the acta; by member name
    then folio. Three queries whatever the number of members and submissions."""
    people = members(convocatoria.id)
    conflicts = _conflicts_of([u.id for u in people], convocatoria.id)
    if not conflicts:
        return []
    by_user: dict[int, list[Conflicto]] = {}
    for c in conflicts:
        by_user.setdefault(c.user_id, []).append(c)
    stmt = (
        sa.select(Postulacion, Organizacion.rut)
        .join(Organizacion, Organizacion.id == Postulacion.organizacion_id)
        .where(
            Postulacion.convocatoria_id == convocatoria.id,
            Postulacion.status == EstadoPostulacion.ADMISIBLE,
        )
        .order_by(Postulacion.folio_number, Postulacion.id)
    )
    submissions = list(db.session.execute(stmt))
    pairs: list[tuple[User, Postulacion]] = []
    for user in people:
        mine = by_user.get(user.id)
        if not mine:
            continue
        pairs.extend((user, p) for p, rut in submissions if conflicts_touch(mine, p.id, rut, p.region))
    return pairs
