"""Scoring-deadline reminders to reviewers, 72 h and 24 h before the call's `evaluation_end_at`.

Run by `flask send-reminders` (through its `reminders_requested` signal). Each reminder is a
`RecordatorioEvaluacion` row with a unique (reviewer, call, kind) key inserted before its e-mail is queued, so
a rerun sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from convocatorias import reminders as draft_reminders
from convocatorias.models import Convocatoria, Fase
from evaluacion.models import Asignacion, EstadoAsignacion, RecordatorioEvaluacion
from idea import chile
from idea.extensions import db
from idea.mail import external_url, send_email_to
from idea.models import User


def due(now: datetime) -> list[tuple[User, Convocatoria, int]]:
    """(reviewer, call, unsubmitted count) for calls in `evaluacion` whose scoring deadline is at most 72 h
    away, one query."""
    window = draft_reminders.WINDOWS[-1][1]
    stmt = (
        sa.select(User, Convocatoria, sa.func.count(Asignacion.id))
        .select_from(Asignacion)
        .join(User, Asignacion.user_id == User.id)
        .join(Convocatoria, Asignacion.convocatoria_id == Convocatoria.id)
        .where(
            Convocatoria.fase == Fase.EVALUACION,
            Convocatoria.evaluation_end_at > now,
            Convocatoria.evaluation_end_at <= now + window,
            Asignacion.status.in_([EstadoAsignacion.PENDIENTE, EstadoAsignacion.BORRADOR]),
            Asignacion.released_at.is_(None),
        )
        .group_by(User.id, Convocatoria.id)
        .order_by(Convocatoria.id, User.id)
    )
    return [(user, call, count) for user, call, count in db.session.execute(stmt)]


def _claim(user_id: int, convocatoria_id: int, kind: str, now: datetime) -> bool:
    values = {"user_id": user_id, "convocatoria_id": convocatoria_id, "kind": kind, "sent_at": now}
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(RecordatorioEvaluacion)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "convocatoria_id", "kind"])
        .returning(RecordatorioEvaluacion.id)
    )
    return db.session.execute(stmt).first() is not None


def send_review_reminders(now: datetime | None = None) -> int:
    """Queue the reviewer reminders due at `now`; return how many. Never commits."""
    now = now or chile.utcnow()
    rows = due(now)
    count = 0
    # external_url() builds from PUBLIC_BASE_URL, so no request context is needed (the draft reminders' way).
    for user, convocatoria, pending in rows:
        kind = draft_reminders.reminder_kind(convocatoria.evaluation_end_at, now)
        if kind is None or not _claim(user.id, convocatoria.id, kind, now):
            continue
        send_email_to(
            user,
            _l("Evaluations for %(call)s are due soon", call=convocatoria.title),
            "review_reminder",
            convocatoria=convocatoria,
            kind=kind,
            pending=pending,
            deadline=chile.format_datetime_es(convocatoria.evaluation_end_at),
            link=external_url("evaluacion_reviewer.index"),
        )
        count += 1
    return count


def _on_reminders(_sender: Any, now: datetime | None = None, **_kwargs: Any) -> int:
    return send_review_reminders(now)


def connect() -> None:
    draft_reminders.reminders_requested.connect(_on_reminders, weak=False)
