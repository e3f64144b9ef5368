"""Pages of the closure: the team's systematization sheet, the lead's review, and the public learning
repository (list with search and filters, a page and a printable PDF per sheet, open data, an Atom feed and
e-mail subscriptions). Registered by `init_aprendizaje(app)`."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from convocatorias.exports import neutralise
from idea import chile, pagecache
from idea.extensions import db, limiter
from idea.forms import EmptyForm
from idea.mail import external_url
from idea.models import Role
from idea.params import choice_param, id_param, page_param, parse_int, text_param
from idea.permissions import LOGGED_IN, PUBLIC, access, roles
from pilotos import aprendizaje as aops
from pilotos import ejecucion_figures as figs
from pilotos.aprendizaje_forms import RevisionForm, SistematizacionForm, SuscripcionForm
from pilotos.aprendizaje_models import EstadoSistematizacion, Sistematizacion
from pilotos.ejecucion_models import Piloto
from pilotos.models import Equipo, MiembroEquipo
from pilotos.operations import FormacionError

bp = Blueprint("pilotos_aprendizaje", __name__)
public_bp = Blueprint("aprendizaje_public", __name__, url_prefix="/aprendizaje")

LEAD = roles(Role.ENCARGADO_TECNICO)
SUBSCRIBE_LIMIT = "5 per hour"
LIMIT_MESSAGE = _l("Too many subscription requests from here in a short while. Wait a while and try again.")
HISTORY_LABELS = {
    "enviada": _l("Sent by the team"),
    "observada": _l("Sent back for changes"),
    "publicada": _l("Published by the lead"),
}


def _flash(error: FormacionError) -> None:
    for message in error.messages:
        flash(message, "error")


def _labels() -> dict[str, Any]:
    return {
        "grupos": aops.GRUPOS,
        "outcomes": aops.OUTCOMES,
        "adopters": aops.ADOPTERS,
        "status_labels": aops.STATUS_LABELS,
        "history_labels": HISTORY_LABELS,
    }


def _figures(sheet: Sistematizacion | None, piloto: Piloto | None = None) -> dict[str, Any]:
    """The figures shown with a sheet: the frozen ones once published, else the current ones (a preview)."""
    if sheet is not None and sheet.snapshot is not None:
        snapshot = sheet.snapshot
    elif piloto is not None:
        snapshot = aops.take_snapshot(piloto)
    else:
        snapshot = {}
    rows = aops.snapshot_indicators(snapshot)
    return {
        "snapshot": snapshot,
        "coverage": aops.shown_figure(snapshot.get("coverage")),
        "spending": aops.shown_figure(snapshot.get("spending_per_beneficiary")),
        "execution": aops.shown_figure(snapshot.get("budget_execution")),
        "indicators": rows,
        "charts": [figs.indicator_chart(r) for r in rows],
    }


# --- the team -------------------------------------------------------------------------------------------


def _my_pilots() -> list[Piloto]:
    return list(
        db.session.scalars(
            sa.select(Piloto)
            .join(MiembroEquipo, MiembroEquipo.equipo_id == Piloto.equipo_id)
            .where(MiembroEquipo.user_id == current_user.id)
            .order_by(Piloto.id)
        )
    )


@bp.route("/equipo/sistematizacion/")
@access(LOGGED_IN)
def team_index() -> Any:
    pilots = _my_pilots()
    sheets = {
        s.piloto_id: s
        for s in db.session.scalars(
            sa.select(Sistematizacion).where(Sistematizacion.piloto_id.in_([p.id for p in pilots]))
        )
    }
    rows = [(p, sheets.get(p.id), aops.ready_for_sheet(p)) for p in pilots]
    return render_template("pilotos/aprendizaje/team_index.html", rows=rows, **_labels())


def _my_pilot(piloto_id: int) -> Piloto:
    piloto = db.session.get(Piloto, piloto_id)
    if piloto is None or not (aops.can_write(current_user, piloto) or aops.can_review(current_user, piloto)):
        abort(404)
    return piloto


@bp.route("/equipo/pilotos/<int:piloto_id>/sistematizacion", methods=["GET", "POST"])
@access(LOGGED_IN)
def team_sheet(piloto_id: int) -> Any:
    piloto = _my_pilot(piloto_id)
    sheet = aops.sheet_of(piloto)
    ready = aops.ready_for_sheet(piloto)
    editable = (
        aops.can_write(current_user, piloto) and ready and (sheet is None or sheet.status in aops.EDITABLE)
    )
    form = SistematizacionForm(obj=sheet) if request.method == "GET" else SistematizacionForm()
    if request.method == "GET" and sheet is not None:
        form.groups.data = sheet.group_keys
        form.outcome.data = sheet.outcome.value if sheet.outcome else None
    status = 200
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate_on_submit():
            try:
                sheet = aops.save(current_user, piloto, form.to_data(), send=bool(form.send.data))
            except FormacionError as error:
                db.session.rollback()
                _flash(error)
                status = 422
            else:
                db.session.commit()
                flash(
                    _("Sheet sent: the lead will review it.") if form.send.data else _("Draft saved."),
                    "success",
                )
                return redirect(url_for(".team_sheet", piloto_id=piloto.id))
        else:
            status = 422
    return render_template(
        "pilotos/aprendizaje/team_sheet.html",
        piloto=piloto,
        sheet=sheet,
        form=form,
        ready=ready,
        editable=editable,
        **_figures(sheet, piloto),
        **_labels(),
    ), status


# --- the lead -------------------------------------------------------------------------------------------


@bp.route("/gestion/aprendizaje/")
@access(LEAD)
def lead_index() -> Any:
    rows = db.session.execute(
        sa.select(Sistematizacion, Piloto)
        .join(Piloto, Piloto.id == Sistematizacion.piloto_id)
        .where(Sistematizacion.status != EstadoSistematizacion.BORRADOR)
        .order_by(Sistematizacion.status, Sistematizacion.submitted_at.desc(), Sistematizacion.id)
        # The permission check below reads each pilot's team and call: loaded here, not once per row.
        .options(selectinload(Piloto.equipo).selectinload(Equipo.convocatoria))
    ).all()
    visible = [(s, p) for s, p in rows if aops.can_review(current_user, p)]
    waiting = [(s, p) for s, p in visible if s.status == EstadoSistematizacion.ENVIADA]
    others = [(s, p) for s, p in visible if s.status != EstadoSistematizacion.ENVIADA]
    return render_template("pilotos/aprendizaje/lead_index.html", waiting=waiting, others=others, **_labels())


def _reviewable(sistematizacion_id: int) -> Sistematizacion:
    sheet = db.session.get(Sistematizacion, sistematizacion_id)
    if sheet is None or not aops.can_review(current_user, sheet.piloto):
        abort(404)
    return sheet


@bp.route("/gestion/aprendizaje/<int:sistematizacion_id>", methods=["GET", "POST"])
@access(LEAD)
def review(sistematizacion_id: int) -> Any:
    sheet = _reviewable(sistematizacion_id)
    form = RevisionForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        else:
            try:
                if form.publish.data:
                    aops.publish(current_user, sheet)
                else:
                    aops.send_back(current_user, sheet, form.comment.data or "")
            except FormacionError as error:
                db.session.rollback()
                form.comment.errors = [*form.comment.errors, *error.messages]
                status = 422
            else:
                db.session.commit()
                flash(
                    _("Sheet published in the learning repository.")
                    if form.publish.data
                    else _("Sheet sent back to the team."),
                    "success",
                )
                return redirect(url_for(".review", sistematizacion_id=sheet.id))
        sheet = _reviewable(sistematizacion_id)
    return render_template(
        "pilotos/aprendizaje/review.html",
        sheet=sheet,
        piloto=sheet.piloto,
        form=form,
        **_figures(sheet, sheet.piloto),
        **_labels(),
    ), status


# --- the public repository -------------------------------------------------------------------------------


def _scope(**_kwargs: Any) -> list[str]:
    return [aops.SCOPE]


QUERY = ("q", "desafio", "grupo", "region", "anio", "resultado", "page")


def _filters() -> aops.Filters:
    """The list's filters from the query string; a value that is not one of the choices is ignored."""
    return aops.Filters(
        q=text_param("q"),
        desafio=id_param("desafio"),
        grupo=choice_param("grupo", aops.GRUPOS),
        region=choice_param("region", chile.REGIONS_BY_CODE),
        year=parse_int(request.args.get("anio"), minimum=2000, maximum=2100),
        resultado=choice_param("resultado", aops.OUTCOMES),
    )


