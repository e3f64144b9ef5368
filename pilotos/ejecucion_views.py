"""Pages of the execution phase: the team's "My pilot" (plan, milestones, report calendar, the report form
with its evidence), the lead's pilots of a call, a pilot's figures with their formulas, report review and
execution settings, and the portfolio across calls (admin and leads, scoped by region) with its XLSX."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from convocatorias import uploads
from convocatorias.models import Convocatoria
from idea.chile import REGIONS, REGIONS_BY_CODE
from idea.extensions import db
from idea.forms import EmptyForm
from idea.models import Role
from idea.params import parse_int
from idea.permissions import LOGGED_IN, access, roles
from pilotos import ejecucion as eops
from pilotos import ejecucion_portfolio as portfolio_q
from pilotos.ejecucion_figures import indicator_chart
from pilotos.ejecucion_forms import ConfigForm, EvidenciaForm, ReviewForm
from pilotos.ejecucion_models import (
    EstadoPiloto,
    EstadoReporte,
    EvidenciaReporte,
    HitoPiloto,
    Piloto,
    ReportePiloto,
    TipoReporte,
)
from pilotos.models import MiembroEquipo
from pilotos.operations import FormacionError
from pilotos.permissions import can_lead_call, is_member, regions_of

bp = Blueprint("pilotos_ejecucion", __name__)

LEAD = roles(Role.ENCARGADO_TECNICO)
EXTRA_HITOS = 2


# --- permissions -----------------------------------------------------------------------------------------


def can_manage_piloto(user: Any, piloto: Piloto) -> bool:
    """Admins and leads of the pilot's call, a regional lead only for their regions."""
    if not getattr(user, "is_authenticated", False) or not can_lead_call(user, piloto.convocatoria):
        return False
    regions = regions_of(user, piloto.convocatoria_id)
    return regions is None or (piloto.region is not None and piloto.region in regions)


def is_pilot_member(user: Any, piloto: Piloto) -> bool:
    return is_member(user, piloto.equipo)


def my_pilots(user: Any) -> list[Piloto]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        db.session.scalars(
            sa.select(Piloto)
            .join(MiembroEquipo, MiembroEquipo.equipo_id == Piloto.equipo_id)
            .where(MiembroEquipo.user_id == user.id)
            .order_by(Piloto.id)
        )
    )


def team_pilot_id(equipo_id: int) -> int | None:
    """The team's pilot, for the link from the team's page."""
    return db.session.scalar(sa.select(Piloto.id).where(Piloto.equipo_id == equipo_id))


def _own_pilot(piloto_id: int) -> Piloto:
    piloto = db.session.get(Piloto, piloto_id)
    if piloto is None or not is_pilot_member(current_user, piloto):
        abort(404)
    return piloto


def _managed_pilot(piloto_id: int) -> Piloto:
    piloto = db.session.get(Piloto, piloto_id)
    if piloto is None or not can_manage_piloto(current_user, piloto):
        abort(404)
    return piloto


def _call(convocatoria_id: int, *, whole: bool = False) -> Convocatoria:
    """A call the user leads; `whole`: the call-wide settings and starting pilots, for leads of every region
    of the call (a regional lead gets 404)."""
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not can_lead_call(current_user, convocatoria):
        abort(404)
    if whole and regions_of(current_user, convocatoria.id) is not None:
        abort(404)
    return convocatoria


def _labels() -> dict[str, Any]:
    return {
        "status_labels": eops.STATUS_LABELS,
        "history_labels": eops.HISTORY_LABELS,
        "pilot_status_labels": eops.PILOT_STATUS_LABELS,
        "kind_labels": eops.KIND_LABELS,
        "today": eops.today_cl(),
        "is_late": eops.is_late,
    }


def _flash(error: FormacionError) -> None:
    for message in error.messages:
        flash(message, "error")


# --- the team's pages ------------------------------------------------------------------------------------


@bp.route("/mi-piloto")
@access(LOGGED_IN)
def mine() -> Any:
    pilots = my_pilots(current_user)
    if len(pilots) == 1:
        return redirect(url_for(".team_pilot", piloto_id=pilots[0].id))
    return render_template("pilotos/ejecucion/mine.html", pilots=pilots, **_labels())


@bp.route("/mi-piloto/<int:piloto_id>")
@access(LOGGED_IN)
def team_pilot(piloto_id: int) -> Any:
    piloto = _own_pilot(piloto_id)
    return render_template(
        "pilotos/ejecucion/team_pilot.html",
        piloto=piloto,
        figures=eops.figures_of(piloto),
        form=EmptyForm(),
        **_labels(),
    )


