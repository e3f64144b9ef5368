"""Who may score, see and manage which evaluation: questions with answers the tests can check."""

from __future__ import annotations

from typing import Any

from convocatorias import lead_queries
from convocatorias.models import Convocatoria
from convocatorias.permissions import is_staff_for
from evaluacion.models import Asignacion, EstadoAsignacion
from idea.models import Role


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_reviewer_of(user: Any, convocatoria_id: int) -> bool:
    """Holds the reviewer role itself (not through admin) for this call or for every call."""
    return _authenticated(user) and any(
        a.role == Role.EVALUADOR and a.convocatoria_id in (None, convocatoria_id) for a in user.roles
    )


def can_open_assignment(user: Any, asignacion: Asignacion) -> bool:
    """Only the assigned reviewer, only while the assignment stands (training is checked separately)."""
    return (
        _authenticated(user)
        and asignacion.user_id == user.id
        and asignacion.status != EstadoAsignacion.RETIRADA
        and is_reviewer_of(user, asignacion.convocatoria_id)
    )


def can_lead(user: Any, convocatoria: Convocatoria) -> bool:
    """Whether `user` may open the evaluation dashboard of this call (admins and leads in its scope)."""
    return _authenticated(user) and lead_queries.can_view_call(user, convocatoria)


def can_lead_whole_call(user: Any, convocatoria: Convocatoria) -> bool:
    """A lead of the whole call (no region binding): may write the calibration example and run assignment."""
    return can_lead(user, convocatoria) and lead_queries.regions_in_scope(user, convocatoria.id) is None


def can_manage_assignment(user: Any, asignacion: Asignacion) -> bool:
    """Leads act on an assignment whose submission is in their scope (a Biobío lead on Biobío only)."""
    return is_staff_for(user, asignacion.postulacion)


def can_edit_rubric(user: Any) -> bool:
    return _authenticated(user) and user.is_admin