def _filter_args(filters: aops.Filters) -> dict[str, Any]:
    args = {
        "q": filters.q,
        "desafio": filters.desafio,
        "grupo": filters.grupo,
        "region": filters.region,
        "anio": filters.year,
        "resultado": filters.resultado,
    }
    return {k: v for k, v in args.items() if v}


@public_bp.route("/")
@access(PUBLIC)
@pagecache.cached(_scope, query=QUERY)
def index() -> Any:
    filters = _filters()
    result = aops.search(filters, page_param())
    return render_template(
        "pilotos/aprendizaje/public_index.html",
        filters=filters,
        filter_args=_filter_args(filters),
        result=result,
        options=aops.filter_options(),
        regions=chile.region_choices(),
        **_labels(),
    )


def _published(sistematizacion_id: int) -> Sistematizacion:
    sheet = db.session.get(Sistematizacion, sistematizacion_id)
    if sheet is None or sheet.status != EstadoSistematizacion.PUBLICADA:
        abort(404)
    return sheet


@public_bp.route("/<int:sistematizacion_id>")
@access(PUBLIC)
@pagecache.cached(_scope)
def ficha(sistematizacion_id: int) -> Any:
    sheet = _published(sistematizacion_id)
    return render_template(
        "pilotos/aprendizaje/public_sheet.html", sheet=sheet, **_figures(sheet), **_labels()
    )


