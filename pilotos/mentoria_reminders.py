"""Mentoring reminders: when a week of a mentoring's plan ends without a session, its mentor gets one
e-mail. Run by `flask send-reminders` (its `reminders_requested` signal). Each (mentoring, week) is a
`RecordatorioMentoria` row with a unique key inserted before the e-mail is queued: a rerun sends nothing
twice, and a mentor gets one e-mail per week missed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from convocatorias import reminders as draft_reminders
from idea import chile
from idea.extensions import db
from idea.mail import external_url, send_email_to
from pilotos import mentoria as ops
from pilotos import mentoria_rules as rules
from pilotos.mentoria_models import EstadoMentoria, Mentor, Mentoria, RecordatorioMentoria


def _claim(mentoria_id: int, week: int, now: datetime) -> bool:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(RecordatorioMentoria)
        .values(mentoria_id=mentoria_id, week=week, sent_at=now)
        .on_conflict_do_nothing(index_elements=["mentoria_id", "week"])
        .returning(RecordatorioMentoria.id)
    )
    return db.session.execute(stmt).first() is not None


def send_mentoring_reminders(now: datetime | None = None) -> int:
    """Queue a reminder for each mentoring whose latest finished week had no session (once per week);
    return how many. Never commits."""
    now = now or chile.utcnow()
    today = chile.to_santiago(now).date()
    mentorias = list(
        db.session.scalars(
            sa.select(Mentoria)
            .where(Mentoria.status == EstadoMentoria.ACTIVA)
            .options(joinedload(Mentoria.mentor).joinedload(Mentor.user), joinedload(Mentoria.equipo))
            .order_by(Mentoria.id)
        ).unique()
    )
    estados = ops.estados(mentorias, today)
    count = 0
    for mentoria in mentorias:
        missed = estados[mentoria.id].missed
        if not missed:
            continue
        week = missed[-1]  # the latest: older weeks were reminded when they ended
        if not _claim(mentoria.id, week, now):
            continue
        slot = rules.plan(mentoria.start_date)[week - 1]
        send_email_to(
            mentoria.mentor.user,
            _l(
                "Mentoring of %(team)s: week %(week)d without a session", team=mentoria.equipo.name, week=week
            ),
            "mentoria_recordatorio",
            mentoria=mentoria,
            week=week,
            start=chile.format_date_es(slot.start),
            end=chile.format_date_es(slot.end),
            link=external_url("pilotos_mentoria.mentoria", mentoria_id=mentoria.id),
        )
        count += 1
    return count


def _on_reminders(_sender: Any, now: datetime | None = None, **_kwargs: Any) -> int:
    return send_mentoring_reminders(now)


def connect() -> None:
    draft_reminders.reminders_requested.connect(_on_reminders, weak=False)
