"""Small pages of the core: the language switch and a health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, request, session, url_for

from idea.auth import safe_next
from idea.forms import EmptyForm
from idea.permissions import PUBLIC, access

bp = Blueprint("core", __name__)


@bp.route("/idioma", methods=["POST"])
@access(PUBLIC)
def set_language() -> Any:
    form = EmptyForm()
    lang = request.form.get("lang", "")
    if form.validate_on_submit() and lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("convocatorias_public.home"))


@bp.route("/salud")
@access(PUBLIC)
def health() -> Any:
    return {"status": "ok"}
