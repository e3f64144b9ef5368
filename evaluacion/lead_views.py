"""The technical lead's evaluation pages (dashboard, assignment, calibration, exports) and the admin's rubric
editor."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from convocatorias import exports, lead_queries
from convocatorias.models import Convocatoria, Fase, Postulacion
from convocatorias.permissions import is_staff_for
from evaluacion import operations as ops
from evaluacion import queries
from evaluacion.forms import (
    ManualAssignForm,
    ReasonForm,
    calibration_form,
    parse_levels,
    rubrica_form,
)
from evaluacion.models import Asignacion
from evaluacion.permissions import can_lead, can_lead_whole_call, can_manage_assignment
from idea import audit
from idea.extensions import db
from idea.models import Role, User
from idea.params import choice_param, clean_text, page_param, parse_int
from idea.permissions import ADMIN, access, roles

bp = Blueprint("evaluacion_lead", __name__, url_prefix="/gestion/evaluacion")

LEAD = roles(Role.ENCARGADO_TECNICO)


def _call(convocatoria_id: int, *, whole: bool = False) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    check = can_lead_whole_call if whole else can_lead
    if convocatoria is None or not check(current_user, convocatoria):
        abort(404)
    return convocatoria


def _errors(error: ops.EvaluacionError) -> None:
    for message in error.messages:
        flash(message, "error")


def _back(convocatoria_id: int) -> Any:
    return redirect(url_for(".dashboard", convocatoria_id=convocatoria_id))


@bp.route("/")
@access(LEAD)
def index() -> Any:
    calls = [c for c in lead_queries.visible_calls(current_user) if c.fase != Fase.BORRADOR]
    return render_template("evaluacion/lead/index.html", calls=calls)


@bp.route("/convocatorias/<int:convocatoria_id>")
@access(LEAD)
def dashboard(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    rubrica = ops.ensure_rubrica(convocatoria)
    data = queries.dashboard(current_user, convocatoria, rubrica, page_param())
    whole = can_lead_whole_call(current_user, convocatoria)
    manual = ManualAssignForm()
    manual.reviewer.choices = [("", _("Choose a reviewer"))] + [
        (str(u.id), u.name) for u in queries.reviewers_of(convocatoria.id)
    ]
    return render_template(
        "evaluacion/lead/dashboard.html",
        convocatoria=convocatoria,
        data=data,
        rubrica=rubrica,
        whole=whole,
        manual=manual,
        reason_form=ReasonForm(),
    )


@bp.route("/convocatorias/<int:convocatoria_id>/ranking")
@access(LEAD)
def ranking(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    rubrica = ops.ensure_rubrica(convocatoria)
    order = choice_param("orden", queries.RANKING_ORDERS) or queries.RANKING_ORDERS[0]
    data, listed, postulaciones = queries.ranking_page(
        current_user, convocatoria, rubrica, order, page_param()
    )
    return render_template(
        "evaluacion/lead/ranking.html",
        convocatoria=convocatoria,
        rubrica=rubrica,
        data=data,
        listed=listed,
        postulaciones=postulaciones,
        order=order,
    )


@bp.route("/convocatorias/<int:convocatoria_id>/asignar", methods=["POST"])
@access(LEAD)
def assign(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id, whole=True)
    try:
        added = ops.assign_automatically(current_user, convocatoria)
    except ops.EvaluacionError as error:
        _errors(error)
        return render_template(
            "evaluacion/lead/refused.html", convocatoria=convocatoria, messages=error.messages
        ), 409
    flash(_("%(num)d assignments added.", num=added), "success")
    return _back(convocatoria.id)


@bp.route("/convocatorias/<int:convocatoria_id>/asignaciones", methods=["POST"])
@access(LEAD)
def assign_manually(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    # Parsed within what an id column holds: a huge number would overflow the query (a 500).
    reviewer_id = parse_int(request.form.get("reviewer"), minimum=1)
    reviewer = db.session.get(User, reviewer_id) if reviewer_id else None
    if reviewer is None:
        abort(404)
    folio = clean_text(request.form.get("postulacion"), 30).upper()
    postulacion = queries.postulacion_by_folio(convocatoria.id, folio) if folio else None
    if postulacion is None or not is_staff_for(current_user, postulacion):
        flash(_("No submission of this call has the folio %(folio)s.", folio=folio or "—"), "error")
        return _back(convocatoria.id)
    try:
        ops.assign_manually(current_user, convocatoria, reviewer, postulacion)
    except ops.EvaluacionError as error:
        _errors(error)
        return _back(convocatoria.id)
    flash(_("Reviewer assigned."), "success")
    return _back(convocatoria.id)


def _managed(asignacion_id: int) -> Asignacion:
    asignacion = db.session.get(Asignacion, asignacion_id)
    if asignacion is None or not can_manage_assignment(current_user, asignacion):
        abort(404)
    return asignacion


@bp.route("/asignaciones/<int:asignacion_id>/quitar", methods=["POST"])
@access(LEAD)
def remove(asignacion_id: int) -> Any:
    asignacion = _managed(asignacion_id)
    try:
        ops.remove_assignment(current_user, asignacion)
    except ops.EvaluacionError as error:
        _errors(error)
    else:
        flash(_("Assignment removed."), "success")
    return _back(asignacion.convocatoria_id)


def _with_reason(asignacion_id: int, action: Any, done: str) -> Any:
    asignacion = _managed(asignacion_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Say why."), "error")
        return _back(asignacion.convocatoria_id)
    try:
        action(current_user, asignacion, form.reason.data)
    except ops.EvaluacionError as error:
        _errors(error)
    else:
        flash(done, "success")
    return _back(asignacion.convocatoria_id)


@bp.route("/asignaciones/<int:asignacion_id>/reabrir", methods=["POST"])
@access(LEAD)
def reopen(asignacion_id: int) -> Any:
    return _with_reason(asignacion_id, ops.reopen_evaluation, _("Evaluation reopened."))


@bp.route("/asignaciones/<int:asignacion_id>/liberar", methods=["POST"])
@access(LEAD)
def release(asignacion_id: int) -> Any:
    return _with_reason(asignacion_id, ops.release_assignment, _("Evaluation released."))


@bp.route("/postulaciones/<int:postulacion_id>/agregar-evaluador", methods=["POST"])
@access(LEAD)
def add_reviewer(postulacion_id: int) -> Any:
    postulacion = db.session.get(Postulacion, postulacion_id)
    if postulacion is None or not is_staff_for(current_user, postulacion):
        abort(404)
    try:
        ops.add_reviewer(current_user, postulacion)
    except ops.EvaluacionError as error:
        _errors(error)
    else:
        flash(_("One more reviewer was assigned to %(folio)s.", folio=postulacion.folio), "success")
    return _back(postulacion.convocatoria_id)


def _export(convocatoria_id: int, extension: str) -> Any:
    convocatoria = _call(convocatoria_id)
    rubrica = ops.ensure_rubrica(convocatoria)
    headers = [
        _("Folio"),
        _("Title"),
        _("Region"),
        _("Reviewer"),
        _("E-mail"),
        _("Criterion"),
        _("Weight (%)"),
        _("Score"),
        _("Comment"),
        _("Overall comment"),
        _("Submitted at (Chile time)"),
    ]
    rows = [
        [*row[:-1], exports._local(row[-1])]
        for row in queries.export_rows(current_user, convocatoria, rubrica)
    ]
    if extension == "csv":
        data, mimetype = exports.to_csv(rows, headers), exports.CSV_MIMETYPE
    else:
        data, mimetype = exports.to_xlsx(rows, headers, _("Scores")), exports.XLSX_MIMETYPE
    audit.record(
        current_user, "evaluacion.export", convocatoria, after={"format": extension, "rows": len(rows)}
    )
    response = send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"puntajes-{convocatoria.slug}.{extension}",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/convocatorias/<int:convocatoria_id>/puntajes.csv")
@access(LEAD)
def export_csv(convocatoria_id: int) -> Any:
    return _export(convocatoria_id, "csv")


@bp.route("/convocatorias/<int:convocatoria_id>/puntajes.xlsx")
@access(LEAD)
def export_xlsx(convocatoria_id: int) -> Any:
    return _export(convocatoria_id, "xlsx")


@bp.route("/convocatorias/<int:convocatoria_id>/calibracion", methods=["GET", "POST"])
@access(LEAD)
def calibration(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id, whole=True)
    rubrica = ops.ensure_rubrica(convocatoria)
    data = {"title": rubrica.calibration_title, "text": rubrica.calibration_text}
    data |= {
        f"ref_{c.id}": str(c.reference_score) for c in rubrica.criterios if c.reference_score is not None
    }
    form = calibration_form(rubrica, data=data)
    status = 200
    if form.validate_on_submit():
        refs = {c.id: int(form[f"ref_{c.id}"].data) for c in rubrica.criterios}
        try:
            ops.set_calibration(current_user, rubrica, form.title.data, form.text.data, refs)
        except ops.EvaluacionError as error:
            _errors(error)
            status = 422
        else:
            flash(_("Calibration example saved."), "success")
            return _back(convocatoria.id)
    elif form.is_submitted():
        status = 422
    return render_template(
        "evaluacion/lead/calibration.html", convocatoria=convocatoria, rubrica=rubrica, form=form
    ), status


@bp.route("/convocatorias/<int:convocatoria_id>/rubrica", methods=["GET", "POST"])
@access(ADMIN)
def rubric(convocatoria_id: int) -> Any:
    convocatoria = db.session.get(Convocatoria, convocatoria_id) or abort(404)
    rubrica = ops.ensure_rubrica(convocatoria)
    count = len(rubrica.criterios) + 2
    if request.method == "POST":
        form = rubrica_form(count)
    else:
        form = rubrica_form(
            count,
            obj=rubrica,
            data={
                "criterios": [
                    {
                        "name": c.name,
                        "weight": c.weight,
                        "description": c.description,
                        "levels": "\n".join(
                            f"{k}: {v}"
                            for k, v in sorted(c.level_descriptions.items(), key=lambda kv: int(kv[0]))
                        ),
                    }
                    for c in rubrica.criterios
                ]
            },
        )
    status = 200
    if form.validate_on_submit():
        criterios = [
            ops.CriterioData(
                name=(entry.form.name.data or "").strip(),
                weight=entry.form.weight.data,
                description=entry.form.description.data or "",
                level_descriptions=parse_levels(entry.form.levels.data or ""),
            )
            for entry in form.criterios
            if (entry.form.name.data or "").strip()
        ]
        data = ops.RubricaData(
            criterios=criterios,
            scale_min=form.scale_min.data,
            scale_max=form.scale_max.data,
            pass_mark=float(form.pass_mark.data or Decimal(0)),
            min_final_score=float(form.min_final_score.data or Decimal(0)),
            guide=form.guide.data or "",
            reviewers_per_submission=form.reviewers_per_submission.data,
            exclude_own_region=bool(form.exclude_own_region.data),
            outlier_threshold=float(form.outlier_threshold.data or Decimal(0)),
        )
        try:
            ops.update_rubrica(current_user, rubrica, data)
        except ops.EvaluacionError as error:
            _errors(error)
            status = 422
        else:
            flash(_("Rubric saved."), "success")
            return redirect(url_for(".rubric", convocatoria_id=convocatoria.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "evaluacion/lead/rubric.html",
        convocatoria=convocatoria,
        rubrica=rubrica,
        form=form,
        reason_form=ReasonForm(),
    ), status


@bp.route("/convocatorias/<int:convocatoria_id>/rubrica/desbloquear", methods=["POST"])
@access(ADMIN)
def unlock(convocatoria_id: int) -> Any:
    convocatoria = db.session.get(Convocatoria, convocatoria_id) or abort(404)
    rubrica = ops.ensure_rubrica(convocatoria)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Say why."), "error")
    else:
        ops.unlock_rubrica(current_user, rubrica, form.reason.data)
        flash(_("Rubric unlocked."), "success")
    return redirect(url_for(".rubric", convocatoria_id=convocatoria.id))
