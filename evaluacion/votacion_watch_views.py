"""The lead's integrity watch of the popular vote: votes per hour (an SVG chart drawn on the server, with its
numbers in a table), bursts, clusters by e-mail domain and network, repeated requests, the votes with
filters, and the forms to annul a vote or a cluster (reason required)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_login import current_user
from wtforms import HiddenField, SearchField, SelectField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from convocatorias import lead_queries
from convocatorias.models import Convocatoria
from evaluacion import votacion_watch as watch
from evaluacion.permissions import can_lead, can_lead_whole_call
from evaluacion.votacion_models import Preseleccion, Voto
from idea import audit
from idea.extensions import db
from idea.forms import FilterForm, SafeForm
from idea.models import Role
from idea.params import page_param
from idea.permissions import access, roles

bp = Blueprint("votacion_integridad", __name__, url_prefix="/gestion/votacion")

LEAD = roles(Role.ENCARGADO_TECNICO)
STATES = ("validos", "anulados")


class VoteFilterForm(FilterForm):
    dominio = SearchField(_l("E-mail domain"), validators=[Optional(), Length(max=254)])
    red = SearchField(_l("Network"), validators=[Optional(), Length(max=64)])
    idea = SelectField(_l("Idea"), validators=[Optional()])
    estado = SelectField(_l("State"), validators=[Optional()])

    def __init__(self, ideas: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.idea.choices = [("", pgettext("filter over a feminine noun", "All"))]
        self.idea.choices += [(str(pid), label) for pid, label in ideas]
        self.estado.choices = [
            ("", pgettext("filter over a masculine noun", "All")),
            ("validos", pgettext("votes", "Valid")),
            ("anulados", pgettext("votes", "Annulled")),
        ]

    def filtro(self) -> watch.FiltroVotos:
        def ok(field: Any) -> Any:
            return field.data if field.data and field.validate(self) else None

        idea = ok(self.idea)
        return watch.FiltroVotos(
            domain=(ok(self.dominio) or "").strip(),
            network=(ok(self.red) or "").strip(),
            preseleccion_id=int(idea) if idea else None,
            state=ok(self.estado) or "",
        )


class AnnulForm(SafeForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[InputRequired(message=_l("Say why the vote is annulled.")), Length(max=2000)],
        description=_l("It is published in aggregate after the vote: write no personal data."),
    )
    submit = SubmitField(_l("Annul"))


class AnnulClusterForm(AnnulForm):
    kind = HiddenField(validators=[InputRequired()])
    key = HiddenField(validators=[InputRequired(), Length(max=254)])
    submit = SubmitField(_l("Annul every valid vote of this cluster"))


# --- the chart ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Barra:
    x: float
    y: float
    width: float
    height: float
    hora: watch.Hora


@dataclass(frozen=True)
class Grafico:
    width: int
    height: int
    top: int
    bottom: int
    left: int
    bars: list[Barra]
    peak: int
    ticks: list[tuple[float, str]]  # (x, day label) at each midnight
    baseline_y: float | None


CHART_WIDTH, CHART_HEIGHT = 720, 240
CHART_LEFT, CHART_TOP, CHART_BOTTOM = 36, 12, 28


def chart(hours: list[watch.Hora]) -> Grafico | None:
    """The geometry of the bar chart (one bar per hour), computed here so the template only draws."""
    if not hours:
        return None
    peak = max(max(h.votes for h in hours), 1)
    plot_w = CHART_WIDTH - CHART_LEFT - 4
    plot_h = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    step = plot_w / len(hours)
    bars, ticks = [], []
    for i, h in enumerate(hours):
        height = plot_h * h.votes / peak
        x = CHART_LEFT + i * step
        bars.append(
            Barra(
                round(x, 2),
                round(CHART_TOP + plot_h - height, 2),
                round(max(step - 1, 0.5), 2),
                round(height, 2),
                h,
            )
        )
        if h.start.hour == 0 or i == 0:
            ticks.append((round(x, 2), h.start.strftime("%d-%m")))
    return Grafico(
        CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_HEIGHT - CHART_BOTTOM, CHART_LEFT, bars, peak, ticks, None
    )


# --- pages ----------------------------------------------------------------------------------------------


def _call(convocatoria_id: int) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not can_lead(current_user, convocatoria):
        abort(404)
    return convocatoria


def _back(convocatoria_id: int) -> Any:
    args = {k: v for k, v in request.args.items() if k in ("dominio", "red", "idea", "estado", "page")}
    return redirect(url_for(".integridad", convocatoria_id=convocatoria_id, **args))


@bp.route("/<int:convocatoria_id>/integridad")
@access(LEAD)
def integridad(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    regions = lead_queries.regions_in_scope(current_user, convocatoria.id)
    total, annulled = watch.total_votes(convocatoria.id, regions)
    hours = watch.votes_per_hour(convocatoria.id, regions)
    ideas = watch.shortlist_choices(convocatoria.id, regions)
    form = VoteFilterForm(ideas, formdata=request.args)
    filtro = form.filtro()
    votes = watch.list_votes(convocatoria.id, filtro, regions, page_param())
    whole = can_lead_whole_call(current_user, convocatoria)
    cluster_form = None
    if filtro.domain or len(filtro.network) == 64:
        kind, key = ("dominio", filtro.domain) if filtro.domain else ("red", filtro.network)
        if whole and votes.valid:
            cluster_form = AnnulClusterForm(formdata=None, kind=kind, key=key)
    return render_template(
        "evaluacion/votacion/integridad.html",
        convocatoria=convocatoria,
        whole=whole,
        regions=regions,
        total=total,
        annulled=annulled,
        hours=hours,
        bursts=watch.bursts(hours),
        grafico=chart(hours),
        domains=watch.clusters(convocatoria.id, "email_domain", regions, total=total),
        networks=watch.clusters(convocatoria.id, "network_hash", regions, total=total),
        attempts=watch.repeated_attempts(convocatoria.id, regions),
        form=form,
        filtro=filtro,
        votes=votes,
        annul_form=AnnulForm(formdata=None),
        cluster_form=cluster_form,
        rules={
            "min": watch.BURST_MIN_VOTES,
            "factor": watch.BURST_FACTOR,
            "hours": watch.BASELINE_HOURS,
            "requests": watch.REPEATED_REQUESTS,
        },
    )


@bp.route("/votos/<int:voto_id>/anular", methods=["POST"])
@access(LEAD)
def annul(voto_id: int) -> Any:
    voto = db.session.get(Voto, voto_id)
    if voto is None:
        abort(404)
    convocatoria = _call(voto.convocatoria_id)
    regions = lead_queries.regions_in_scope(current_user, convocatoria.id)
    if regions is not None:
        preseleccion = db.session.get(Preseleccion, voto.preseleccion_id)
        if preseleccion is None or preseleccion.postulacion.region not in regions:
            abort(404)
    form = AnnulForm()
    if not form.validate_on_submit():
        flash(_("Say why the vote is annulled."), "error")
        return _back(convocatoria.id)
    try:
        watch.annul_vote(current_user, voto, form.reason.data)
    except watch.VotacionWatchError as error:
        db.session.rollback()
        for message in error.messages:
            flash(message, "error")
        return _back(convocatoria.id)
    db.session.commit()
    flash(_("Vote annulled; the totals were recomputed."), "success")
    return _back(convocatoria.id)


@bp.route("/<int:convocatoria_id>/integridad/anular-grupo", methods=["POST"])
@access(LEAD)
def annul_cluster(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    if not can_lead_whole_call(current_user, convocatoria):
        abort(404)
    form = AnnulClusterForm()
    if not form.validate_on_submit():
        flash(_("Say why the vote is annulled."), "error")
        return _back(convocatoria.id)
    try:
        done = watch.annul_cluster(
            current_user, convocatoria.id, form.kind.data, form.key.data, form.reason.data
        )
    except watch.VotacionWatchError as error:
        db.session.rollback()
        for message in error.messages:
            flash(message, "error")
        return _back(convocatoria.id)
    db.session.commit()
    flash(_("%(num)d votes annulled; the totals were recomputed.", num=done), "success")
    return _back(convocatoria.id)


def register_labels(app: Flask) -> None:
    """Name the annulment in the audit log."""
    audit.register_labels(
        app,
        actions={"voto.annulled": _l("Annulled a popular vote")},
        fields={"annulled_at": _l("Annulled at"), "annulled_reason": _l("Reason"), "cluster": _l("Cluster")},
        objects={"Voto": (_l("Popular vote"), None)},
    )
