"""The public results of the popular vote, with the integrity summary and the open-data export (CSV, JSON).
Shown once the vote closed (or the call moved past `votacion`); before that a page says when."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template

from convocatorias import queries as call_queries
from convocatorias.models import Convocatoria
from evaluacion import votacion_results as results
from idea.extensions import db
from idea.permissions import PUBLIC, access

bp = Blueprint("votacion_resultados", __name__, url_prefix="/convocatorias")


def _public_call(slug: str) -> Convocatoria:
    convocatoria = db.session.scalars(
        sa.select(Convocatoria).where(Convocatoria.slug == slug, call_queries.is_public())
    ).first()
    if convocatoria is None:
        abort(404)
    return convocatoria


@bp.route("/<slug>/votacion/resultados")
@access(PUBLIC)
def index(slug: str) -> Any:
    convocatoria = _public_call(slug)
    if not results.vote_closed(convocatoria):
        return render_template("evaluacion/votacion/resultados.html", convocatoria=convocatoria, closed=False)
    data = results.results(convocatoria.id)
    return render_template(
        "evaluacion/votacion/resultados.html",
        convocatoria=convocatoria,
        closed=True,
        data=data,
        summary=results.integrity_summary(convocatoria.id),
    )


def _download(slug: str, extension: str) -> Response:
    convocatoria = _public_call(slug)
    if not results.vote_closed(convocatoria):
        abort(404)
    data = results.results(convocatoria.id)
    if extension == "csv":
        # A byte-order mark so spreadsheets open the accents as UTF-8.
        body, mimetype = "\ufeff" + results.export_csv(data), "text/csv; charset=utf-8"
    else:
        body, mimetype = results.export_json(convocatoria, data), "application/json"
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="resultados-votacion-{convocatoria.slug}.{extension}"'
    )
    return response


@bp.route("/<slug>/votacion/resultados.csv")
@access(PUBLIC)
def export_csv(slug: str) -> Any:
    return _download(slug, "csv")


@bp.route("/<slug>/votacion/resultados.json")
@access(PUBLIC)
def export_json(slug: str) -> Any:
    return _download(slug, "json")