@bp.route("/mi-piloto/hitos/<int:hito_id>", methods=["POST"])
@access(LOGGED_IN)
def milestone(hito_id: int) -> Any:
    hito = db.session.get(HitoPiloto, hito_id)
    if hito is None or not (
        is_pilot_member(current_user, hito.piloto) or can_manage_piloto(current_user, hito.piloto)
    ):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        eops.mark_milestone(current_user, hito, request.form.get("done") == "1")
    except FormacionError as error:
        db.session.rollback()
        _flash(error)
    else:
        db.session.commit()
        flash(_("Milestone updated."), "success")
    if is_pilot_member(current_user, hito.piloto):
        return redirect(url_for(".team_pilot", piloto_id=hito.piloto_id) + "#hitos")
    return redirect(url_for(".lead_pilot", piloto_id=hito.piloto_id) + "#hitos")


def _report_data_from_request(piloto: Piloto) -> eops.ReporteData:
    plan = piloto.plan or {}
    form = request.form

    def text(name: str, limit: int = 6000) -> str:
        return (form.get(name) or "")[:limit]

    return eops.ReporteData(
        actuals=[text(f"ind-{i}", 40) for i in range(len(plan.get("indicadores") or []))],
        total=text("total", 40),
        mujeres=text("mujeres", 40),
        hombres=text("hombres", 40),
        otro=text("otro", 40),
        por_region={r.code: text(f"reg-{r.code}", 40) for r in REGIONS if text(f"reg-{r.code}", 40).strip()},
        gastos=[text(f"gasto-{i}", 40) for i in range(len(plan.get("presupuesto") or []))],
        done=[form.get(f"act-{i}-done") == "1" for i in range(len(plan.get("actividades") or []))],
        notes=[text(f"act-{i}-note") for i in range(len(plan.get("actividades") or []))],
        worked=text("worked"),
        failed=text("failed"),
        surprised=text("surprised"),
        summary=text("summary"),
        continuity=text("continuity"),
    )


def _own_report(reporte_id: int) -> ReportePiloto:
    reporte = db.session.get(ReportePiloto, reporte_id)
    if reporte is None or not is_pilot_member(current_user, reporte.piloto):
        abort(404)
    return reporte


def _evidencias(reporte: ReportePiloto) -> list[EvidenciaReporte]:
    return list(
        db.session.scalars(
            sa.select(EvidenciaReporte)
            .where(EvidenciaReporte.reporte_id == reporte.id)
            .order_by(EvidenciaReporte.id)
        )
    )


def _render_report(reporte: ReportePiloto, data: eops.ReporteData, status: int = 200, **extra: Any) -> Any:
    piloto = reporte.piloto
    editable = piloto.status == EstadoPiloto.EN_EJECUCION and reporte.status in eops.EDITABLE
    return render_template(
        "pilotos/ejecucion/report_form.html",
        piloto=piloto,
        reporte=reporte,
        data=data,
        editable=editable,
        config=eops.config_of(piloto.convocatoria),
        regions=REGIONS,
        evidencias=_evidencias(reporte),
        form=extra.pop("form", None) or EmptyForm(),
        upload_form=extra.pop("upload_form", None) or EvidenciaForm(formdata=None),
        **extra,
        **_labels(),
    ), status


@bp.route("/mi-piloto/reportes/<int:reporte_id>", methods=["GET", "POST"])
@access(LOGGED_IN)
def report(reporte_id: int) -> Any:
    reporte = _own_report(reporte_id)
    piloto = reporte.piloto
    if request.method == "POST":
        form = EmptyForm()
        if not form.validate_on_submit():
            abort(400)
        data = _report_data_from_request(piloto)
        submit = "send" in request.form
        try:
            eops.save_report(current_user, reporte, data, submit=submit)
        except FormacionError as error:
            db.session.rollback()
            return _render_report(reporte, data, 422, page_errors=[{"message": m} for m in error.messages])
        db.session.commit()
        flash(_("Report sent to the lead.") if submit else _("Draft saved."), "success")
        return redirect(url_for(".report", reporte_id=reporte.id))
    return _render_report(reporte, eops.from_document(piloto, reporte.data))


