"""The committee's pages: its calls, the final ranking with every component, the detail of a submission,
a member's conflicts of interest, and the selection rules (admin and technical lead)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from convocatorias.admisibilidad_models import DecisionAdmisibilidad, Reconsideracion
from convocatorias.models import Convocatoria, Postulacion
from convocatorias.queries import fase_label
from evaluacion import comite_conflictos as conflictos
from evaluacion import comite_ranking as cr
from evaluacion import queries
from evaluacion.comite_forms import ComiteConflictForm, RankingFilterForm, ReglasForm
from evaluacion.comite_models import Decision, Objetivo, Resultado
from evaluacion.comite_permissions import (
    COMMITTEE_PHASES,
    can_declare_conflict,
    can_edit_rules,
    can_see_postulacion,
    can_view_committee,
    is_recused,
    lead_regions,
    recused_ids,
)
from evaluacion.models import Asignacion, Conflicto, EstadoAsignacion, Puntaje, TipoConflicto
from evaluacion.operations import EvaluacionError, ensure_rubrica
from idea.extensions import db
from idea.models import Role
from idea.params import page_param
from idea.permissions import access, roles

bp = Blueprint("comite_ranking", __name__, url_prefix="/comite")

# Committee members; the admin holds every role; a technical lead reads.
COMITE_READERS = roles(Role.COMITE, Role.ENCARGADO_TECNICO)

PER_PAGE = 50

_ORDER_KEYS = {
    "final": lambda r: (r.rank, r.postulacion_id),
    "interno": lambda r: (r.internal_score is None, -(r.internal_score or 0), r.postulacion_id),
    "votos": lambda r: (-r.vote_count, r.rank, r.postulacion_id),
    "folio": lambda r: (r.folio, r.postulacion_id),
}


RESULTADO_LABELS = {
    Resultado.SELECCIONADA: _l("Selected"),
    Resultado.LISTA_ESPERA: _l("Waiting list"),
    Resultado.NO_SELECCIONADA: _l("Not selected"),
    Resultado.DECLINADA: _l("Declined"),
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    def resultado_label(value: Any) -> str:
        return str(RESULTADO_LABELS.get(Resultado(value), value))

    return {"fase_label": fase_label, "resultado_label": resultado_label}


def _call(convocatoria_id: int) -> Convocatoria:
    convocatoria = db.session.get(Convocatoria, convocatoria_id)
    if convocatoria is None or not can_view_committee(current_user, convocatoria):
        abort(404)
    return convocatoria


@bp.route("/")
@access(COMITE_READERS)
def index() -> Any:
    calls = db.session.scalars(
        sa.select(Convocatoria)
        .where(Convocatoria.fase.in_(sorted(COMMITTEE_PHASES)))
        .order_by(Convocatoria.year.desc(), Convocatoria.id.desc())
    )
    visible = [c for c in calls if can_view_committee(current_user, c)]
    return render_template("evaluacion/comite/index.html", calls=visible)


@bp.route("/convocatorias/<int:convocatoria_id>/ranking")
@access(COMITE_READERS)
def ranking(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    form = RankingFilterForm(convocatoria, formdata=request.args)
    region, desafio = form.value("region"), form.value("desafio")
    order = form.value("orden") or "final"
    only_eligible = bool(form.elegibles.data)
    inputs = cr.load_inputs(convocatoria)
    rows = cr.rank(inputs)
    reglas = cr.reglas_of(convocatoria.id)
    effect = cr.vote_effect(inputs, rows, reglas)
    scope = lead_regions(current_user, convocatoria)
    listed = [
        r
        for r in rows
        if (scope is None or r.region in scope)
        and (region is None or r.region == region)
        and (desafio is None or str(r.desafio_id) == desafio)
        and (not only_eligible or r.eligible)
    ]
    listed.sort(key=_ORDER_KEYS[order])
    args = {k: v for k, v in (("region", region), ("desafio", desafio), ("orden", order)) if v}
    if only_eligible:
        args["elegibles"] = "y"
    return render_template(
        "evaluacion/comite/ranking.html",
        convocatoria=convocatoria,
        inputs=inputs,
        reglas=reglas,
        form=form,
        page=queries.ListPage.of(listed, page_param(), PER_PAGE),
        eligible_count=sum(1 for r in rows if r.eligible),
        total=len(rows),
        effect=effect,
        recused=recused_ids(current_user, convocatoria.id),
        scope=scope,
        args=args,
        can_edit=can_edit_rules(current_user, convocatoria),
        can_declare=can_declare_conflict(current_user, convocatoria),
    )


@bp.route("/convocatorias/<int:convocatoria_id>/postulaciones/<int:postulacion_id>")
@access(COMITE_READERS)
def detail(convocatoria_id: int, postulacion_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    p = db.session.scalar(
        sa.select(Postulacion)
        .where(Postulacion.id == postulacion_id, Postulacion.convocatoria_id == convocatoria.id)
        .options(joinedload(Postulacion.organizacion), joinedload(Postulacion.desafio))
    )
    if p is None:
        abort(404)
    if not can_see_postulacion(current_user, p):
        if is_recused(current_user, p):
            return render_template(
                "evaluacion/comite/recused.html", convocatoria=convocatoria, postulacion=p
            ), 403
        abort(404)
    rubrica = ensure_rubrica(convocatoria)
    fila = next((r for r in cr.final_ranking(convocatoria) if r.postulacion_id == p.id), None)
    reviews = list(
        db.session.scalars(
            sa.select(Asignacion)
            .where(Asignacion.postulacion_id == p.id, Asignacion.status == EstadoAsignacion.ENVIADA)
            .options(selectinload(Asignacion.puntajes))
            .order_by(Asignacion.submitted_at, Asignacion.id)
        )
    )
    scores: dict[int, dict[int, Puntaje]] = {a.id: {s.criterio_id: s for s in a.puntajes} for a in reviews}
    admisibilidad = db.session.scalar(
        sa.select(DecisionAdmisibilidad)
        .where(DecisionAdmisibilidad.postulacion_id == p.id)
        .options(selectinload(DecisionAdmisibilidad.incumplidos))
    )
    reconsideraciones = list(
        db.session.scalars(
            sa.select(Reconsideracion)
            .where(Reconsideracion.postulacion_id == p.id)
            .order_by(Reconsideracion.asked_at, Reconsideracion.id)
        )
    )
    decisions = list(
        db.session.scalars(
            sa.select(Decision)
            .where(Decision.postulacion_id == p.id)
            .options(joinedload(Decision.sesion))
            .order_by(Decision.decided_at, Decision.id)
        )
    )
    return render_template(
        "evaluacion/comite/detail.html",
        convocatoria=convocatoria,
        p=p,
        rubrica=rubrica,
        fila=fila,
        reviews=reviews,
        scores=scores,
        admisibilidad=admisibilidad,
        reconsideraciones=reconsideraciones,
        decisions=decisions,
    )


@bp.route("/convocatorias/<int:convocatoria_id>/conflictos", methods=["GET", "POST"])
@access(COMITE_READERS)
def conflicts(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    if not can_declare_conflict(current_user, convocatoria):
        abort(403)
    form = ComiteConflictForm()
    if form.validate_on_submit():
        try:
            conflictos.declare_conflict(
                current_user,
                convocatoria,
                TipoConflicto(form.tipo.data),
                form.value.data or "",
                form.note.data or "",
            )
        except EvaluacionError as error:
            db.session.rollback()
            for message in error.messages:
                form.value.errors.append(message)
        else:
            db.session.commit()
            flash(_("Conflict declared: you are recused from the submissions it touches."), "success")
            return redirect(url_for(".conflicts", convocatoria_id=convocatoria.id))
    mine = list(
        db.session.scalars(
            sa.select(Conflicto)
            .where(Conflicto.user_id == current_user.id, Conflicto.convocatoria_id == convocatoria.id)
            .options(joinedload(Conflicto.postulacion))
            .order_by(Conflicto.id)
        )
    )
    recused = recused_ids(current_user, convocatoria.id)
    rows = queries.postulacion_rows(recused)
    return render_template(
        "evaluacion/comite/conflicts.html",
        convocatoria=convocatoria,
        form=form,
        conflicts=mine,
        recused=sorted(rows.values(), key=lambda r: (r.folio or "", r.id)),
        can_edit=can_edit_rules(current_user, convocatoria),
        can_declare=True,
    ), (422 if form.errors else 200)


@bp.route("/convocatorias/<int:convocatoria_id>/reglas", methods=["GET", "POST"])
@access(COMITE_READERS)
def rules(convocatoria_id: int) -> Any:
    convocatoria = _call(convocatoria_id)
    if not can_edit_rules(current_user, convocatoria):
        abort(403)
    rubrica = ensure_rubrica(convocatoria)
    current = cr.reglas_of(convocatoria.id)
    form = ReglasForm()
    if request.method == "GET":
        form.objective.data = (current.objective if current else Objetivo.RANK).value
        form.max_per_challenge.data = current.max_per_challenge if current else None
        form.max_count.data = current.max_count if current else None
        form.quorum.data = current.quorum if current else 2
        form.share_feedback.data = current.share_feedback if current else True
        form.min_final_score.data = Decimal(str(rubrica.min_final_score))
    if form.validate_on_submit():
        try:
            conflictos.save_rules(
                current_user,
                convocatoria,
                objective=Objetivo(form.objective.data),
                max_per_challenge=form.max_per_challenge.data,
                max_count=form.max_count.data,
                quorum=form.quorum.data,
                share_feedback=bool(form.share_feedback.data),
                min_final_score=float(form.min_final_score.data),
            )
        except EvaluacionError as error:
            db.session.rollback()
            for message in error.messages:
                form.min_final_score.errors.append(message)
        else:
            db.session.commit()
            flash(_("Selection rules saved."), "success")
            return redirect(url_for(".ranking", convocatoria_id=convocatoria.id))
    return render_template(
        "evaluacion/comite/rules.html",
        convocatoria=convocatoria,
        rubrica=rubrica,
        form=form,
        can_edit=True,
        can_declare=can_declare_conflict(current_user, convocatoria),
    ), (422 if form.errors else 200)
