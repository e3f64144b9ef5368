"""Evaluación: rubrics, reviewer assignment and scoring, popular vote, committee ranking and selection."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import gettext as _


def _nav(user: Any) -> list[dict[str, str]]:
    from idea.models import Role

    links = []
    if user.is_authenticated and user.has_any_role(Role.ENCARGADO_TECNICO):
        links.append({"url": url_for("evaluacion_lead.index"), "label": _("Evaluation")})
    if user.is_authenticated and any(r.role == Role.EVALUADOR for r in user.roles):
        links.append({"url": url_for("evaluacion_reviewer.index"), "label": _("My evaluations")})
    return links


def init_app(app: Flask) -> None:
    from evaluacion import labels, lead_views, models, operations, reminders, reviewer_views, seed  # noqa: F401
    from idea import add_nav_provider

    app.register_blueprint(reviewer_views.bp)
    app.register_blueprint(lead_views.bp)
    add_nav_provider(app, _nav)
    labels.register(app)
    # The guard: a call leaves `evaluacion` only with every assignment scored or released.
    operations.connect()
    seed.connect()  # `flask seed-demo`: a call in evaluation with scores
    reminders.connect()  # scoring-deadline reminders in `flask send-reminders`