@bp.route("/mi-piloto/reportes/<int:reporte_id>/evidencias", methods=["POST"])
@access(LOGGED_IN)
def upload(reporte_id: int) -> Any:
    reporte = _own_report(reporte_id)
    form = EvidenciaForm()
    if form.validate_on_submit():
        file = form.archivo.data
        try:
            evidencia = eops.add_evidencia(current_user, reporte, file.stream, file.filename)
        except FormacionError as error:
            db.session.rollback()
            form.archivo.errors = list(error.messages)
        else:
            db.session.commit()
            flash(_("The file “%(name)s” was attached.", name=evidencia.original_name), "success")
            return redirect(url_for(".report", reporte_id=reporte.id) + "#evidencias")
    return _render_report(reporte, eops.from_document(reporte.piloto, reporte.data), 422, upload_form=form)


@bp.route("/mi-piloto/evidencias/<int:evidencia_id>/eliminar", methods=["POST"])
@access(LOGGED_IN)
def delete_evidence(evidencia_id: int) -> Any:
    evidencia = db.session.get(EvidenciaReporte, evidencia_id)
    if evidencia is None or not is_pilot_member(current_user, evidencia.reporte.piloto):
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    reporte_id = evidencia.reporte_id
    try:
        eops.delete_evidencia(current_user, evidencia)
    except FormacionError as error:
        db.session.rollback()
        _flash(error)
    else:
        db.session.commit()
        flash(_("The file was deleted."), "success")
    return redirect(url_for(".report", reporte_id=reporte_id) + "#evidencias")