@public_bp.route("/<int:sistematizacion_id>/ficha.pdf")
@access(PUBLIC)
def pdf(sistematizacion_id: int) -> Any:
    from evaluacion.comite_acta import pdf_bytes

    sheet = _published(sistematizacion_id)
    html = render_template(
        "pilotos/aprendizaje/print.html",
        sheet=sheet,
        url=external_url("aprendizaje_public.ficha", sistematizacion_id=sheet.id),
        **_figures(sheet),
        **_labels(),
    )
    response = Response(pdf_bytes(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="ficha-aprendizaje-{sheet.id}.pdf"'
    return response


@public_bp.route("/datos.json")
@access(PUBLIC)
def export_json() -> Any:
    rows = [aops.open_data_row(s) for s in aops.all_published()]
    body = json.dumps({"sistematizaciones": rows}, ensure_ascii=False, indent=1, default=str)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="aprendizaje.json"'
    return response


CSV_COLUMNS = (
    "id",
    "url",
    "titulo",
    "desafio",
    "region",
    "region_nombre",
    "anio",
    "grupos",
    "resultado",
    "adoptante",
    "problema",
    "solucion",
    "resultados",
    "aprendizajes",
    "condiciones_escalamiento",
    "publicada",
    "monto_adjudicado",
    "monto_ejecutado",
    "beneficiarios_planificados",
    "beneficiarios_alcanzados",
    "cobertura_pct",
    "ejecucion_presupuestaria_pct",
    "gasto_por_beneficiario",
)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    # A cell a spreadsheet would run as a formula is written as text.
    return "" if value is None else neutralise(value)


@public_bp.route("/datos.csv")
@access(PUBLIC)
def export_csv() -> Any:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for sheet in aops.all_published():
        row = aops.open_data_row(sheet)
        writer.writerow([_csv_cell(row[c]) for c in CSV_COLUMNS])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="aprendizaje.csv"'
    return response


@public_bp.route("/feed.atom")
@access(PUBLIC)
@pagecache.cached(_scope)
def feed() -> Any:
    sheets = aops.all_published(limit=50)
    updated = max((s.published_at for s in sheets if s.published_at), default=None) or chile.utcnow()
    body = render_template(
        "pilotos/aprendizaje/feed.xml",
        sheets=sheets,
        updated=updated,
        self_url=external_url("aprendizaje_public.feed"),
        home_url=external_url("aprendizaje_public.index"),
        external_url=external_url,
        # The feed's own words (babel does not read .xml templates).
        feed_title=_("Learning repository"),
        subtitle=_("New systematization sheets of the Fondo IDEA pilots."),
        **_labels(),
    )
    return Response(body, mimetype="application/atom+xml")


def _limit() -> str:
    return current_app.config.get("APRENDIZAJE_SUBSCRIBE_LIMIT") or SUBSCRIBE_LIMIT


@public_bp.route("/suscribirse", methods=["GET", "POST"])
@access(PUBLIC)
@limiter.limit(_limit, methods=["POST"], error_message=LIMIT_MESSAGE)
def subscribe() -> Any:
    form = SuscripcionForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                aops.subscribe(form.email.data or "", form.topic.data or "")
            except FormacionError as error:
                db.session.rollback()
                form.topic.errors = [*form.topic.errors, *error.messages]
                status = 422
            else:
                db.session.commit()
                # Post/redirect/get: a reload does not send the confirmation e-mail again.
                return redirect(url_for(".subscribe_sent"))
        else:
            status = 422
    return render_template("pilotos/aprendizaje/subscribe.html", form=form), status


@public_bp.route("/suscripcion/enviada")
@access(PUBLIC)
def subscribe_sent() -> Any:
    return render_template("pilotos/aprendizaje/subscribe_sent.html")


@public_bp.route("/suscripcion/confirmar/<string(maxlength=300):token>", methods=["GET", "POST"])
@access(PUBLIC)
def confirm(token: str) -> Any:
    subscription = aops.subscription_to_confirm(token)
    if subscription is None:
        return render_template("pilotos/aprendizaje/subscription_link.html", invalid=True), 404
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        aops.confirm(subscription)
        db.session.commit()
        return redirect(url_for(".confirm", token=token))  # the page then says it is confirmed
    return render_template(
        "pilotos/aprendizaje/subscription_link.html",
        form=form,
        action="confirm",
        done=subscription.confirmed_at is not None,
        topic=aops.topic_label(subscription.kind, subscription.value),
    )


@public_bp.route("/suscripcion/baja/<string(maxlength=300):token>", methods=["GET", "POST"])
@access(PUBLIC)
def unsubscribe(token: str) -> Any:
    subscription = aops.subscription_to_cancel(token)
    if subscription is None:
        # Already cancelled (or never valid): say so plainly, nothing to do.
        return render_template("pilotos/aprendizaje/subscription_link.html", action="unsubscribe", done=True)
    form = EmptyForm()
    topic = aops.topic_label(subscription.kind, subscription.value)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        aops.unsubscribe(subscription)
        db.session.commit()
        return redirect(url_for(".unsubscribe", token=token))  # the page then says it is cancelled
    return render_template(
        "pilotos/aprendizaje/subscription_link.html", form=form, action="unsubscribe", done=False, topic=topic
    )


# --- registration ----------------------------------------------------------------------------------------


def _has_pilot(user: Any) -> bool:
    return (
        db.session.scalar(
            sa.select(Piloto.id)
            .join(MiembroEquipo, MiembroEquipo.equipo_id == Piloto.equipo_id)
            .where(MiembroEquipo.user_id == user.id)
            .limit(1)
        )
        is not None
    )


def _nav(user: Any) -> list[dict[str, str]]:
    links = [{"url": url_for("aprendizaje_public.index"), "label": _("Learning")}]
    if user.is_authenticated and _has_pilot(user):
        links.append({"url": url_for("pilotos_aprendizaje.team_index"), "label": _("Systematization sheet")})
    if user.is_authenticated and user.has_any_role(Role.ENCARGADO_TECNICO):
        links.append({"url": url_for("pilotos_aprendizaje.lead_index"), "label": _("Sheets to review")})
    return links


def _start(user: Any) -> list[dict[str, Any]]:
    if not user.is_authenticated:
        return []
    cards: list[dict[str, Any]] = []
    if _has_pilot(user):
        cards.append(
            {
                "url": url_for("pilotos_aprendizaje.team_index"),
                "label": _("Systematization sheet"),
                "description": _("What your pilot learnt, for the public learning repository."),
            }
        )
    if user.has_any_role(Role.ENCARGADO_TECNICO):
        cards.append(
            {
                "url": url_for("pilotos_aprendizaje.lead_index"),
                "label": _("Sheets to review"),
                "role": Role.ENCARGADO_TECNICO,
                "description": _("Systematization sheets sent by the teams: send back or publish."),
            }
        )
    return cards


def _sheets(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(
        sa.select(Sistematizacion.id, Sistematizacion.title).where(
            Sistematizacion.id.in_([int(i) for i in ids if i.isdigit()])
        )
    )
    return {
        str(id_): (title, url_for("pilotos_aprendizaje.review", sistematizacion_id=id_))
        for id_, title in rows
    }


ACTIONS = {
    "sistematizacion.saved": _l("Saved a draft of a systematization sheet"),
    "sistematizacion.sent": _l("Sent a systematization sheet for review"),
    "sistematizacion.returned": _l("Sent a systematization sheet back for changes"),
    "sistematizacion.published": _l("Published a systematization sheet"),
}


def init_aprendizaje(app: Flask) -> None:
    from convocatorias import reminders as draft_reminders
    from idea import add_nav_provider, add_start_provider, audit
    from pilotos import aprendizaje_seed

    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    add_nav_provider(app, _nav)
    add_start_provider(app, _start)
    audit.register_labels(
        app,
        actions=ACTIONS,
        fields={},
        objects={"Sistematizacion": (_l("Systematization sheet"), _sheets)},
    )
    aprendizaje_seed.connect()  # `flask seed-demo`: a closed call with published sheets
    draft_reminders.reminders_requested.connect(_on_reminders, weak=False)  # the subscribers' digest


def _on_reminders(_sender: Any, now: Any = None, **_kwargs: Any) -> int:
    return aops.send_digest(now)
