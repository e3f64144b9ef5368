"""Pages of the popular vote: the voter's form and the confirmation page (blueprint "votacion"), and the
lead's settings and shortlist pages (blueprint "votacion_lead", under /gestion/votacion)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from convocatorias import lead_queries
from convocatorias.models import Convocatoria, Fase, Postulacion
from convocatorias.queries import published_call_by_slug
from evaluacion import votacion as ops
from evaluacion.permissions import can_lead, can_lead_whole_call
from evaluacion.votacion_forms import MODE_LABELS, VotacionSettingsForm, VoteForm
from evaluacion.votacion_models import Preseleccion
from idea import chile, pagecache
from idea.extensions import db, limiter
from idea.forms import EmptyForm
from idea.jobs import commit
from idea.models import Role
from idea.permissions import PUBLIC, access, roles

bp = Blueprint("votacion", __name__)
lead_bp = Blueprint("votacion_lead", __name__, url_prefix="/gestion/votacion")

LEAD = roles(Role.ENCARGADO_TECNICO)

# Defaults of the rate limits (each can be set in the app config under the same name). A campaign shares
# links on WhatsApp and many voters may sit behind one mobile carrier's address, so the per-address limits
# are generous; the per-person one (by the RUT's hash) is what stops one person from flooding.
VOTE_LIMIT_REQUEST_IP = "30 per 10 minutes"
VOTE_LIMIT_REQUEST_RUT = "5 per hour"
VOTE_LIMIT_CONFIRM_IP = "60 per minute"
# Where the idea's part goes in the answer to a confirmation (a comment: invisible if ever left).
IDEA_BLOCK = Markup("<!--idea-->")
LIMIT_MESSAGE = _l("Too many attempts to vote from here in a short while. Wait a few minutes and try again.")


def _limit(name: str) -> Any:
    return lambda: current_app.config.get(name) or globals()[name]


def _rut_key() -> str:
    """The per-person limit's key: the keyed hash of the RUT typed (never the RUT)."""
    try:
        return "rut:" + ops.rut_hash(str(request.form.get("rut", ""))[:20])
    except (ValueError, TypeError):
        return "rut:invalid"


def _rut_invalid() -> bool:
    # A mistyped RUT is nobody's: the form refuses it, and only the per-address limit counts it.
    return _rut_key() == "rut:invalid"


# --- voter's pages -----------------------------------------------------------------------------------


def _voting_call(slug: str) -> Convocatoria:
    call = published_call_by_slug(slug)
    if call is None:
        abort(404)
    return call


def _entry(call: Convocatoria, preseleccion_id: int) -> Preseleccion:
    entry = db.session.get(Preseleccion, preseleccion_id)
    config = ops.settings_of(call)
    if entry is None or entry.convocatoria_id != call.id or config is None or not config.is_published:
        abort(404)
    return entry