@bp.route("/piloto/evidencias/<int:evidencia_id>")
@access(LOGGED_IN)
def download(evidencia_id: int) -> Any:
    evidencia = db.session.get(EvidenciaReporte, evidencia_id)
    if evidencia is None:
        abort(404)
    piloto = evidencia.reporte.piloto
    if not (is_pilot_member(current_user, piloto) or can_manage_piloto(current_user, piloto)):
        abort(404)
    path = uploads.path_for(evidencia.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        as_attachment=True,
        download_name=evidencia.original_name,
        mimetype=evidencia.content_type,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the lead's pages ------------------------------------------------------------------------------------


def pilots_in_scope(convocatoria: Convocatoria) -> list[Piloto]:
    stmt = sa.select(Piloto).where(Piloto.convocatoria_id == convocatoria.id).order_by(Piloto.name, Piloto.id)
    regions = regions_of(current_user, convocatoria.id)
    if regions is not None:
        stmt = stmt.where(Piloto.region.in_(regions))
    return list(db.session.scalars(stmt))


@bp.route("/gestion/ejecucion/<int:convocatoria_id>")
@access(LEAD)
def lead_list(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    pilots = pilots_in_scope(convocatoria)
    ids = sa.select(Piloto.id).where(Piloto.id.in_([p.id for p in pilots]))
    reportes = portfolio_q.reports_by_pilot(ids) if pilots else {}
    today = eops.today_cl()
    rows = [portfolio_q.pilot_row(p, convocatoria.title, reportes.get(p.id, []), today) for p in pilots]
    whole_call = regions_of(current_user, convocatoria.id) is None
    waiting = {
        p.id: sum(1 for r in reportes.get(p.id, []) if r.status == EstadoReporte.ENVIADO) for p in pilots
    }
    return render_template(
        "pilotos/ejecucion/lead_list.html",
        convocatoria=convocatoria,
        rows=rows,
        waiting=waiting,
        form=EmptyForm(),
        pending_awards=eops.pending_awards(convocatoria.id) if whole_call else 0,
        whole_call=whole_call,
        **_labels(),
    )


@bp.route("/gestion/ejecucion/<int:convocatoria_id>/iniciar", methods=["POST"])
@access(LEAD)
def start(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id, whole=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    created = eops.start_pilots(current_user, convocatoria)
    db.session.commit()
    flash(
        _("%(n)d pilot(s) started.", n=created)
        if created
        else _("Every awarded team already has its pilot."),
        "success",
    )
    return redirect(url_for(".lead_list", convocatoria_id=convocatoria.id))


@bp.route("/gestion/ejecucion/<int:convocatoria_id>/configuracion", methods=["GET", "POST"])
@access(LEAD)
def settings(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id, whole=True)
    config = eops.config_of(convocatoria)
    form = ConfigForm(obj=config)
    status = 200
    if form.validate_on_submit():
        try:
            eops.save_config(
                current_user,
                convocatoria,
                eops.ConfigData(
                    form.report_every_months.data,
                    form.duration_months.data,
                    form.grace_days.data,
                    bool(form.ask_sex_breakdown.data),
                    bool(form.ask_region_breakdown.data),
                ),
            )
        except FormacionError as error:
            db.session.rollback()
            _flash(error)
            status = 422
        else:
            db.session.commit()
            flash(_("Execution settings saved."), "success")
            return redirect(url_for(".settings", convocatoria_id=convocatoria.id))
    elif form.is_submitted():
        status = 422
    return render_template("pilotos/ejecucion/settings.html", convocatoria=convocatoria, form=form), status


@bp.route("/gestion/ejecucion/pilotos/<int:piloto_id>")
@access(LEAD)
def lead_pilot(piloto_id: int) -> Any:
    piloto = _managed_pilot(piloto_id)
    figures = eops.figures_of(piloto)
    today = eops.today_cl()
    late = sum(1 for r in piloto.reportes if eops.is_late(r.status, r.due_on, today))
    ended = piloto.status == EstadoPiloto.CERRADO or today > piloto.ends_on
    return render_template(
        "pilotos/ejecucion/lead_pilot.html",
        piloto=piloto,
        figures=figures,
        charts=[indicator_chart(row) for row in figures.indicators],
        reasons=eops.risk_reasons(figures, late, ended),
        form=EmptyForm(),
        **_labels(),
    )


def _hitos_from_request() -> list[eops.HitoData]:
    rows = []
    for i in range(eops.MAX_HITOS + EXTRA_HITOS):
        if f"hito-{i}-title" not in request.form:
            break
        due_text = (request.form.get(f"hito-{i}-due") or "").strip()
        try:
            due = date.fromisoformat(due_text) if due_text else None
        except ValueError:
            due = None
        rows.append(eops.HitoData((request.form.get(f"hito-{i}-title") or "")[:400], due))
    return rows


@bp.route("/gestion/ejecucion/pilotos/<int:piloto_id>/plan", methods=["GET", "POST"])
@access(LEAD)
def plan(piloto_id: int) -> Any:
    piloto = _managed_pilot(piloto_id)
    problems: list[str] = []
    beneficiaries = "" if piloto.beneficiaries_planned is None else str(piloto.beneficiaries_planned)
    hitos = [eops.HitoData(h.title, h.due_on) for h in piloto.hitos]
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        beneficiaries = (request.form.get("beneficiaries") or "").strip()[:20]
        number = parse_int(beneficiaries, minimum=0, maximum=eops.MAX_PEOPLE) if beneficiaries else None
        hitos = _hitos_from_request()
        try:
            eops.save_plan(
                current_user, piloto, number, hitos, bad_number=bool(beneficiaries) and number is None
            )
        except FormacionError as error:
            db.session.rollback()
            problems = error.messages
        else:
            db.session.commit()
            flash(_("The pilot's plan was saved."), "success")
            return redirect(url_for(".lead_pilot", piloto_id=piloto.id))
    rows = hitos + [eops.HitoData("", None) for _ in range(EXTRA_HITOS)]
    return render_template(
        "pilotos/ejecucion/plan.html",
        piloto=piloto,
        beneficiaries=beneficiaries,
        rows=rows,
        form=EmptyForm(),
        page_errors=[{"message": m} for m in problems],
    ), (422 if problems else 200)


@bp.route("/gestion/ejecucion/reportes/<int:reporte_id>", methods=["GET", "POST"])
@access(LEAD)
def review(reporte_id: int) -> Any:
    reporte = db.session.get(ReportePiloto, reporte_id)
    if reporte is None or not can_manage_piloto(current_user, reporte.piloto):
        abort(404)
    form = ReviewForm()
    problems: list[str] = []
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            if form.approve.data:
                eops.approve(current_user, reporte, form.comment.data)
                message = (
                    _("The final report was approved: the pilot is closed.")
                    if reporte.kind == TipoReporte.FINAL
                    else _("The report was approved.")
                )
            else:
                eops.send_back(current_user, reporte, form.comment.data)
                message = _("The report was sent back to the team.")
        except FormacionError as error:
            db.session.rollback()
            problems = error.messages
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(".review", reporte_id=reporte.id))
    piloto = reporte.piloto
    return render_template(
        "pilotos/ejecucion/review.html",
        piloto=piloto,
        reporte=reporte,
        data=eops.from_document(piloto, reporte.data),
        document=reporte.data or {},
        evidencias=_evidencias(reporte),
        form=form,
        can_review=reporte.status == EstadoReporte.ENVIADO,
        regions=REGIONS,
        page_errors=[{"message": m} for m in problems],
        **_labels(),
    ), (422 if problems else 200)


# --- portfolio -------------------------------------------------------------------------------------------


def _filters() -> portfolio_q.Filtros:
    region = request.args.get("region") or None
    status = request.args.get("estado") or None
    return portfolio_q.Filtros(
        convocatoria_id=parse_int(request.args.get("convocatoria"), minimum=1),
        region=region if region in REGIONS_BY_CODE else None,
        status=status if status in {s.value for s in EstadoPiloto} else None,
    )


@bp.route("/gestion/ejecucion/portafolio")
@access(LEAD)
def portfolio() -> Any:
    filtros = _filters()
    data = portfolio_q.build(current_user, filtros)
    return render_template(
        "pilotos/ejecucion/portfolio.html",
        portfolio=data,
        chart=portfolio_q.region_chart(data.regions),
        filtros=filtros,
        calls=portfolio_q.calls_in_scope(current_user),
        regions=REGIONS,
        **_labels(),
    )


@bp.route("/gestion/ejecucion/portafolio.xlsx")
@access(LEAD)
def portfolio_xlsx() -> Any:
    data = portfolio_q.build(current_user, _filters())
    response = send_file(
        io.BytesIO(portfolio_q.xlsx_bytes(data, eops.PILOT_STATUS_LABELS)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="portafolio-pilotos.xlsx",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- registration ----------------------------------------------------------------------------------------


def _nav(user: Any) -> list[dict[str, str]]:
    links = []
    if my_pilots(user):
        links.append({"url": url_for("pilotos_ejecucion.mine"), "label": _("My pilot")})
    if getattr(user, "is_authenticated", False) and user.has_any_role(Role.ENCARGADO_TECNICO):
        links.append({"url": url_for("pilotos_ejecucion.portfolio"), "label": _("Pilot portfolio")})
    return links


def _start(user: Any) -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = []
    if my_pilots(user):
        cards.append(
            {
                "url": url_for("pilotos_ejecucion.mine"),
                "label": _("My pilot"),
                "description": _("Your pilot's plan, milestones and progress reports."),
            }
        )
    if getattr(user, "is_authenticated", False) and user.has_any_role(Role.ENCARGADO_TECNICO):
        cards.append(
            {
                "url": url_for("pilotos_ejecucion.portfolio"),
                "label": _("Pilot portfolio"),
                "role": Role.ENCARGADO_TECNICO,
                "description": _(
                    "Every pilot by region and status: budget, beneficiaries and pilots at risk."
                ),
            }
        )
    return cards


def _pilotos(ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = db.session.execute(
        sa.select(Piloto.id, Piloto.name).where(Piloto.id.in_([int(i) for i in ids if i.isdigit()]))
    )
    return {str(id_): (name, url_for("pilotos_ejecucion.lead_pilot", piloto_id=id_)) for id_, name in rows}


ACTIONS = {
    "ejecucion.configured": _l("Saved a call's execution settings"),
    "piloto.started": _l("Started the pilots of the awarded teams"),
    "piloto.plan": _l("Edited a pilot's planned beneficiaries and milestones"),
    "piloto.milestone": _l("Updated a pilot's milestone"),
    "piloto.closed": _l("Closed a pilot"),
    "reporte.saved": _l("Saved a draft of a pilot report"),
    "reporte.sent": _l("Sent a pilot report"),
    "reporte.returned": _l("Sent a pilot report back for changes"),
    "reporte.approved": _l("Approved a pilot report"),
    "reporte.evidence_added": _l("Attached evidence to a pilot report"),
    "reporte.evidence_deleted": _l("Deleted evidence of a pilot report"),
}


def init_ejecucion(app: Flask) -> None:
    from idea import add_nav_provider, add_start_provider, audit
    from pilotos import ejecucion_reminders

    app.register_blueprint(bp)
    app.add_template_global(team_pilot_id)
    add_nav_provider(app, _nav)
    add_start_provider(app, _start)
    audit.register_labels(
        app,
        actions=ACTIONS,
        fields={
            "report": _l("Report"),
            "report_every_months": _l("Reports every (months)"),
            "duration_months": _l("Duration (months)"),
            "beneficiaries_planned": _l("Planned beneficiaries"),
            "hitos": _l("Milestones"),
            "done_on": _l("Done on"),
            "file": _l("File"),
        },
        objects={"Piloto": (_l("Pilot"), _pilotos)},
    )
    eops.connect()  # pilots started when a call enters `ejecucion`
    ejecucion_reminders.connect()  # late-report reminders in `flask send-reminders`
