"""Public pages: the home with the open calls, a call's page and a challenge's page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from convocatorias import queries
from convocatorias.models import Convocatoria, Desafio, DesafioRegion, GrupoVulnerable, IndicadorLineaBase
from idea import chile, pagecache
from idea.permissions import PUBLIC, access

bp = Blueprint("convocatorias_public", __name__)

# Filters the public pages (and the macros in templates/_macros/convocatorias.html) rely on.
bp.add_app_template_filter(queries.paragraphs, "parrafos")
bp.add_app_template_filter(queries.format_decimal_es, "decimal")
bp.add_app_template_filter(queries.region_names, "region_names")
bp.add_app_template_filter(queries.fase_label, "fase_label")

# Everything these pages show comes from these tables: a committed change to any of them renders them afresh.
pagecache.watch_models(
    pagecache.PUBLIC, Convocatoria, Desafio, DesafioRegion, GrupoVulnerable, IndicadorLineaBase
)


def _public_scope(**_kwargs: Any) -> list[str]:
    return [pagecache.PUBLIC]


@bp.route("/")
@access(PUBLIC)
@pagecache.cached(_public_scope)
def home() -> Any:
    calls = queries.home_calls(chile.utcnow())
    return render_template("convocatorias/public/home.html", calls=calls)


@bp.route("/convocatorias/<slug>")
@access(PUBLIC)
@pagecache.cached(_public_scope)
def convocatoria(slug: str) -> Any:
    call = queries.published_call_by_slug(slug)
    if call is None:
        abort(404)
    plazo = queries.deadline_status(call, chile.utcnow())
    return render_template(
        "convocatorias/public/convocatoria.html",
        convocatoria=call,
        plazo=plazo,
        etapas=queries.timeline(call),
        submit_url=queries.submit_idea_url(call) if plazo.is_open else None,
    )


@bp.route("/convocatorias/<slug>/desafios/<int:desafio_id>")
@access(PUBLIC)
@pagecache.cached(_public_scope)
def desafio(slug: str, desafio_id: int) -> Any:
    challenge = queries.published_desafio(slug, desafio_id)
    if challenge is None:
        abort(404)
    call = challenge.convocatoria
    plazo = queries.deadline_status(call, chile.utcnow())
    return render_template(
        "convocatorias/public/desafio.html",
        convocatoria=call,
        desafio=challenge,
        plazo=plazo,
        submit_url=queries.submit_idea_url(call, challenge) if plazo.is_open else None,
    )
