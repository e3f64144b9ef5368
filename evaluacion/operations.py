"""State changes of the evaluation phase. Each takes its actor, checks the state, flushes, records an audit
event and never commits (the request, CLI command or job does)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from convocatorias.models import Convocatoria, Fase, Postulacion
from convocatorias.operations import fase_change_requested, fase_changed
from evaluacion import assignment as solver
from evaluacion import queries
from evaluacion.aggregation import Criterion, Scale, validate_rubric
from evaluacion.models import (
    Asignacion,
    Capacitacion,
    Conflicto,
    Criterio,
    EstadoAsignacion,
    Puntaje,
    Rubrica,
    TipoConflicto,
)
from idea import audit, chile
from idea.extensions import db
from idea.models import User


class EvaluacionError(ValueError):
    """A refused change; `messages` are meant for the user (one or more)."""

    def __init__(self, *messages: str) -> None:
        self.messages = [str(m) for m in messages if m]
        super().__init__(" ".join(self.messages))


# Data, not interface text: the default criteria are written into each call's rubric in Spanish.
DEFAULT_CRITERIA: tuple[tuple[str, str, int], ...] = (
    ("Pertinencia con el desafío", "La idea responde al problema y al grupo vulnerable del desafío.", 25),
    (
        "Innovación",
        "La solución es nueva en el territorio o para el grupo, o combina lo conocido de otra manera.",
        20,
    ),
    ("Coproducción con usuarios", "Las personas usuarias participan en diseñar y probar la solución.", 20),
    ("Factibilidad", "El equipo, el monto y los plazos permiten pilotear la idea.", 20),
    (
        "Aprendizaje y escalamiento",
        "El piloto dejará aprendizajes medibles y podría crecer o replicarse.",
        15,
    ),
)
DEFAULT_LEVELS = {"1": "No cumple", "4": "Cumple lo mínimo", "7": "Cumple de manera sobresaliente"}


# --- rubric -------------------------------------------------------------------------------------------


def ensure_rubrica(convocatoria: Convocatoria) -> Rubrica:
    """The call's rubric, created with the default criteria the first time it is asked for (normally when
    the call enters admisibilidad; the lazy path covers calls that got there before this package existed)."""
    rubrica = db.session.scalar(sa.select(Rubrica).where(Rubrica.convocatoria_id == convocatoria.id))
    if rubrica is not None:
        return rubrica
    rubrica = Rubrica(
        convocatoria=convocatoria,
        scale_min=1,
        scale_max=7,
        pass_mark=4.0,
        min_final_score=4.0,
        reviewers_per_submission=2,
        exclude_own_region=False,
        outlier_threshold=2.0,
        guide="",
        calibration_title="",
        calibration_text="",
        locked=False,
    )
    for position, (name, description, weight) in enumerate(DEFAULT_CRITERIA):
        rubrica.criterios.append(
            Criterio(
                position=position,
                name=name,
                description=description,
                weight=weight,
                level_descriptions=dict(DEFAULT_LEVELS),
            )
        )
    try:
        with db.session.begin_nested():  # two first requests at once: the second reads the first's rubric
            db.session.add(rubrica)
    except IntegrityError:
        return db.session.scalars(sa.select(Rubrica).where(Rubrica.convocatoria_id == convocatoria.id)).one()
    return rubrica


@dataclass
class CriterioData:
    name: str
    weight: int
    description: str = ""
    level_descriptions: dict[str, str] = field(default_factory=dict)


@dataclass
class RubricaData:
    criterios: list[CriterioData]
    scale_min: int = 1
    scale_max: int = 7
    pass_mark: float = 4.0
    min_final_score: float = 4.0
    guide: str = ""
    reviewers_per_submission: int = 2
    exclude_own_region: bool = False
    outlier_threshold: float = 2.0


RUBRICA_FIELDS = (
    "scale_min",
    "scale_max",
    "pass_mark",
    "min_final_score",
    "guide",
    "reviewers_per_submission",
    "exclude_own_region",
    "outlier_threshold",
    "locked",
)


def _rubrica_snapshot(rubrica: Rubrica) -> dict[str, object]:
    data = audit.snapshot(rubrica, RUBRICA_FIELDS)
    data["criterios"] = [{"name": c.name, "weight": c.weight} for c in rubrica.criterios]
    return data


def update_rubrica(actor: User, rubrica: Rubrica, data: RubricaData) -> None:
    """Replace the criteria and settings; refused while the rubric is locked or when it does not add up."""
    if rubrica.locked:
        raise EvaluacionError(_("The rubric is locked because evaluations have been submitted."))
    messages = validate_rubric(
        [Criterion(c.name, c.weight) for c in data.criterios],
        Scale(data.scale_min, data.scale_max, data.pass_mark),
    )
    if not data.scale_min <= data.min_final_score <= data.scale_max:
        messages.append(_("The minimum final score must be within the scale."))
    if data.reviewers_per_submission < 1 or data.outlier_threshold < 0:
        messages.append(_("Reviewers per submission must be at least 1 and the threshold 0 or more."))
    if messages:
        raise EvaluacionError(*messages)
    before = _rubrica_snapshot(rubrica)
    for name in RUBRICA_FIELDS[:-1]:
        setattr(rubrica, name, getattr(data, name))
    existing = {c.name.casefold(): c for c in rubrica.criterios}
    kept: list[Criterio] = []
    for position, item in enumerate(data.criterios):
        criterio = existing.pop(item.name.strip().casefold(), None) or Criterio(name=item.name.strip())
        criterio.position = position
        criterio.weight = item.weight
        criterio.description = item.description
        criterio.level_descriptions = dict(item.level_descriptions)
        kept.append(criterio)
    rubrica.criterios[:] = kept
    db.session.flush()
    audit.record(actor, "rubrica.updated", rubrica, before=before, after=_rubrica_snapshot(rubrica))


def unlock_rubrica(actor: User, rubrica: Rubrica, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise EvaluacionError(_("Say why the rubric is unlocked."))
    if not rubrica.locked:
        return
    rubrica.locked = False
    db.session.flush()
    audit.record(
        actor, "rubrica.unlocked", rubrica, before={"locked": True}, after={"locked": False, "reason": reason}
    )


def set_calibration(
    actor: User, rubrica: Rubrica, title: str, text: str, references: Mapping[int, int]
) -> None:
    """The lead's calibration example and their reference score on each criterion."""
    for criterio in rubrica.criterios:
        value = references.get(criterio.id)
        if value is None or not rubrica.scale_min <= value <= rubrica.scale_max:
            raise EvaluacionError(_("Give a reference score within the scale for every criterion."))
    before = {
        "title": rubrica.calibration_title,
        "references": {c.name: c.reference_score for c in rubrica.criterios},
    }
    rubrica.calibration_title = title.strip()
    rubrica.calibration_text = text.strip()
    for criterio in rubrica.criterios:
        criterio.reference_score = references[criterio.id]
    db.session.flush()
    audit.record(
        actor,
        "rubrica.calibration",
        rubrica,
        before=before,
        after={
            "title": rubrica.calibration_title,
            "references": {c.name: c.reference_score for c in rubrica.criterios},
        },
    )


