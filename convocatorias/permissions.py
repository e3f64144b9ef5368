"""Who may see, change and download which submission: questions with answers the tests can check.

The applicant who owns the organisation sees and (until the deadline) changes their submissions. Staff see
sent submissions, never drafts: the admin all of them, a technical lead those of the calls and regions in
their scope.
Nobody else learns that a submission exists (the views answer 404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from convocatorias.models import Adjunto, EstadoPostulacion, Postulacion
from idea.models import Role

# States in which the applicant may still change the profile and its attachments (before the deadline).
EDITABLE_STATES = frozenset({EstadoPostulacion.BORRADOR, EstadoPostulacion.ENVIADA})


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_owner(user: Any, p: Postulacion) -> bool:
    """Whether `user` owns the organisation the submission belongs to."""
    return _authenticated(user) and p.organizacion.owner_id == user.id


def is_staff_for(user: Any, p: Postulacion) -> bool:
    """Whether `user` is staff in scope of this submission.

    Drafts stay private to their owner, for every staff role including the admin. In DESIGN terms: staff
    work on *submitted* ideas (admissibility, scoring, selection come after the sending); the admin
    (coordinación) "manages calls, challenges, users, roles, catalogues", which needs no unsent work; and
    an applicant's draft is not yet part of the call, so no one but its author reads it (the lead list and
    exports leave drafts out for the same reason). Once sent, the admin sees every submission and a
    technical lead those of the calls and regions in their scope.
    """
    if not _authenticated(user) or p.status == EstadoPostulacion.BORRADOR:
        return False
    if user.is_admin:
        return True
    if p.region is None:
        return False
    return user.has_role(Role.ENCARGADO_TECNICO, convocatoria_id=p.convocatoria_id, region=p.region)


def can_view_postulacion(user: Any, p: Postulacion) -> bool:
    return is_owner(user, p) or is_staff_for(user, p)


def within_deadline(p: Postulacion, now: datetime) -> bool:
    """Whether the call of `p` still takes submissions and edits at `now`."""
    return p.convocatoria.is_published and p.convocatoria.accepts_submissions_at(now)


def can_edit_postulacion(user: Any, p: Postulacion, now: datetime) -> bool:
    """Only the owner, only a draft or a sent submission, only until the call's deadline."""
    return is_owner(user, p) and p.status in EDITABLE_STATES and within_deadline(p, now)


def can_withdraw_postulacion(user: Any, p: Postulacion, now: datetime) -> bool:
    return is_owner(user, p) and p.status == EstadoPostulacion.ENVIADA and within_deadline(p, now)


def can_delete_postulacion(user: Any, p: Postulacion) -> bool:
    """A draft may be deleted by its owner at any time: it was never sent."""
    return is_owner(user, p) and p.status == EstadoPostulacion.BORRADOR


def can_download_adjunto(user: Any, adjunto: Adjunto) -> bool:
    return can_view_postulacion(user, adjunto.postulacion)


def can_manage_adjuntos(user: Any, p: Postulacion, now: datetime) -> bool:
    """Uploading and deleting attachments follows the edit rule."""
    return can_edit_postulacion(user, p, now)
