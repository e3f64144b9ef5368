"""E-mails to a team when the lead answers what it sent (a full form, a pilot's report, a systematization
sheet): sent back with the lead's comment, or accepted. Each member gets it in their own language; the texts
are lazy strings, translated when each e-mail is rendered."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from idea.extensions import db
from idea.mail import send_email_to
from idea.models import User
from pilotos.models import Equipo, MiembroEquipo


def notify_team(
    equipo: Equipo, subject: Any, lines: list[Any], *, comment: str = "", link: str, link_label: Any
) -> int:
    """Queue one e-mail per member of the team (through the job queue, after the commit); return how many."""
    members = db.session.scalars(
        sa.select(User)
        .join(MiembroEquipo, MiembroEquipo.user_id == User.id)
        .where(MiembroEquipo.equipo_id == equipo.id)
        .order_by(User.id)
    ).all()
    for user in members:
        send_email_to(
            user,
            subject,
            "equipo_revision",
            title=subject,
            lines=lines,
            comment=comment,
            link=link,
            link_label=link_label,
        )
    return len(members)
