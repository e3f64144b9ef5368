"""Late-report reminders: every member of a pilot's team gets an e-mail about each late report (past its
due date and not with the lead), at most once a week per report. Run by `flask send-reminders` (its
`reminders_requested` signal). A report is claimed by moving its `reminded_at` forward in one conditional
UPDATE before the e-mails are queued (through the job queue), so a rerun or an overlapping run sends nothing
twice within the week."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from convocatorias import reminders as draft_reminders
from idea import chile
from idea.extensions import db
from idea.mail import external_url, send_email_to
from idea.models import User
from pilotos.ejecucion import EDITABLE, REMIND_EVERY, today_cl
from pilotos.ejecucion_models import EstadoPiloto, Piloto, ReportePiloto
from pilotos.models import MiembroEquipo


def late_reports(now: datetime) -> list[ReportePiloto]:
    """Late reports of pilots in execution not reminded within the week, one query."""
    stmt = (
        sa.select(ReportePiloto)
        .join(Piloto, Piloto.id == ReportePiloto.piloto_id)
        .where(
            Piloto.status == EstadoPiloto.EN_EJECUCION,
            ReportePiloto.status.in_(EDITABLE),
            ReportePiloto.due_on < today_cl(now),
            sa.or_(ReportePiloto.reminded_at.is_(None), ReportePiloto.reminded_at <= now - REMIND_EVERY),
        )
        .options(joinedload(ReportePiloto.piloto))
        .order_by(ReportePiloto.id)
    )
    return list(db.session.scalars(stmt))


def _claim(reporte: ReportePiloto, now: datetime) -> bool:
    stmt = (
        sa.update(ReportePiloto)
        .where(
            ReportePiloto.id == reporte.id,
            sa.or_(ReportePiloto.reminded_at.is_(None), ReportePiloto.reminded_at <= now - REMIND_EVERY),
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


def send_late_report_reminders(now: datetime | None = None) -> int:
    """Queue the reminders of late reports; return how many e-mails. Never commits."""
    now = now or chile.utcnow()
    reportes = late_reports(now)
    if not reportes:
        return 0
    members: dict[int, list[User]] = {}
    rows = db.session.execute(
        sa.select(MiembroEquipo.equipo_id, User)
        .join(User, User.id == MiembroEquipo.user_id)
        .where(MiembroEquipo.equipo_id.in_({r.piloto.equipo_id for r in reportes}))
        .order_by(User.id)
    )
    for equipo_id, user in rows:
        members.setdefault(equipo_id, []).append(user)
    count = 0
    for reporte in reportes:
        if not _claim(reporte, now):
            continue
        piloto = reporte.piloto
        for user in members.get(piloto.equipo_id, []):
            send_email_to(
                user,
                _l("Pilot %(pilot)s: report %(number)d is late", pilot=piloto.name, number=reporte.number),
                "reporte_atrasado",
                piloto=piloto,
                reporte=reporte,
                due=chile.format_date_es(reporte.due_on),
                link=external_url("pilotos_ejecucion.report", reporte_id=reporte.id),
            )
            count += 1
    return count


def _on_reminders(_sender: Any, now: datetime | None = None, **_kwargs: Any) -> int:
    return send_late_report_reminders(now)


def connect() -> None:
    draft_reminders.reminders_requested.connect(_on_reminders, weak=False)