# --- training and conflicts --------------------------------------------------------------------------


def complete_training(actor: User, rubrica: Rubrica, scores: Mapping[int, int]) -> Capacitacion:
    """Record the reviewer's acknowledgement of the guide with their scores of the calibration example."""
    for criterio in rubrica.criterios:
        value = scores.get(criterio.id)
        if value is None or not rubrica.scale_min <= value <= rubrica.scale_max:
            raise EvaluacionError(_("Score the example on every criterion."))
    existing = queries.training_of(actor, rubrica.convocatoria_id)
    if existing is not None:
        return existing
    capacitacion = Capacitacion(
        user_id=actor.id,
        convocatoria_id=rubrica.convocatoria_id,
        completed_at=chile.utcnow(),
        scores={str(c.id): scores[c.id] for c in rubrica.criterios},
    )
    db.session.add(capacitacion)
    db.session.flush()
    audit.record(actor, "evaluacion.training_completed", capacitacion, after=capacitacion.scores)
    return capacitacion


def declare_conflict(
    actor: User, convocatoria: Convocatoria, tipo: TipoConflicto, value: str, note: str = ""
) -> Conflicto:
    """A conflict with an organisation, a person (RUT) or a region; assignments it touches are withdrawn and
    the submissions reassigned when possible."""
    if tipo in (TipoConflicto.ORGANIZACION, TipoConflicto.PERSONA):
        try:
            value = chile.normalize_rut(value)
        except ValueError as exc:
            raise EvaluacionError(str(exc)) from exc
    elif tipo == TipoConflicto.REGION:
        if chile.region_name(value, default="") == "":
            raise EvaluacionError(_("Choose a region."))
    else:
        raise EvaluacionError(_("Choose what the conflict is with."))
    conflicto = Conflicto(
        user_id=actor.id, convocatoria_id=convocatoria.id, tipo=tipo, value=value, note=note.strip()
    )
    db.session.add(conflicto)
    db.session.flush()
    audit.record(actor, "evaluacion.conflict_declared", conflicto, after={"tipo": tipo, "value": value})
    _withdraw_conflicting(actor, convocatoria)
    return conflicto


