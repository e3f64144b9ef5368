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
    if user.is_authenticated and any(r.role == Role.COMITE for r in user.roles):
        links.append({"url": url_for("comite_ranking.index"), "label": _("Committee")})
    return links


def _start(user: Any) -> list[dict[str, Any]]:
    """Cards of /inicio: a reviewer's evaluations (replacing the "coming soon" card of the role) and, for a
    technical lead, the evaluation of their calls."""
    from idea.models import Role

    if not user.is_authenticated:
        return []
    cards: list[dict[str, Any]] = []
    if any(r.role == Role.EVALUADOR for r in user.roles):
        cards.append(
            {
                "url": url_for("evaluacion_reviewer.index"),
                "label": _("My evaluations"),
                "role": Role.EVALUADOR,
                "description": _(
                    "Complete the training of each call, declare your conflicts of "
                    "interest, and score the submissions assigned to you."
                ),
            }
        )
    if user.has_any_role(Role.ENCARGADO_TECNICO):
        cards.append(
            {
                "url": url_for("evaluacion_lead.index"),
                "label": _("Evaluation"),
                "role": Role.ENCARGADO_TECNICO,
                "description": _(
                    "Assign reviewers, follow their progress, and look at outliers and the rankings."
                ),
            }
        )
    if any(r.role == Role.COMITE for r in user.roles):
        cards.append(
            {
                "url": url_for("comite_ranking.index"),
                "label": _("Selection committee"),
                "role": Role.COMITE,
                "description": _(
                    "See the final ranking with scores and votes, declare your conflicts of interest, "
                    "and decide which ideas are funded."
                ),
            }
        )
    return cards


def init_app(app: Flask) -> None:
    from evaluacion import (  # noqa: F401
        comite_conflictos,
        comite_models,
        comite_ranking_views,
        comite_results_views,
        comite_seed,
        comite_sesion_views,
        labels,
        lead_views,
        models,
        operations,
        reminders,
        reviewer_views,
        seed,
        votacion_models,
    )
    from idea import add_nav_provider, add_start_provider

    app.register_blueprint(reviewer_views.bp)
    app.register_blueprint(lead_views.bp)
    app.register_blueprint(comite_ranking_views.bp)
    comite_conflictos.register(app)
    add_nav_provider(app, _nav)
    add_start_provider(app, _start)
    labels.register(app)
    # The guard: a call leaves `evaluacion` only with every assignment scored or released.
    operations.connect()
    seed.connect()  # `flask seed-demo`: a call in evaluation with scores
    comite_seed.connect()  # and a call in the committee phase with 300 scored candidates
    reminders.connect()  # scoring-deadline reminders in `flask send-reminders`
    comite_sesion_views.register(app)  # committee sessions, decisions and the acta
    # The committee's published results: public page per call, publishing, applicant e-mails.
    comite_results_views.register(app)
