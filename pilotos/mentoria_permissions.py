"""Who may see and do what in the mentoring: a mentor only their own teams' mentoring, a team only its
own, leads their call's teams in their regions; the directory is edited by admins and leads of every
region."""

from __future__ import annotations

from typing import Any

from idea.models import Role
from pilotos.mentoria_models import Mentoria
from pilotos.permissions import can_manage_team, is_member


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def can_edit_directory(user: Any) -> bool:
    """Admins and technical leads not bound to a region or a call (the directory serves every call)."""
    if not _authenticated(user):
        return False
    return any(
        a.role == Role.ADMIN
        or (a.role == Role.ENCARGADO_TECNICO and a.region is None and a.convocatoria_id is None)
        for a in user.roles
    )


def can_see_directory(user: Any) -> bool:
    return _authenticated(user) and user.has_any_role(Role.ENCARGADO_TECNICO)


def is_mentor_of(user: Any, mentoria: Mentoria) -> bool:
    return _authenticated(user) and mentoria.mentor.user_id == user.id


def can_see_mentoria(user: Any, mentoria: Mentoria) -> bool:
    """The mentor, the team's members, and the leads of the team's call and region."""
    return (
        is_mentor_of(user, mentoria)
        or is_member(user, mentoria.equipo)
        or can_manage_team(user, mentoria.equipo)
    )


def can_log_session(user: Any, mentoria: Mentoria) -> bool:
    return is_mentor_of(user, mentoria)


def can_comment(user: Any, mentoria: Mentoria) -> bool:
    return is_mentor_of(user, mentoria) or is_member(user, mentoria.equipo)