def declare_item_conflict(actor: User, asignacion: Asignacion, note: str = "") -> Conflicto:
    """A conflict with the one submission the reviewer was given: withdraw and reassign it."""
    if asignacion.is_submitted:
        raise EvaluacionError(_("This evaluation was already submitted."))
    conflicto = Conflicto(
        user_id=actor.id,
        convocatoria_id=asignacion.convocatoria_id,
        tipo=TipoConflicto.POSTULACION,
        postulacion_id=asignacion.postulacion_id,
        note=note.strip(),
    )
    db.session.add(conflicto)
    db.session.flush()
    audit.record(
        actor,
        "evaluacion.conflict_declared",
        conflicto,
        after={"tipo": TipoConflicto.POSTULACION, "postulacion_id": asignacion.postulacion_id},
    )
    _withdraw_conflicting(actor, asignacion.postulacion.convocatoria)
    return conflicto


def _withdraw_conflicting(actor: User, convocatoria: Convocatoria) -> None:
    """Withdraw the unsubmitted assignments that a conflict now forbids and give each submission a
    replacement where one is free (a missing replacement shows on the lead's dashboard)."""
    ctx = queries.solver_context(convocatoria)
    rules = solver._Rules(ctx.conflicts, ctx.exclude_own_region)
    reviewers = {r.id: r for r in ctx.reviewers}
    for a in ctx.active:
        if a.is_submitted or a.user_id not in reviewers:
            continue
        if rules.blocked(reviewers[a.user_id], ctx.submissions[a.postulacion_id]) is None:
            continue
        _withdraw(actor, a, "conflict")
        # No free replacement: the dashboard lists the submission as short of reviewers.
        with contextlib.suppress(EvaluacionError):
            add_reviewer(actor, a.postulacion)


def _withdraw(actor: User, asignacion: Asignacion, why: str) -> None:
    before = asignacion.status
    asignacion.status = EstadoAsignacion.RETIRADA
    db.session.flush()
    audit.record(
        actor,
        "asignacion.withdrawn",
        asignacion,
        before={"status": before},
        after={"status": asignacion.status, "why": why},
    )


# --- assignment --------------------------------------------------------------------------------------


def _create_assignment(
    actor: User, convocatoria_id: int, reviewer_id: int, postulacion_id: int
) -> Asignacion:
    existing = db.session.scalar(
        sa.select(Asignacion).where(
            Asignacion.user_id == reviewer_id, Asignacion.postulacion_id == postulacion_id
        )
    )
    if existing is not None:
        if existing.is_active:
            raise EvaluacionError(_("This reviewer is already assigned to this submission."))
        existing.status = EstadoAsignacion.PENDIENTE  # a manual re-add of a removed pair
        asignacion = existing
    else:
        asignacion = Asignacion(
            convocatoria_id=convocatoria_id,
            user_id=reviewer_id,
            postulacion_id=postulacion_id,
            created_by_id=actor.id,
            status=EstadoAsignacion.PENDIENTE,
            overall_comment="",
        )
        db.session.add(asignacion)
    db.session.flush()
    audit.record(
        actor,
        "asignacion.created",
        asignacion,
        after={"user_id": reviewer_id, "postulacion_id": postulacion_id},
    )
    return asignacion


