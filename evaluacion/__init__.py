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
        votacion,
        votacion_models,
        votacion_results_views,
        votacion_seed,
        votacion_views,
        votacion_watch_views,
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
    from evaluacion import votacion_public  # the public voting pages (cards, idea page with share links)

    votacion_public.init_app(app)
    reminders.connect()  # scoring-deadline reminders in `flask send-reminders`
    # Popular vote: the public voting pages, the lead's shortlist, the guard entering `votacion`.
    app.register_blueprint(votacion_views.bp)
    app.register_blueprint(votacion_views.lead_bp)
    votacion.connect()
    votacion.register_labels(app)
    votacion_views.register_cli(app)
    app.register_blueprint(votacion_watch_views.bp)  # the lead's integrity watch of the popular vote
    votacion_watch_views.register_labels(app)
    app.register_blueprint(votacion_results_views.bp)  # public results and open data of the popular vote
    votacion_seed.connect()  # `flask seed-demo`: a call in the popular vote with votes
    comite_sesion_views.register(app)  # committee sessions, decisions and the acta
    # The committee's published results: public page per call, publishing, applicant e-mails.
    comite_results_views.register(app)
