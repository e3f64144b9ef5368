"""Small pages of the core: each person's start page, the privacy, accessibility and contact pages, the
language switch and a health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from idea import start_cards
from idea.auth import safe_next
from idea.forms import EmptyForm
from idea.models import Role
from idea.permissions import LOGGED_IN, PUBLIC, access

bp = Blueprint("core", __name__)


# Roles whose pages are still to come: their start page says what will appear there.
COMING_SOON: dict[Role, Any] = {
    Role.EVALUADOR: _l(
        "When the evaluation phase of a call begins, the submissions assigned to you will "
        "appear here, with the rubric to score them and their deadline."
    ),
    Role.COMITE: _l(
        "When the committee meets, the ranking of the submissions and the record of the "
        "session to approve will appear here."
    ),
    Role.MENTOR: _l(
        "When the selected teams start their training, the teams you accompany and the "
        "sessions to record will appear here."
    ),
    Role.JURADO: _l(
        "Before the demo day, the finalist teams and the form to score their pitch will appear here."
    ),
}


@bp.route("/inicio")
@access(LOGGED_IN)
def start() -> Any:
    """Each person's work list: a card per page their roles open, and what is coming for the others."""
    user = current_user._get_current_object()
    cards = start_cards(user)
    covered = {card.get("role") for card in cards}
    coming = [
        (role, text)
        for role, text in COMING_SOON.items()
        if role not in covered and any(a.role == role for a in user.roles)
    ]
    if len(cards) == 1 and not coming:
        return redirect(cards[0]["url"])  # one place to work (an applicant's submissions): go straight there
    return render_template("start.html", cards=cards, coming=coming)


# Pages about the instance itself. Their long text is written per language (a legal notice is translated as
# a whole, not sentence by sentence): pages/<name>_<lang>.html, included by pages/<name>.html.
def _page(name: str) -> Any:
    lang = str(get_locale() or "es")[:2]
    # `include` takes the first template of the list that exists: the page's language, else Spanish.
    return render_template(f"pages/{name}.html", body=[f"pages/{name}_{lang}.html", f"pages/{name}_es.html"])


@bp.route("/privacidad")
@access(PUBLIC)
def privacy() -> Any:
    return _page("privacy")


@bp.route("/accesibilidad")
@access(PUBLIC)
def accessibility() -> Any:
    return _page("accessibility")


@bp.route("/contacto")
@access(PUBLIC)
def contact() -> Any:
    return _page("contact")


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
