"""Admissibility: the call's checklist, the lead's decisions, the applicant's reconsideration, the guard.

Operations take the actor explicitly, check the rules, change the rows, add a status history entry, record
an audit event and queue the applicant's e-mail; none commits. A refusal raises AdmisibilidadError with a
message for the user (nothing is written before every check has passed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from convocatorias import lead_queries, permissions
from convocatorias.admisibilidad_models import (
    DecisionAdmisibilidad,
    Reconsideracion,
    RequisitoAdmisibilidad,
)
from convocatorias.models import CambioEstado, Convocatoria, EstadoPostulacion, Fase, Postulacion
from convocatorias.operations import fase_change_requested
from idea import audit, chile
from idea.extensions import db
from idea.mail import external_url, send_email_to
from idea.models import User

RECONSIDERATION_BUSINESS_DAYS = 5
MAX_REQUISITOS = 30
MAX_REQUISITO_LENGTH = 300
MAX_TEXT_LENGTH = 5000

ENVIADA = EstadoPostulacion.ENVIADA
ADMISIBLE = EstadoPostulacion.ADMISIBLE
INADMISIBLE = EstadoPostulacion.INADMISIBLE


class AdmisibilidadError(ValueError):
    """A refused admissibility action, with a message meant for the user and the form field it concerns."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- checklist ---------------------------------------------------------------------------------------

def requisitos_of(convocatoria_id: int) -> list[RequisitoAdmisibilidad]:
    return list(db.session.scalars(
        sa.select(RequisitoAdmisibilidad).where(RequisitoAdmisibilidad.convocatoria_id == convocatoria_id)
        .order_by(RequisitoAdmisibilidad.position, RequisitoAdmisibilidad.id)))


def replace_requisitos(actor: User, convocatoria: Convocatoria, texts: Iterable[str]) -> bool:
    """Set the call's checklist (one requirement per text, in order) while the call is a draft."""
    if convocatoria.fase != Fase.BORRADOR or convocatoria.is_published:
        raise AdmisibilidadError(_("The admissibility checklist can only be changed while the call is a "
                                   "draft."))
    wanted = [" ".join(text.split()) for text in texts]
    wanted = [text for text in wanted if text]
    if not wanted:
        raise AdmisibilidadError(_("Write at least one requirement."), "requisitos")
    if len(wanted) > MAX_REQUISITOS:
        raise AdmisibilidadError(_("Write at most %(num)d requirements.", num=MAX_REQUISITOS), "requisitos")
    if any(len(text) > MAX_REQUISITO_LENGTH for text in wanted):
        raise AdmisibilidadError(_("Each requirement can have at most %(num)d characters.",
                                   num=MAX_REQUISITO_LENGTH), "requisitos")
    rows = requisitos_of(convocatoria.id)
    before = [row.text for row in rows]
    if before == wanted:
        return False
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    db.session.add_all(RequisitoAdmisibilidad(convocatoria_id=convocatoria.id, position=i, text=text)
                       for i, text in enumerate(wanted))
    db.session.flush()
    audit.record(actor, "admisibilidad.requisitos_updated", convocatoria,
                 before={"requisitos": before}, after={"requisitos": wanted})
    return True


# --- read side ---------------------------------------------------------------------------------------

def decision_of(p: Postulacion) -> DecisionAdmisibilidad | None:
    return db.session.scalar(
        sa.select(DecisionAdmisibilidad).where(DecisionAdmisibilidad.postulacion_id == p.id))


def reconsideracion_of(p: Postulacion) -> Reconsideracion | None:
    return db.session.scalar(sa.select(Reconsideracion).where(Reconsideracion.postulacion_id == p.id))


def decisions_by_postulacion(ids: Sequence[int]) -> dict[int, DecisionAdmisibilidad]:
    """The decisions of a page of submissions in one query (so a longer page adds no queries)."""
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(DecisionAdmisibilidad)
                              .where(DecisionAdmisibilidad.postulacion_id.in_(ids)))
    return {row.postulacion_id: row for row in rows}


def reconsideraciones_by_postulacion(ids: Sequence[int]) -> dict[int, Reconsideracion]:
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(Reconsideracion).where(Reconsideracion.postulacion_id.in_(ids)))
    return {row.postulacion_id: row for row in rows}


def pending_clause() -> sa.ColumnElement[bool]:
    """Submissions that still need the lead: sent without a decision, or with a reconsideration unanswered."""
    unanswered = sa.select(Reconsideracion.postulacion_id).where(Reconsideracion.answered_at.is_(None))
    return sa.or_(Postulacion.status == ENVIADA, Postulacion.id.in_(unanswered))


def pending_counts(convocatoria_id: int) -> tuple[int, int]:
    """(sent submissions without a decision, reconsiderations waiting for an answer) of a call."""
    undecided = db.session.scalar(sa.select(sa.func.count(Postulacion.id)).where(
        Postulacion.convocatoria_id == convocatoria_id, Postulacion.status == ENVIADA)) or 0
    unanswered = db.session.scalar(
        sa.select(sa.func.count(Reconsideracion.id)).join(Reconsideracion.postulacion).where(
            Postulacion.convocatoria_id == convocatoria_id, Reconsideracion.answered_at.is_(None))) or 0
    return undecided, unanswered


