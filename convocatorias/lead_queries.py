"""Read-side helpers of the technical lead: the submissions a lead may see, filtered, counted, exported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from convocatorias.models import (
    Convocatoria,
    Desafio,
    EstadoPostulacion,
    Madurez,
    Organizacion,
    Postulacion,
    TipoOrganizacion,
)
from idea.chile import REGIONS, REGIONS_BY_CODE
from idea.extensions import db
from idea.models import EventoAuditoria, Role, User
from idea.search import contains_text

PAGE_SIZE = 50

# The roles whose assignments open these pages; their call/region binding narrows what is seen.
LEAD_ROLES: tuple[Role, ...] = (Role.ENCARGADO_TECNICO, Role.ADMIN)

# Drafts are never listed nor exported: until it is sent, a profile belongs to its applicant alone (staff
# only see how many drafts there are). The empty status filter means every sent state.
STATUS_SENT = ""

# The order of the lists of calls (the lead's and the admin's): newest first.
NEWEST_FIRST = (Convocatoria.year.desc(), Convocatoria.created_at.desc(), Convocatoria.id.desc())

@dataclass(frozen=True)
class Filtros:
    """The filters of the submissions list; the same values drive the page, the counts and the exports."""

    desafio_id: int | None = None
    region: str | None = None
    status: str = STATUS_SENT
    maturity: str | None = None
    tipo: str | None = None
    q: str = ""

    def as_args(self) -> dict[str, Any]:
        """The non-empty filters as query-string arguments (for the pager and the export links)."""
        names = {"desafio_id": "desafio", "region": "region", "status": "estado", "maturity": "madurez",
                 "tipo": "tipo", "q": "q"}
        return {names[key]: value for key, value in asdict(self).items() if value not in (None, "")}


# --- scope -----------------------------------------------------------------------------------------

def _lead_assignments(user: User) -> list[Any]:
    return [a for a in user.roles if a.role in LEAD_ROLES]


def scope_clause(user: User) -> sa.ColumnElement[bool]:
    """The submissions `user` may see as technical lead: each assignment opens its call and/or region."""
    clauses: list[sa.ColumnElement[bool]] = []
    for assignment in _lead_assignments(user):
        parts: list[sa.ColumnElement[bool]] = []
        if assignment.convocatoria_id is not None:
            parts.append(Postulacion.convocatoria_id == assignment.convocatoria_id)
        if assignment.region is not None:
            parts.append(Postulacion.region == assignment.region)
        if not parts:
            return sa.true()
        clauses.append(sa.and_(*parts))
    return sa.or_(*clauses) if clauses else sa.false()


def visible_calls_clause(user: User) -> sa.ColumnElement[bool]:
    """The calls whose submissions page `user` may open (a region-bound lead sees every call)."""
    ids: set[int] = set()
    for assignment in _lead_assignments(user):
        if assignment.convocatoria_id is None:
            return sa.true()
        ids.add(assignment.convocatoria_id)
    return Convocatoria.id.in_(sorted(ids)) if ids else sa.false()


def can_view_call(user: User, convocatoria: Convocatoria) -> bool:
    """Whether `user` may open the submissions page of this call."""
    return any(a.convocatoria_id in (None, convocatoria.id) for a in _lead_assignments(user))


def can_view_submission(user: User, p: Postulacion) -> bool:
    """Whether `user` may open this submission's staff page: the same rule as the list (`scope_clause`),
    and never a draft."""
    if not getattr(user, "is_authenticated", False) or p.status == EstadoPostulacion.BORRADOR:
        return False
    return any(a.convocatoria_id in (None, p.convocatoria_id) and a.region in (None, p.region)
               for a in _lead_assignments(user))


def regions_in_scope(user: User, convocatoria_id: int) -> list[str] | None:
    """The region codes `user` sees in a call, north to south; None when every region is in scope."""
    codes: set[str] = set()
    for assignment in _lead_assignments(user):
        if assignment.convocatoria_id not in (None, convocatoria_id):
            continue
        if assignment.region is None:
            return None
        codes.add(assignment.region)
    return [r.code for r in REGIONS if r.code in codes]


def visible_calls(user: User) -> list[Convocatoria]:
    """The calls of the lead's index, newest first."""
    stmt = sa.select(Convocatoria).where(visible_calls_clause(user)).order_by(*NEWEST_FIRST)
    return list(db.session.scalars(stmt))


