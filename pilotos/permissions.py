"""Who may see and manage which team, workshop and module of the training phase."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from convocatorias import lead_queries
from convocatorias.models import Convocatoria
from evaluacion.permissions import can_lead, can_lead_whole_call
from idea.extensions import db
from pilotos.models import Equipo, MiembroEquipo, Taller


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_member(user: Any, equipo: Equipo) -> bool:
    if not _authenticated(user):
        return False
    return (
        db.session.scalar(
            sa.select(MiembroEquipo.id).where(
                MiembroEquipo.equipo_id == equipo.id, MiembroEquipo.user_id == user.id
            )
        )
        is not None
    )


def can_lead_call(user: Any, convocatoria: Convocatoria) -> bool:
    """Admins and technical leads of this call (a region-bound lead too, for their regions)."""
    return can_lead(user, convocatoria)


def regions_of(user: Any, convocatoria_id: int) -> list[str] | None:
    """The regions a lead works on in this call; None for every region."""
    return lead_queries.regions_in_scope(user, convocatoria_id)


def _region_in_scope(user: Any, convocatoria_id: int, region: str | None) -> bool:
    regions = regions_of(user, convocatoria_id)
    return regions is None or (region is not None and region in regions)


def can_manage_team(user: Any, equipo: Equipo) -> bool:
    return (
        _authenticated(user)
        and can_lead(user, equipo.convocatoria)
        and _region_in_scope(user, equipo.convocatoria_id, equipo.region)
    )


def can_see_team(user: Any, equipo: Equipo) -> bool:
    """Only the team's members, the admin and the leads of its call and region."""
    return is_member(user, equipo) or can_manage_team(user, equipo)


def can_manage_taller(user: Any, taller: Taller) -> bool:
    """A workshop for every region is managed by leads of the whole call; a regional one also by that
    region's lead."""
    return (
        _authenticated(user)
        and can_lead(user, taller.convocatoria)
        and _region_in_scope(user, taller.convocatoria_id, taller.region)
    )


def taller_open_to(taller: Taller, equipo: Equipo) -> bool:
    return taller.convocatoria_id == equipo.convocatoria_id and taller.region in (None, equipo.region)


def can_see_taller(user: Any, taller: Taller) -> bool:
    """Its managers and the members of a team it is open to."""
    if can_manage_taller(user, taller) or (
        _authenticated(user) and can_lead(user, taller.convocatoria) and taller.region is None
    ):
        return True
    if not _authenticated(user):
        return False
    stmt = (
        sa.select(Equipo.id)
        .join(MiembroEquipo, MiembroEquipo.equipo_id == Equipo.id)
        .where(MiembroEquipo.user_id == user.id, Equipo.convocatoria_id == taller.convocatoria_id)
    )
    if taller.region is not None:
        stmt = stmt.where(Equipo.region == taller.region)
    return db.session.scalar(stmt.limit(1)) is not None


def can_edit_modulos(user: Any, convocatoria: Convocatoria) -> bool:
    """Modules are written for the whole call: admins and leads of the whole call."""
    return can_lead_whole_call(user, convocatoria)