def reconsideration_deadline(decision: DecisionAdmisibilidad) -> datetime:
    """The end (UTC) of the 5th Chilean business day after the refusal was notified."""
    return chile.business_deadline(decision.decided_at, RECONSIDERATION_BUSINESS_DAYS)


# --- permissions -------------------------------------------------------------------------------------

def can_decide(user: Any, p: Postulacion) -> bool:
    """A technical lead (or admin) in scope of the submission's call and region; never its applicant."""
    return (permissions.is_staff_for(user, p) and p.status != EstadoPostulacion.BORRADOR
            and user.has_any_role(*lead_queries.LEAD_ROLES))


@dataclass(frozen=True)
class EstadoAdmisibilidad:
    """What the applicant's page says about admissibility."""

    decision: DecisionAdmisibilidad | None
    reconsideracion: Reconsideracion | None
    deadline: datetime | None
    can_request: bool


def estado_para_postulante(user: Any, p: Postulacion, now: datetime | None = None) -> EstadoAdmisibilidad:
    now = now or chile.utcnow()
    decision = decision_of(p) if p.status in (ADMISIBLE, INADMISIBLE) else None
    rec = reconsideracion_of(p) if decision is not None else None
    refused = decision is not None and not decision.admissible
    deadline = reconsideration_deadline(decision) if refused and decision is not None else None
    can_request = (deadline is not None and rec is None and now <= deadline and p.status == INADMISIBLE
                   and permissions.is_owner(user, p))
    return EstadoAdmisibilidad(decision, rec, deadline, can_request)


# --- decisions ---------------------------------------------------------------------------------------

def _clean_text(text: str | None, field: str, missing: str) -> str:
    value = (text or "").strip()
    if not value:
        raise AdmisibilidadError(missing, field)
    if len(value) > MAX_TEXT_LENGTH:
        raise AdmisibilidadError(_("Write at most %(num)d characters.", num=MAX_TEXT_LENGTH), field)
    return value


def _owner(p: Postulacion) -> User:
    return p.organizacion.owner


def _status(p: Postulacion, actor: User, to_status: EstadoPostulacion, note: str, now: datetime) -> None:
    p.historial.append(CambioEstado(from_status=p.status, to_status=to_status, actor_id=actor.id, note=note,
                                    created_at=now))
    p.status = to_status


def decide(actor: User, p: Postulacion, *, admissible: bool, requisito_ids: Iterable[int] = (),
           reason: str | None = None, now: datetime | None = None) -> DecisionAdmisibilidad:
    """Mark a sent submission admissible or not; a refusal names the unmet requirements and a reason."""
    now = now or chile.utcnow()
    if not can_decide(actor, p):
        raise PermissionError("only a technical lead in scope decides admissibility")
    if p.convocatoria.fase != Fase.ADMISIBILIDAD:
        raise AdmisibilidadError(_("Admissibility can only be decided while the call is in its admissibility "
                                   "phase."))
    if p.status != ENVIADA:
        raise AdmisibilidadError(_("This submission already has an admissibility decision (or is not a sent "
                                   "submission)."))
    incumplidos: list[RequisitoAdmisibilidad] = []
    note_reason = None
    if not admissible:
        requisitos = {r.id: r for r in requisitos_of(p.convocatoria_id)}
        wanted = set(requisito_ids)
        if not wanted <= requisitos.keys():
            raise AdmisibilidadError(_("Choose requirements from the call's checklist."), "requisitos")
        if requisitos and not wanted:
            raise AdmisibilidadError(_("Mark at least one unmet requirement."), "requisitos")
        incumplidos = [r for r in requisitos.values() if r.id in wanted]
        incumplidos.sort(key=lambda r: r.position)
        note_reason = _clean_text(reason, "reason", _("Write the reason for the refusal."))
    decision = DecisionAdmisibilidad(postulacion_id=p.id, admissible=admissible, reason=note_reason,
                                     decided_at=now, decided_by_id=actor.id, incumplidos=incumplidos)
    try:
        with db.session.begin_nested():
            db.session.add(decision)
            db.session.flush()
    except IntegrityError as exc:  # another lead decided the same submission at the same moment
        raise AdmisibilidadError(_("This submission already has an admissibility decision.")) from exc
    unmet = [r.text for r in incumplidos]
    if admissible:
        _status(p, actor, ADMISIBLE, _("Admissible."), now)
    else:
        note = _("Not admissible. Unmet requirements: %(unmet)s. Reason: %(reason)s",
                 unmet="; ".join(unmet) or "—", reason=note_reason)
        _status(p, actor, INADMISIBLE, note, now)
    db.session.flush()
    audit.record(actor, "admisibilidad.decided", p, before={"status": ENVIADA.value},
                 after={"status": p.status.value, "admissible": admissible, "incumplidos": unmet,
                        "reason": note_reason})
    owner = _owner(p)
    send_email_to(owner, _l("Admissibility of your idea %(folio)s", folio=p.folio),
                  "admisibilidad_resultado",
                  postulacion=p, decision=decision, incumplidos=unmet,
                  deadline=None if admissible else reconsideration_deadline(decision),
                  link=external_url("convocatorias_applicant.detail", postulacion_id=p.id))
    return decision