def counts_by_call(user: User) -> dict[int, dict[str, int]]:
    """Per call: how many submissions the user sees, by status (one GROUP BY query)."""
    stmt = (sa.select(Postulacion.convocatoria_id, Postulacion.status, sa.func.count(Postulacion.id))
            .where(scope_clause(user))
            .group_by(Postulacion.convocatoria_id, Postulacion.status))
    result: dict[int, dict[str, int]] = {}
    for call_id, status, count in db.session.execute(stmt):
        result.setdefault(call_id, {})[EstadoPostulacion(status).value] = count
    return result


# --- filtered submissions ---------------------------------------------------------------------------

def _needs_organizacion(filtros: Filtros) -> bool:
    """Whether the filters read the organisation's row (its type, or its name in a search)."""
    return bool(filtros.tipo or filtros.q.strip())


def _conditions(user: User, convocatoria_id: int, filtros: Filtros) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [
        Postulacion.convocatoria_id == convocatoria_id, scope_clause(user)]
    # Sent submissions only; every one has a folio number, which is what the lists sort on.
    conditions.append(Postulacion.status != EstadoPostulacion.BORRADOR)
    conditions.append(Postulacion.folio_number.is_not(None))
    if filtros.status != STATUS_SENT:
        conditions.append(Postulacion.status == EstadoPostulacion(filtros.status))
    if filtros.desafio_id is not None:
        conditions.append(Postulacion.desafio_id == filtros.desafio_id)
    if filtros.region:
        conditions.append(Postulacion.region == filtros.region)
    if filtros.maturity:
        conditions.append(Postulacion.maturity == Madurez(filtros.maturity))
    if filtros.tipo:
        conditions.append(Organizacion.tipo == TipoOrganizacion(filtros.tipo))
    text = filtros.q.strip()
    if text:
        conditions.append(sa.or_(
            contains_text(Postulacion.folio, text),
            contains_text(Postulacion.title, text),
            contains_text(Organizacion.name, text),
        ))
    return conditions


def _filtered(stmt: sa.Select[Any], user: User, convocatoria_id: int, filtros: Filtros) -> sa.Select[Any]:
    """`stmt` over postulacion narrowed to what `user` sees and `filtros` asks, joining the organisation only
    when a filter reads it (counts and charts then touch the submissions' rows alone)."""
    if _needs_organizacion(filtros):
        stmt = stmt.join(Organizacion, Organizacion.id == Postulacion.organizacion_id)
    return stmt.where(*_conditions(user, convocatoria_id, filtros))


# Folio numbers are unique in a call and every listed row has one, so this order is total and the
# (convocatoria_id, folio_number) unique index serves it: a page reads its rows from the index, no sort.
FOLIO_ORDER = (Postulacion.folio_number,)


def filtered_select(user: User, convocatoria_id: int, filtros: Filtros) -> sa.Select[tuple[Postulacion]]:
    """The submissions of a call that `user` sees and that match `filtros`, in folio order, with the
    organisation and challenge loaded in the same query (so the row count never adds queries)."""
    return (
        sa.select(Postulacion)
        .join(Postulacion.organizacion)
        .where(*_conditions(user, convocatoria_id, filtros))
        .options(contains_eager(Postulacion.organizacion), joinedload(Postulacion.desafio))
        .order_by(*FOLIO_ORDER)
    )


def count_submissions(user: User, convocatoria_id: int, filtros: Filtros) -> int:
    """How many submissions match (one COUNT over postulacion, joined only when a filter needs it)."""
    stmt = _filtered(sa.select(sa.func.count()).select_from(Postulacion), user, convocatoria_id, filtros)
    return db.session.scalar(stmt) or 0


class _Pagination(SelectPagination):
    """A page of the list whose total comes from `count_submissions` (not a count over the page's joins)."""

    def _query_count(self) -> int:
        return count_submissions(*self._query_args["count_args"])


def paginate_submissions(user: User, convocatoria_id: int, filtros: Filtros, page: int) -> Any:
    return _Pagination(select=filtered_select(user, convocatoria_id, filtros), session=db.session,
                       count_args=(user, convocatoria_id, filtros), page=page, per_page=PAGE_SIZE,
                       error_out=False)


