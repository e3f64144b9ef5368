"""The committee's published results: the public page of a call's results, and the committee's page that
publishes a closed session's results (which also e-mails every applicant their outcome)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from convocatorias import queries as conv_queries
from convocatorias.models import Convocatoria
from evaluacion import comite_results as results
from evaluacion.comite_models import Decision, Resultado, SesionComite
from idea import audit
from idea.extensions import db
from idea.forms import EmptyForm
from idea.models import Role
from idea.permissions import PUBLIC, access, roles

bp = Blueprint("comite_resultados", __name__)

COMMITTEE = roles(Role.COMITE)


@bp.route("/convocatorias/<slug>/resultados")
@access(PUBLIC)
def public(slug: str) -> Any:
    convocatoria = conv_queries.published_call_by_slug(slug)
    if convocatoria is None:
        abort(404)
    return render_template(
        "evaluacion/resultados/public.html",
        convocatoria=convocatoria,
        resultados=results.public_results(convocatoria),
    )


def _sesion(sesion_id: int) -> SesionComite:
    sesion = db.session.get(SesionComite, sesion_id)
    if sesion is None or not results.can_publish(current_user, sesion.convocatoria):
        abort(404)
    return sesion


def _render_publish(sesion: SesionComite, form: EmptyForm, status: int = 200) -> Any:
    counts = dict(
        db.session.execute(
            sa.select(Decision.outcome, sa.func.count(Decision.id))
            .where(Decision.sesion_id == sesion.id)
            .group_by(Decision.outcome)
        ).all()
    )
    return (
        render_template(
            "evaluacion/resultados/publish.html",
            sesion=sesion,
            convocatoria=sesion.convocatoria,
            counts=[(results.resultado_label(r), counts.get(r, 0)) for r in Resultado],
            form=form,
        ),
        status,
    )


@bp.route("/gestion/comite/sesiones/<int:sesion_id>/publicar", methods=["GET", "POST"])
@access(COMMITTEE)
def publish(sesion_id: int) -> Any:
    sesion = _sesion(sesion_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return _render_publish(sesion, form, 400 if form.is_submitted() else 200)
    try:
        results.publish_results(current_user, sesion)
    except results.ResultadosError as error:
        flash(str(error.message), "error")
        return _render_publish(sesion, form, 409)
    flash(
        _("Results published. Every applicant of the call will receive an e-mail with their outcome."),
        "success",
    )
    return redirect(url_for(".public", slug=sesion.convocatoria.slug))


def results_url(convocatoria: Convocatoria) -> str | None:
    """The public results page of a call once something is published (the call page links to it)."""
    if results.published_session(convocatoria.id) is None:
        return None
    return url_for("comite_resultados.public", slug=convocatoria.slug)


def register(app: Flask) -> None:
    """Plug the blueprint, the template helpers of the call and submission pages, and the audit label."""
    app.register_blueprint(bp)
    app.context_processor(
        lambda: {"call_results_url": results_url, "committee_outcome": results.outcome_for_applicant}
    )
    audit.register_labels(app, actions={"comite.results_published": _l("Published the committee's results")})
    results.connect_seed()  # `flask seed-demo`: a second committee member, for the quorum
