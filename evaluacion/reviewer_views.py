"""The reviewer's pages: their calls and assignments, training, conflict declarations, scoring."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from convocatorias.models import Convocatoria, Fase
from evaluacion import operations as ops
from evaluacion import queries
from evaluacion.forms import ConflictForm, ItemConflictForm, parsed_scores, score_form
from evaluacion.models import Asignacion, TipoConflicto
from evaluacion.permissions import can_open_assignment, is_reviewer_of
from idea.extensions import db
from idea.models import Role
from idea.permissions import access, roles

bp = Blueprint("evaluacion_reviewer", __name__, url_prefix="/evaluacion")

REVIEWER = roles(Role.EVALUADOR)


def _call(convocatoria_id: int) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not is_reviewer_of(current_user, convocatoria.id):
        abort(404)
    return convocatoria


def _errors(error: ops.EvaluacionError) -> None:
    for message in error.messages:
        flash(message, "error")


@bp.route("/")
@access(REVIEWER)
def index() -> Any:
    assignments = queries.my_assignments(current_user)
    call_ids = sorted(
        {a.convocatoria_id for a in assignments}
        | {r.convocatoria_id for r in current_user.roles if r.role == Role.EVALUADOR and r.convocatoria_id}
    )
    calls = [c for c in (db.session.get(Convocatoria, i) for i in call_ids) if c is not None]
    if any(r.role == Role.EVALUADOR and r.convocatoria_id is None for r in current_user.roles):
        calls += list(
            db.session.scalars(
                db.select(Convocatoria).where(
                    Convocatoria.fase == Fase.EVALUACION, Convocatoria.id.not_in(call_ids or [0])
                )
            )
        )
    return render_template(
        "evaluacion/reviewer/index.html",
        calls=calls,
        assignments=assignments,
        trained=queries.my_trainings(current_user),
    )


@bp.route("/convocatorias/<int:convocatoria_id>/capacitacion", methods=["GET", "POST"])
@access(REVIEWER)
def training(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    rubrica = queries.rubrica_of(convocatoria.id)
    done = queries.training_of(current_user, convocatoria.id)
    if rubrica is None or not rubrica.has_calibration:
        return render_template(
            "evaluacion/reviewer/training.html",
            convocatoria=convocatoria,
            rubrica=rubrica,
            form=None,
            done=done,
            distances=None,
        )
    form = score_form(rubrica, with_comments=False)
    distances = None
    if form.validate_on_submit():
        given = parsed_scores(form, rubrica)
        try:
            done = ops.complete_training(
                current_user, rubrica, {k: v for k, v in given.items() if v is not None}
            )
        except ops.EvaluacionError as error:
            _errors(error)
            return render_template(
                "evaluacion/reviewer/training.html",
                convocatoria=convocatoria,
                rubrica=rubrica,
                form=form,
                done=None,
                distances=None,
            ), 422
        flash(_("Training recorded. You may now score your assigned submissions."), "success")
    if done is not None:
        distances = [(c, done.scores.get(str(c.id)), c.reference_score) for c in rubrica.criterios]
    return render_template(
        "evaluacion/reviewer/training.html",
        convocatoria=convocatoria,
        rubrica=rubrica,
        form=form,
        done=done,
        distances=distances,
    )


@bp.route("/convocatorias/<int:convocatoria_id>/conflictos", methods=["GET", "POST"])
@access(REVIEWER)
def conflicts(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    form = ConflictForm()
    status = 200
    if form.validate_on_submit():
        tipo = TipoConflicto(form.tipo.data)
        value = form.region.data if tipo == TipoConflicto.REGION else (form.rut.data or "")
        try:
            ops.declare_conflict(current_user, convocatoria, tipo, value, form.note.data or "")
        except ops.EvaluacionError as error:
            _errors(error)
            status = 422
        else:
            flash(_("Conflict declared. Submissions it touches were reassigned."), "success")
            return redirect(url_for(".conflicts", convocatoria_id=convocatoria.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "evaluacion/reviewer/conflicts.html",
        convocatoria=convocatoria,
        form=form,
        conflicts=queries.my_conflicts(current_user, convocatoria.id),
    ), status


def _assignment(asignacion_id: int) -> Asignacion:
    asignacion = db.session.get(Asignacion, asignacion_id)
    if asignacion is None or not can_open_assignment(current_user, asignacion):
        abort(404)
    return asignacion


@bp.route("/asignaciones/<int:asignacion_id>", methods=["GET", "POST"])
@access(REVIEWER)
def score(asignacion_id: int) -> Any:
    asignacion = _assignment(asignacion_id)
    rubrica = queries.rubrica_of(asignacion.convocatoria_id)
    if rubrica is None or queries.training_of(current_user, asignacion.convocatoria_id) is None:
        return render_template("evaluacion/reviewer/untrained.html", asignacion=asignacion), 403
    data = {
        f"score_{p.criterio_id}": str(p.value) if p.value is not None else None for p in asignacion.puntajes
    }
    data |= {f"comment_{p.criterio_id}": p.comment for p in asignacion.puntajes}
    form = score_form(rubrica, data=data | {"overall": asignacion.overall_comment})
    status = 200
    if form.validate_on_submit():
        values = parsed_scores(form, rubrica)
        scores = {
            cid: ops.ScoreInput(value, form[f"comment_{cid}"].data or "") for cid, value in values.items()
        }
        submit = bool(form.send.data)
        try:
            ops.save_evaluation(
                current_user, asignacion, rubrica, scores, form.overall.data or "", submit=submit
            )
        except ops.EvaluacionError as error:
            _errors(error)
            status = 409 if asignacion.is_submitted else 422
        else:
            flash(_("Evaluation submitted.") if submit else _("Draft saved."), "success")
            return redirect(url_for(".score", asignacion_id=asignacion.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "evaluacion/reviewer/score.html",
        asignacion=asignacion,
        rubrica=rubrica,
        form=form,
        postulacion=asignacion.postulacion,
        conflict_form=ItemConflictForm(),
    ), status


@bp.route("/asignaciones/<int:asignacion_id>/conflicto", methods=["POST"])
@access(REVIEWER)
def item_conflict(asignacion_id: int) -> Any:
    asignacion = _assignment(asignacion_id)
    form = ItemConflictForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.declare_item_conflict(current_user, asignacion, form.note.data or "")
    except ops.EvaluacionError as error:
        _errors(error)
        return redirect(url_for(".score", asignacion_id=asignacion.id))
    flash(_("Conflict declared; the submission was taken off your list."), "success")
    return redirect(url_for(".index"))