@bp.route("/convocatorias/<slug>/votacion/<int:preseleccion_id>/votar", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(_limit("VOTE_LIMIT_REQUEST_IP"), methods=["POST"], error_message=LIMIT_MESSAGE)
@limiter.limit(
    _limit("VOTE_LIMIT_REQUEST_RUT"),
    key_func=_rut_key,
    exempt_when=_rut_invalid,
    methods=["POST"],
    error_message=LIMIT_MESSAGE,
)
def vote(slug: str, preseleccion_id: int) -> Any:
    call = _voting_call(slug)
    entry = _entry(call, preseleccion_id)
    config = ops.settings_of(call)
    form = VoteForm()
    now = chile.utcnow()
    closed = ops.window_problem(call, now)
    if request.method == "POST" and not closed:
        if form.website.data:  # the honeypot: a bot filled the field people cannot see
            return render_template("evaluacion/votacion/check_inbox.html", convocatoria=call, entry=entry)
        if form.validate_on_submit():
            try:
                ops.request_vote(
                    call,
                    entry,
                    form.rut.data,
                    form.email.data,
                    bool(form.accepted.data),
                    request.remote_addr,
                    now,
                )
            except ops.VotacionError as error:
                form.rut.errors = [*form.rut.errors, *error.messages]
            else:
                return render_template("evaluacion/votacion/check_inbox.html", convocatoria=call, entry=entry)
        status = 422
    else:
        status = 409 if request.method == "POST" else 200
    return render_template(
        "evaluacion/votacion/vote.html",
        convocatoria=call,
        entry=entry,
        shown=ops.IdeaShown.of(entry, call),
        form=form,
        config=config,
        closed=closed,
    ), status


def _status(outcome: ops.ConfirmOutcome) -> int:
    if outcome == ops.ConfirmOutcome.INVALID:
        return 404
    if outcome.is_refusal and outcome not in (
        ops.ConfirmOutcome.ALREADY_VOTED,
        ops.ConfirmOutcome.NO_VOTES_LEFT,
    ):
        return 410
    return 200


@bp.route("/votar/confirmar/<string(maxlength=300):token>", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(_limit("VOTE_LIMIT_CONFIRM_IP"), methods=["POST"], error_message=LIMIT_MESSAGE)
def confirm(token: str) -> Any:
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        result = ops.confirm_vote(token)
        if result.outcome == ops.ConfirmOutcome.COUNTED:
            # The vote's transaction ends here, before the page is rendered: its row locks (the counter,
            # the request) are held for the four statements of the vote, not for the rendering. The page
            # shows only plain values read with the link, so nothing loads after the commit. (The
            # after-request commit then finds nothing to do.)
            commit()
        # The page around the idea depends only on the outcome: rendered once, not at every confirmation of
        # a campaign's burst; only the idea's small part is rendered each time.
        shown = result.idea
        body = pagecache.render_shared(
            ("confirmed", result.outcome.value, "idea" if shown else ""),
            [pagecache.PUBLIC],
            lambda: render_template(
                "evaluacion/votacion/confirmed.html",
                outcome=result.outcome,
                idea_block=IDEA_BLOCK if shown else "",
            ),
        )
        if shown:
            body = body.replace(IDEA_BLOCK, _idea_part(shown), 1)
        return body, _status(result.outcome)
    # GET never counts: mail scanners open links. It shows the idea and one button (one query).
    found = ops.find_request(token)
    if isinstance(found, ops.ConfirmOutcome):
        context: dict[str, Any] = {"outcome": found, "shown": None}
    else:
        context = {
            "outcome": None,
            "shown": found.idea,
            "pending": found,
            "closed": found.window_problem(chile.utcnow()),
        }
    status = 404 if context["outcome"] == ops.ConfirmOutcome.INVALID else 200
    if context["outcome"] == ops.ConfirmOutcome.EXPIRED:
        status = 410
    return render_template("evaluacion/votacion/confirm.html", form=form, **context), status


# The idea's part of the answer, per idea, language and version of the public pages: a campaign's burst
# confirms votes for a few ideas, each rendered once per process.
_IDEA_PARTS: dict[tuple[Any, ...], str] = {}


def _idea_part(shown: ops.IdeaShown) -> str:
    try:
        version = pagecache.state_tag([pagecache.PUBLIC])
    except pagecache.StoreUnavailable:  # render it, as pages are while the shared store is down
        return render_template("evaluacion/votacion/_confirmed_idea.html", shown=shown)
    key = (shown.preseleccion_id, str(get_locale()), request.host, version)
    part = _IDEA_PARTS.get(key)
    if part is None:
        part = render_template("evaluacion/votacion/_confirmed_idea.html", shown=shown)
        if len(_IDEA_PARTS) > 4096:
            _IDEA_PARTS.clear()
        _IDEA_PARTS[key] = part
    return part


# --- lead's pages ------------------------------------------------------------------------------------


def _call(convocatoria_id: int, *, whole: bool = True) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    check = can_lead_whole_call if whole else can_lead
    if convocatoria is None or not check(current_user, convocatoria):
        abort(404)
    return convocatoria


@lead_bp.route("/")
@access(LEAD)
def index() -> Any:
    calls = [
        c
        for c in lead_queries.visible_calls(current_user)
        if c.fase in (Fase.EVALUACION, Fase.VOTACION, Fase.COMITE) and can_lead_whole_call(current_user, c)
    ]
    return render_template("evaluacion/votacion/lead_index.html", calls=calls)


@lead_bp.route("/<int:convocatoria_id>/", methods=["GET", "POST"])
@access(LEAD)
def settings(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    config = ops.ensure_settings(convocatoria)
    form = VotacionSettingsForm.for_call(config, convocatoria)
    status = 200
    if form.validate_on_submit():
        try:
            ops.update_settings(current_user, convocatoria, form.to_data())
        except ops.VotacionError as error:
            form.mode.errors = [*form.mode.errors, *error.messages]
            status = 422
        else:
            flash(_("The settings of the vote were saved."), "success")
            return redirect(url_for(".settings", convocatoria_id=convocatoria.id))
    elif request.method == "POST":
        status = 422
    return render_template(
        "evaluacion/votacion/lead_settings.html",
        convocatoria=convocatoria,
        config=config,
        form=form,
        has_votes=ops.has_votes(convocatoria.id),
    ), status


@lead_bp.route("/<int:convocatoria_id>/preseleccion")
@access(LEAD)
def shortlist(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    config = ops.ensure_settings(convocatoria)
    candidates = ops.shortlist_candidates(current_user, convocatoria)
    published = ops.shortlist(convocatoria.id) if config.is_published else []
    titles = (
        dict(
            db.session.execute(
                sa.select(Postulacion.id, Postulacion.title).where(
                    Postulacion.id.in_([p.postulacion_id for p in published])
                )
            ).all()
        )
        if published
        else {}
    )
    return render_template(
        "evaluacion/votacion/lead_shortlist.html",
        convocatoria=convocatoria,
        config=config,
        candidates=candidates,
        published=published,
        titles=titles,
        mode_label=MODE_LABELS[config.mode],
        has_votes=ops.has_votes(convocatoria.id),
        form=EmptyForm(),
    )


@lead_bp.route("/<int:convocatoria_id>/preseleccion/publicar", methods=["POST"])
@access(LEAD)
def publish(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        rows = ops.publish_shortlist(current_user, convocatoria)
    except ops.VotacionError as error:
        for message in error.messages:
            flash(message, "error")
        return render_template(
            "evaluacion/votacion/lead_refused.html", convocatoria=convocatoria, messages=error.messages
        ), 409
    flash(_("The shortlist was published with %(num)d ideas.", num=len(rows)), "success")
    return redirect(url_for(".shortlist", convocatoria_id=convocatoria.id))


# --- command line ------------------------------------------------------------------------------------


def register_cli(app: Any) -> None:
    import click

    @app.cli.command("purge-vote-emails")
    def purge_vote_emails() -> None:
        """Erase the voters' e-mails of every call whose vote has closed (run daily from cron)."""
        total = 0
        for call in ops.calls_to_purge():
            total += ops.purge_emails(None, call)
        db.session.commit()
        click.echo(f"{total} direcciones de correo de votantes borradas.")