def decide_all_admissible(actor: User, postulaciones: Iterable[Postulacion],
                          now: datetime | None = None) -> int:
    """Bulk action: mark admissible every given submission still waiting for a decision; returns how many."""
    now = now or chile.utcnow()
    done = 0
    for p in postulaciones:
        if p.status == ENVIADA and can_decide(actor, p):
            decide(actor, p, admissible=True, now=now)
            done += 1
    return done


# --- reconsideration ---------------------------------------------------------------------------------

def _asked_twice() -> str:
    return _("You already asked for reconsideration of this submission; it can be asked only once.")


def request_reconsideration(actor: User, p: Postulacion, text: str | None,
                            now: datetime | None = None) -> Reconsideracion:
    """The refused applicant asks once, within 5 Chilean business days of the notice, to reconsider."""
    now = now or chile.utcnow()
    if not permissions.is_owner(actor, p):
        raise PermissionError("only the applicant may ask for reconsideration")
    decision = decision_of(p)
    if p.status != INADMISIBLE or decision is None or decision.admissible:
        raise AdmisibilidadError(_("Only a submission declared not admissible can ask for reconsideration."))
    if reconsideracion_of(p) is not None:
        raise AdmisibilidadError(_asked_twice())
    deadline = reconsideration_deadline(decision)
    if now > deadline:
        raise AdmisibilidadError(_("The period to ask for reconsideration ended on %(date)s (5 business days "
                                   "after the notice).", date=chile.format_datetime_es(deadline)))
    body = _clean_text(text, "text", _("Write why the decision should be reconsidered."))
    rec = Reconsideracion(postulacion_id=p.id, decision_id=decision.id, text=body, asked_at=now,
                          asked_by_id=actor.id)
    try:
        with db.session.begin_nested():
            db.session.add(rec)
            db.session.flush()
    except IntegrityError as exc:  # a second tab sent the same request at the same moment
        raise AdmisibilidadError(_asked_twice()) from exc
    p.historial.append(CambioEstado(from_status=p.status, to_status=p.status, actor_id=actor.id,
                                    created_at=now, note=_("Reconsideration requested: %(text)s", text=body)))
    db.session.flush()
    audit.record(actor, "admisibilidad.reconsideration_requested", p, after={"text": body})
    return rec


def answer_reconsideration(actor: User, rec: Reconsideracion, *, accept: bool, answer: str | None,
                           now: datetime | None = None) -> None:
    """The lead accepts (the submission becomes admissible) or rejects a reconsideration, with a reason."""
    now = now or chile.utcnow()
    p = rec.postulacion
    if not can_decide(actor, p):
        raise PermissionError("only a technical lead in scope answers a reconsideration")
    if not rec.is_pending:
        raise AdmisibilidadError(_("This reconsideration has already been answered."))
    body = _clean_text(answer, "answer", _("Write the reason for your answer."))
    rec.accepted, rec.answer, rec.answered_at, rec.answered_by_id = accept, body, now, actor.id
    if accept:
        _status(p, actor, ADMISIBLE, _("Reconsideration accepted: %(text)s", text=body), now)
    else:
        note = _("Reconsideration rejected: %(text)s", text=body)
        p.historial.append(CambioEstado(from_status=p.status, to_status=p.status, actor_id=actor.id,
                                        created_at=now, note=note))
    db.session.flush()
    audit.record(actor, "admisibilidad.reconsideration_answered", p,
                 before={"status": INADMISIBLE.value, "request": rec.text},
                 after={"status": p.status.value, "accepted": accept, "answer": body})
    send_email_to(_owner(p), _l("Answer to your request for reconsideration: %(folio)s", folio=p.folio),
                  "reconsideracion_respuesta", postulacion=p, reconsideracion=rec,
                  link=external_url("convocatorias_applicant.detail", postulacion_id=p.id))


# --- phase guard -------------------------------------------------------------------------------------

def _guard(convocatoria: Convocatoria, target: Any = None, **_extra: Any) -> str | None:
    """Veto leaving admissibility while a sent submission has no decision or a reconsideration waits."""
    if convocatoria.fase != Fase.ADMISIBILIDAD:
        return None
    undecided, unanswered = pending_counts(convocatoria.id)
    if not undecided and not unanswered:
        return None
    link = external_url("convocatorias_admisibilidad.lista", convocatoria_id=convocatoria.id,
                         pendientes=1)
    return _("The call cannot leave admissibility: %(undecided)d sent submission(s) without a decision and "
             "%(unanswered)d reconsideration(s) without an answer. See them at %(link)s",
             undecided=undecided, unanswered=unanswered, link=link)


def connect() -> None:
    fase_change_requested.connect(_guard)