def assign_automatically(actor: User, convocatoria: Convocatoria) -> int:
    """Give every admissible submission k conflict-free reviewers, keeping current assignments; return how
    many were added. When impossible, nothing is assigned and the error names each reason."""
    ctx = queries.solver_context(convocatoria)
    if not ctx.submissions:
        raise EvaluacionError(_("There are no admissible submissions to assign."))
    if not ctx.reviewers:
        raise EvaluacionError(_("The call has no reviewers."))
    try:
        result = solver.assign_reviewers(
            list(ctx.submissions.values()),
            ctx.reviewers,
            k=ctx.k,
            conflicts=ctx.conflicts,
            exclude_own_region=ctx.exclude_own_region,
            keep=ctx.keep,
            removed=ctx.removed,
        )
    except solver.AssignmentImpossible as exc:
        raise EvaluacionError(*[reason.message for reason in exc.reasons]) from exc
    for reviewer_id, postulacion_id in result.added:
        _create_assignment(actor, convocatoria.id, reviewer_id, postulacion_id)
    audit.record(actor, "evaluacion.assigned", convocatoria, after={"added": len(result.added)})
    return len(result.added)


def assign_manually(
    actor: User, convocatoria: Convocatoria, reviewer: User, postulacion: Postulacion
) -> Asignacion:
    ctx = queries.solver_context(convocatoria)
    reviewers = {r.id: r for r in ctx.reviewers}
    if reviewer.id not in reviewers or postulacion.id not in ctx.submissions:
        raise EvaluacionError(_("Choose a reviewer of this call and an admissible submission."))
    why = solver._Rules(ctx.conflicts, ctx.exclude_own_region).blocked(
        reviewers[reviewer.id], ctx.submissions[postulacion.id]
    )
    if why is not None:
        raise EvaluacionError(_("This reviewer cannot review this submission: %(why)s.", why=why))
    return _create_assignment(actor, convocatoria.id, reviewer.id, postulacion.id)


def remove_assignment(actor: User, asignacion: Asignacion) -> None:
    if asignacion.is_submitted:
        raise EvaluacionError(_("A submitted evaluation cannot be removed; reopen it first."))
    if not asignacion.is_active:
        return
    _withdraw(actor, asignacion, "lead")


def add_reviewer(actor: User, postulacion: Postulacion) -> Asignacion:
    """One more reviewer for one submission (the outlier action): the least loaded one free of conflict."""
    ctx = queries.solver_context(postulacion.convocatoria)
    if postulacion.id not in ctx.submissions:
        raise EvaluacionError(_("Only admissible submissions are reviewed."))
    try:
        reviewer_id = solver.add_reviewer(
            ctx.submissions[postulacion.id],
            ctx.reviewers,
            ctx.keep,
            conflicts=ctx.conflicts,
            exclude_own_region=ctx.exclude_own_region,
            removed=ctx.removed,
        )
    except solver.AssignmentImpossible as exc:
        raise EvaluacionError(*[reason.message for reason in exc.reasons]) from exc
    return _create_assignment(actor, postulacion.convocatoria_id, reviewer_id, postulacion.id)


# --- scoring -----------------------------------------------------------------------------------------


@dataclass
class ScoreInput:
    value: int | None
    comment: str = ""