# The columns of an export, read as plain tuples (no ORM objects: most of an export's time went there).
EXPORT_COLUMNS = (
    Postulacion.folio, Postulacion.desafio_id, Postulacion.title, Organizacion.name, Organizacion.rut,
    Organizacion.tipo, Postulacion.region, Postulacion.comuna, Postulacion.maturity,
    Postulacion.beneficiaries_count, Postulacion.requested_amount, Postulacion.status,
    Postulacion.submitted_at, Postulacion.problem, Postulacion.solution,
)


def export_records(user: User, convocatoria_id: int, filtros: Filtros) -> list[tuple[Any, ...]]:
    """Every filtered row (not one page) as a tuple of EXPORT_COLUMNS, in folio order: what exports write."""
    stmt = (sa.select(*EXPORT_COLUMNS)
            .join(Organizacion, Organizacion.id == Postulacion.organizacion_id)
            .where(*_conditions(user, convocatoria_id, filtros))
            .order_by(*FOLIO_ORDER))
    return [tuple(row) for row in db.session.execute(stmt)]


def desafio_titles(convocatoria_id: int) -> dict[int, str]:
    return dict(db.session.execute(
        sa.select(Desafio.id, Desafio.title).where(Desafio.convocatoria_id == convocatoria_id)).all())


@dataclass(frozen=True)
class Conteo:
    """One bar of a chart: a label, its count and the bar length in percent of the largest count."""

    key: str
    label: str
    count: int
    percent: int


def _bars(rows: list[tuple[str, str, int]]) -> list[Conteo]:
    top = max((count for _key, _label, count in rows), default=0)
    return [Conteo(key, label, count, max(1, round(100 * count / top)) if count else 0)
            for key, label, count in rows]


def counts_by_region(user: User, convocatoria_id: int, filtros: Filtros) -> list[Conteo]:
    """Filtered submissions per region (one GROUP BY query), north to south; no region last."""
    stmt = _filtered(sa.select(Postulacion.region, sa.func.count()).select_from(Postulacion),
                     user, convocatoria_id, filtros).group_by(Postulacion.region)
    counts: dict[str | None, int] = {code: n for code, n in db.session.execute(stmt)}
    rows = [(r.code, r.name, counts[r.code]) for r in REGIONS if r.code in counts]
    rows += [(code or "", code or "", n) for code, n in counts.items() if code not in REGIONS_BY_CODE]
    return _bars(rows)


def counts_by_desafio(user: User, convocatoria_id: int, filtros: Filtros) -> list[Conteo]:
    """Filtered submissions per challenge (one query), in the call's challenge order: the submissions are
    counted first and only the few totals are joined to their challenge."""
    counted = _filtered(
        sa.select(Postulacion.desafio_id, sa.func.count().label("n")).select_from(Postulacion),
        user, convocatoria_id, filtros).group_by(Postulacion.desafio_id).subquery()
    stmt = (sa.select(Desafio.id, Desafio.title, counted.c.n)
            .join(counted, counted.c.desafio_id == Desafio.id)
            .order_by(Desafio.position, Desafio.id))
    return _bars([(str(id_), title, count) for id_, title, count in db.session.execute(stmt)])



# --- one submission ---------------------------------------------------------------------------------

ACTIVITY_LIMIT = 30


def submission_for_staff(postulacion_id: int) -> Postulacion | None:
    """A submission with everything its staff page shows, in a fixed number of queries."""
    stmt = (sa.select(Postulacion).where(Postulacion.id == postulacion_id)
            .options(joinedload(Postulacion.convocatoria), joinedload(Postulacion.desafio),
                     joinedload(Postulacion.organizacion), selectinload(Postulacion.adjuntos),
                     selectinload(Postulacion.historial), selectinload(Postulacion.versiones)))
    return db.session.scalars(stmt).unique().one_or_none()


def submission_activity(p: Postulacion) -> Sequence[EventoAuditoria]:
    """The latest audit events of the submission and of its attachments, newest first (actors joined)."""
    adjunto_ids = [str(a.id) for a in p.adjuntos]
    about = sa.and_(EventoAuditoria.object_type == "Postulacion", EventoAuditoria.object_id == str(p.id))
    if adjunto_ids:
        about = sa.or_(about, sa.and_(EventoAuditoria.object_type == "Adjunto",
                                      EventoAuditoria.object_id.in_(adjunto_ids)))
    stmt = (sa.select(EventoAuditoria).where(about)
            .order_by(EventoAuditoria.created_at.desc(), EventoAuditoria.id.desc()).limit(ACTIVITY_LIMIT))
    return db.session.scalars(stmt).unique().all()
