"""Deadline reminders for drafts (72 h and 24 h before the call closes) and `flask send-reminders`.

Meant to run from cron every hour. Each reminder is a `Recordatorio` row with a unique (submission, kind) key
inserted before its e-mail is queued, so a rerun (or two overlapping runs) never sends one twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from blinker import Namespace
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from convocatorias.models import Convocatoria, EstadoPostulacion, Fase, Postulacion, Recordatorio
from idea import chile
from idea.extensions import db
from idea.jobs import commit
from idea.mail import external_url, send_email_to

# Reminder kinds, from the earliest: a draft gets the latest kind whose window it is in.
WINDOWS: tuple[tuple[str, timedelta], ...] = (("24h", timedelta(hours=24)), ("72h", timedelta(hours=72)))

# Other packages add their own reminders to `flask send-reminders`: a receiver gets (app, now=) and returns
# how many it queued (e.g. evaluacion's scoring-deadline reminders).
reminders_requested = Namespace().signal("reminders-requested")


def reminder_kind(closes_at: datetime, now: datetime) -> str | None:
    """The reminder due for a draft of a call closing at `closes_at`: "24h", "72h" or None."""
    if closes_at <= now:
        return None
    for kind, window in WINDOWS:
        if closes_at - now <= window:
            return kind
    return None


def draft_url(postulacion: Postulacion) -> str:
    return external_url("convocatorias_applicant.edit", postulacion_id=postulacion.id)


def due_drafts(now: datetime) -> list[Postulacion]:
    """Drafts of calls taking submissions whose deadline is at most 72 h away (and not past)."""
    stmt = (
        sa.select(Postulacion)
        .join(Postulacion.convocatoria)
        .where(
            Postulacion.status == EstadoPostulacion.BORRADOR,
            Convocatoria.fase == Fase.POSTULACION,
            Convocatoria.published_at.is_not(None),
            Convocatoria.submissions_close_at > now,
            Convocatoria.submissions_close_at <= now + WINDOWS[-1][1],
        )
        .options(joinedload(Postulacion.convocatoria), joinedload(Postulacion.created_by))
        .order_by(Postulacion.id)
    )
    return list(db.session.scalars(stmt))


def _send(postulacion: Postulacion, kind: str) -> None:
    user = postulacion.created_by
    convocatoria = postulacion.convocatoria
    send_email_to(
        user,
        _l("Your draft for %(call)s closes soon", call=convocatoria.title),
        "draft_reminder",
        postulacion=postulacion, convocatoria=convocatoria, kind=kind,
        deadline=chile.format_datetime_es(convocatoria.submissions_close_at),
        link=draft_url(postulacion),
    )


def _claim(postulacion_id: int, kind: str, now: datetime) -> bool:
    """Insert the reminder row unless it exists (checked by the unique key, safe against a parallel run)."""
    values = {"postulacion_id": postulacion_id, "kind": kind, "sent_at": now}
    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        db.session.add(Recordatorio(**values))
        db.session.flush()
        return True
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (insert(Recordatorio).values(**values)
            .on_conflict_do_nothing(index_elements=["postulacion_id", "kind"])
            .returning(Recordatorio.id))
    return db.session.execute(stmt).first() is not None


def send_draft_reminders(now: datetime | None = None) -> int:
    """Queue the reminders due at `now` (default: the current time); return how many. Never commits."""
    now = now or chile.utcnow()
    drafts = due_drafts(now)
    if not drafts:
        return 0
    sent = {(row.postulacion_id, row.kind) for row in db.session.execute(
        sa.select(Recordatorio.postulacion_id, Recordatorio.kind)
        .where(Recordatorio.postulacion_id.in_([p.id for p in drafts])))}
    count = 0
    for postulacion in drafts:
        kind = reminder_kind(postulacion.convocatoria.submissions_close_at, now)
        if kind is None or (postulacion.id, kind) in sent:
            continue
        if not _claim(postulacion.id, kind, now):
            continue  # another run got there first
        _send(postulacion, kind)
        count += 1
    return count


def register_cli(app: Flask) -> None:
    @app.cli.command("send-reminders")
    def send_reminders_command() -> None:
        """Send the deadline reminders due now: drafts to applicants, evaluations to reviewers (hourly)."""
        now = chile.utcnow()
        count = send_draft_reminders(now)
        for _receiver, queued in reminders_requested.send(current_app._get_current_object(), now=now):
            count += queued or 0
        commit()
        click.echo(f"Recordatorios enviados: {count}")