def save_evaluation(
    actor: User,
    asignacion: Asignacion,
    rubrica: Rubrica,
    scores: Mapping[int, ScoreInput],
    overall_comment: str,
    *,
    submit: bool,
) -> None:
    """Save the reviewer's scores as a draft, or submit them (every criterion scored; then locked)."""
    if actor.id != asignacion.user_id:
        raise EvaluacionError(_("Only the assigned reviewer scores this submission."))
    if asignacion.is_submitted:
        raise EvaluacionError(_("This evaluation was already submitted."))
    if not asignacion.is_active:
        raise EvaluacionError(_("This assignment was withdrawn."))
    if asignacion.postulacion.convocatoria.fase != Fase.EVALUACION:
        raise EvaluacionError(_("Scoring is closed: the call is no longer in its evaluation phase."))
    by_criterio = {p.criterio_id: p for p in asignacion.puntajes}
    missing = []
    for criterio in rubrica.criterios:
        given = scores.get(criterio.id) or ScoreInput(None)
        if given.value is not None and not rubrica.scale_min <= given.value <= rubrica.scale_max:
            raise EvaluacionError(
                _("Scores go from %(min)d to %(max)d.", min=rubrica.scale_min, max=rubrica.scale_max)
            )
        if given.value is None:
            missing.append(criterio.name)
        puntaje = by_criterio.get(criterio.id)
        if puntaje is None:
            puntaje = Puntaje(criterio_id=criterio.id, comment="")
            asignacion.puntajes.append(puntaje)
        puntaje.value = given.value
        puntaje.comment = given.comment.strip()
    asignacion.overall_comment = overall_comment.strip()
    if submit and missing:
        raise EvaluacionError(
            _("Score every criterion before submitting: %(names)s.", names=", ".join(missing))
        )
    asignacion.status = EstadoAsignacion.ENVIADA if submit else EstadoAsignacion.BORRADOR
    if submit:
        asignacion.submitted_at = chile.utcnow()
        rubrica.locked = True  # from the first submitted evaluation on, everyone scores the same rubric
    try:
        db.session.flush()
    except IntegrityError as exc:  # a parallel save of the same evaluation
        db.session.rollback()
        raise EvaluacionError(_("This evaluation was changed at the same time; try again.")) from exc
    audit.record(
        actor,
        "evaluacion.submitted" if submit else "evaluacion.saved",
        asignacion,
        after={"scores": {str(p.criterio_id): p.value for p in asignacion.puntajes}},
    )


def reopen_evaluation(actor: User, asignacion: Asignacion, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise EvaluacionError(_("Say why the evaluation is reopened."))
    if not asignacion.is_submitted:
        raise EvaluacionError(_("Only a submitted evaluation can be reopened."))
    asignacion.status = EstadoAsignacion.BORRADOR
    asignacion.submitted_at = None
    asignacion.reopened_reason = reason
    db.session.flush()
    audit.record(
        actor,
        "evaluacion.reopened",
        asignacion,
        before={"status": EstadoAsignacion.ENVIADA},
        after={"status": asignacion.status, "reason": reason},
    )


def release_assignment(actor: User, asignacion: Asignacion, reason: str) -> None:
    """Let the call leave `evaluacion` without this evaluation, saying why."""
    reason = (reason or "").strip()
    if not reason:
        raise EvaluacionError(_("Say why the evaluation is released."))
    asignacion.released_at = chile.utcnow()
    asignacion.released_reason = reason
    db.session.flush()
    audit.record(actor, "asignacion.released", asignacion, after={"reason": reason})


# --- phase guard -------------------------------------------------------------------------------------


def _guard_leaving_evaluacion(convocatoria: Convocatoria, target: Fase, **_kwargs: object) -> str | None:
    if convocatoria.fase != Fase.EVALUACION:
        return None
    pending = queries.unscored_count(convocatoria.id)
    if pending:
        return _(
            "%(num)d assigned evaluations are not submitted; the lead must score or release them first.",
            num=pending,
        )
    return None


def _on_fase_changed(convocatoria: Convocatoria, after: Fase | None = None, **_kwargs: object) -> None:
    # The rubric exists before anyone scores, so the admin can edit it and the lead write the calibration.
    if after in (Fase.ADMISIBILIDAD, Fase.EVALUACION):
        ensure_rubrica(convocatoria)


def connect() -> None:
    fase_change_requested.connect(_guard_leaving_evaluacion, weak=False)
    fase_changed.connect(_on_fase_changed, weak=False)
