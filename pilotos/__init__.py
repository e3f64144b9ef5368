"""Pilotos: training, mentoring, demo day, execution reports, systematization, learning repository."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


def _nav(user: Any) -> list[dict[str, str]]:
    from idea.models import Role
    from pilotos.team_views import my_teams

    links = []
    if user.is_authenticated and my_teams(user):
        links.append({"url": url_for("pilotos_equipo.index"), "label": _("My team")})
    if user.is_authenticated and user.has_any_role(Role.ENCARGADO_TECNICO):
        links.append({"url": url_for("pilotos_lead.index"), "label": _("Pilot training")})
    return links


def _start(user: Any) -> list[dict[str, Any]]:
    from idea.models import Role
    from pilotos.team_views import my_teams

    if not user.is_authenticated:
        return []
    cards: list[dict[str, Any]] = []
    if my_teams(user):
        cards.append(
            {
                "url": url_for("pilotos_equipo.index"),
                "label": _("My team"),
                "description": _("Your selected project's training: workshops, modules and team members."),
            }
        )
    if user.has_any_role(Role.ENCARGADO_TECNICO):
        cards.append(
            {
                "url": url_for("pilotos_lead.index"),
                "label": _("Pilot training"),
                "role": Role.ENCARGADO_TECNICO,
                "description": _(
                    "Teams of the selected projects, workshops with attendance, and training modules."
                ),
            }
        )
    return cards


ACTIONS = {
    "equipo.created": _l("Created the teams of the selected projects"),
    "equipo.invited": _l("Invited someone to a team"),
    "equipo.joined": _l("Joined a team"),
    "taller.created": _l("Created a workshop"),
    "taller.updated": _l("Edited a workshop"),
    "taller.deleted": _l("Deleted a workshop"),
    "taller.registered": _l("Registered a team for a workshop"),
    "taller.unregistered": _l("Cancelled a team's workshop registration"),
    "taller.attendance": _l("Took a workshop's attendance"),
    "modulo.created": _l("Created a training module"),
    "modulo.updated": _l("Edited a training module"),
    "modulo.deleted": _l("Deleted a training module"),
    "modulo.progress": _l("Updated a team's module checklist"),
    "formulario.saved": _l("Saved a draft of the full form"),
    "formulario.sent": _l("Sent the full form"),
    "formulario.returned": _l("Sent the full form back for changes"),
    "formulario.accepted": _l("Accepted the full form"),
}


FIELDS = {
    "topic": _l("Topic"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "place": _l("Place"),
    "online_url": _l("Online link"),
    "capacity": _l("Capacity (teams)"),
    "equipo_id": _l("Team"),
    "present": _l("Teams present"),
    "comment": _l("Comment"),
}


def _ints(ids: list[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit()]


def _equipos(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    import sqlalchemy as sa

    from idea.extensions import db
    from pilotos.models import Equipo

    rows = db.session.execute(sa.select(Equipo.id, Equipo.name).where(Equipo.id.in_(_ints(ids))))
    return {str(id_): (name, url_for("pilotos_equipo.home", equipo_id=id_)) for id_, name in rows}


def _talleres(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    import sqlalchemy as sa

    from idea.extensions import db
    from pilotos.models import Taller

    rows = db.session.execute(
        sa.select(Taller.id, Taller.title, Taller.convocatoria_id).where(Taller.id.in_(_ints(ids)))
    )
    return {
        str(id_): (title, url_for("pilotos_lead.edit_taller", convocatoria_id=call_id, taller_id=id_))
        for id_, title, call_id in rows
    }


def _modulos(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    import sqlalchemy as sa

    from idea.extensions import db
    from pilotos.models import Modulo

    rows = db.session.execute(
        sa.select(Modulo.id, Modulo.title, Modulo.convocatoria_id).where(Modulo.id.in_(_ints(ids)))
    )
    return {
        str(id_): (title, url_for("pilotos_lead.edit_modulo", convocatoria_id=call_id, modulo_id=id_))
        for id_, title, call_id in rows
    }


def init_app(app: Flask) -> None:
    from idea import add_nav_provider, add_start_provider, audit
    from pilotos import ejecucion_models, lead_views, models, operations, reminders, seed, team_views  # noqa: F401

    app.register_blueprint(team_views.bp)
    app.register_blueprint(lead_views.bp)
    add_nav_provider(app, _nav)
    add_start_provider(app, _start)
    audit.register_labels(
        app,
        actions=ACTIONS,
        fields=FIELDS,
        objects={
            "Equipo": (_l("Team"), _equipos),
            "Taller": (_l("Workshop"), _talleres),
            "Modulo": (_l("Training module"), _modulos),
        },
    )
    operations.connect()  # teams created when a call enters `formacion`
    reminders.connect()  # workshop reminders in `flask send-reminders`
    seed.connect()  # `flask seed-demo`: a call in training
    from pilotos import mentoria_app

    mentoria_app.init_app(app)  # mentoring: directory, matches, 8-week plans, sessions
    from pilotos.formulario_views import init_formulario

    init_formulario(app)  # the full form: pages, and its demo data
    from pilotos.demoday_views import init_demoday

    init_demoday(app)  # the demo day: jury, scoring, award
    from pilotos.ejecucion_views import init_ejecucion

    init_ejecucion(app)  # execution: pilots, progress reports, review, portfolio
    from pilotos.aprendizaje_views import init_aprendizaje

    init_aprendizaje(app)  # closure: systematization sheets and the public learning repository
