"""Plugs the mentoring into the app: its blueprint, navigation, start card, audit labels, reminders and
demo data (called from pilotos.init_app, after the training's own hooks)."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ACTIONS = {
    "mentor.created": _l("Added a mentor to the directory"),
    "mentor.updated": _l("Edited a mentor of the directory"),
    "mentor.removed": _l("Removed a mentor from the directory"),
    "mentor.conflict": _l("Declared a mentor's conflict of interest"),
    "mentor.conflict_removed": _l("Removed a mentor's conflict of interest"),
    "mentoria.confirmed": _l("Confirmed a team's mentor"),
    "mentoria.ended": _l("Ended a mentoring"),
    "mentoria.session": _l("Logged a mentoring session"),
    "mentoria.comment": _l("Commented on a mentoring session"),
}

FIELDS = {
    "mentor_id": _l("Mentor"),
    "start_date": _l("Start date"),
    "held_on": _l("Date"),
    "duration_minutes": _l("Duration (minutes)"),
    "rut": _l("RUT"),
    "tags": _l("Expertise"),
    "sesion_id": _l("Session"),
}


def _is_mentor(user: Any) -> bool:
    from idea.models import Role

    return bool(user.is_authenticated) and any(a.role == Role.MENTOR for a in user.roles)


def _nav(user: Any) -> list[dict[str, str]]:
    return [{"url": url_for("pilotos_mentoria.mine"), "label": _("My mentoring")}] if _is_mentor(user) else []


def _start(user: Any) -> list[dict[str, Any]]:
    from idea.models import Role

    if not _is_mentor(user):
        return []
    return [
        {
            "url": url_for("pilotos_mentoria.mine"),
            "label": _("My mentoring"),
            "role": Role.MENTOR,
            "description": _("Your teams' 8-week plans: log each session from your phone."),
        }
    ]


def _mentors(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    import sqlalchemy as sa

    from idea.extensions import db
    from idea.models import User
    from pilotos.mentoria_models import Mentor

    rows = db.session.execute(
        sa.select(Mentor.id, User.name)
        .join(User, User.id == Mentor.user_id)
        .where(Mentor.id.in_([int(i) for i in ids if i.isdigit()]))
    )
    return {str(id_): (name, url_for("pilotos_mentoria.edit_mentor", mentor_id=id_)) for id_, name in rows}


def init_app(app: Flask) -> None:
    from idea import add_nav_provider, add_start_provider, audit
    from pilotos import mentoria_models, mentoria_reminders, mentoria_seed, mentoria_views  # noqa: F401

    app.register_blueprint(mentoria_views.bp)
    add_nav_provider(app, _nav)
    add_start_provider(app, _start)
    audit.register_labels(app, actions=ACTIONS, fields=FIELDS, objects={"Mentor": (_l("Mentor"), _mentors)})
    mentoria_reminders.connect()  # weeks without a session in `flask send-reminders`
    mentoria_seed.connect()  # `flask seed-demo`: mentors with teams of the training call
