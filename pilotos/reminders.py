"""Workshop reminders: the day before a workshop, an e-mail to every member of each registered team.

Run by `flask send-reminders` (its `reminders_requested` signal). Each reminder is a `RecordatorioTaller`
row with a unique (workshop, person) key inserted before its e-mail is queued: a rerun sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from convocatorias import reminders as draft_reminders
from idea import chile
from idea.extensions import db
from idea.mail import external_url, send_email_to
from idea.models import User
from pilotos.models import Equipo, InscripcionTaller, MiembroEquipo, RecordatorioTaller, Taller

WINDOW = timedelta(hours=24)


def due(now: datetime) -> list[tuple[Taller, Equipo, User]]:
    """(workshop, team, member) for workshops starting within the next 24 hours, one query."""
    stmt = (
        sa.select(Taller, Equipo, User)
        .join(InscripcionTaller, InscripcionTaller.taller_id == Taller.id)
        .join(Equipo, Equipo.id == InscripcionTaller.equipo_id)
        .join(MiembroEquipo, MiembroEquipo.equipo_id == Equipo.id)
        .join(User, User.id == MiembroEquipo.user_id)
        .where(Taller.starts_at > now, Taller.starts_at <= now + WINDOW)
        .order_by(Taller.id, Equipo.id, User.id)
    )
    return [tuple(row) for row in db.session.execute(stmt)]  # type: ignore[misc]


def _claim(taller_id: int, user_id: int, now: datetime) -> bool:
    values = {"taller_id": taller_id, "user_id": user_id, "sent_at": now}
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(RecordatorioTaller)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["taller_id", "user_id"])
        .returning(RecordatorioTaller.id)
    )
    return db.session.execute(stmt).first() is not None


def send_workshop_reminders(now: datetime | None = None) -> int:
    """Queue the workshop reminders due at `now`; return how many. Never commits."""
    now = now or chile.utcnow()
    count = 0
    for taller, equipo, user in due(now):
        if not _claim(taller.id, user.id, now):
            continue
        send_email_to(
            user,
            _l("Tomorrow: workshop %(title)s", title=taller.title),
            "taller_recordatorio",
            taller=taller,
            equipo=equipo,
            starts=chile.format_datetime_es(taller.starts_at),
            link=external_url("pilotos_equipo.home", equipo_id=equipo.id),
            ics=external_url("pilotos_equipo.calendar", taller_id=taller.id),
        )
        count += 1
    return count


def _on_reminders(_sender: Any, now: datetime | None = None, **_kwargs: Any) -> int:
    return send_workshop_reminders(now)


def connect() -> None:
    draft_reminders.reminders_requested.connect(_on_reminders, weak=False)
