"""Operations of the committee's preparation: a member declares a conflict of interest, the lead or admin sets
the selection rules. Each takes an explicit actor, records an audit event and never commits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from convocatorias.models import Convocatoria, EstadoPostulacion, Postulacion
from evaluacion.comite_models import Objetivo, ReglasSeleccion
from evaluacion.models import Conflicto, Rubrica, TipoConflicto
from evaluacion.operations import EvaluacionError, ensure_rubrica
from idea import audit, chile
from idea.extensions import db
from idea.models import User

COMMITTEE_CONFLICT_TYPES = (TipoConflicto.POSTULACION, TipoConflicto.ORGANIZACION)


def declare_conflict(
    actor: User, convocatoria: Convocatoria, tipo: TipoConflicto, value: str, note: str = ""
) -> Conflicto:
    """A committee member's conflict with one submission (`value` its folio) or an organisation (`value` its
    RUT). Declaring the same conflict twice is refused."""
    note = note.strip()
    if tipo == TipoConflicto.POSTULACION:
        folio = value.strip().upper()
        p = db.session.scalar(
            sa.select(Postulacion).where(
                Postulacion.convocatoria_id == convocatoria.id,
                Postulacion.folio == folio,
                Postulacion.status == EstadoPostulacion.ADMISIBLE,
            )
        )
        if p is None:
            raise EvaluacionError(
                _("No admissible submission of this call has the folio %(folio)s.", folio=folio)
            )
        conflicto = Conflicto(
            user_id=actor.id,
            convocatoria_id=convocatoria.id,
            tipo=tipo,
            postulacion_id=p.id,
            value=None,
            note=note,
        )
        same = Conflicto.postulacion_id == p.id
        after: dict[str, Any] = {"tipo": tipo, "postulacion_id": p.id}
    elif tipo == TipoConflicto.ORGANIZACION:
        try:
            rut = chile.normalize_rut(value)
        except ValueError as exc:
            raise EvaluacionError(str(exc)) from exc
        conflicto = Conflicto(
            user_id=actor.id, convocatoria_id=convocatoria.id, tipo=tipo, value=rut, note=note
        )
        same = Conflicto.value == rut
        after = {"tipo": tipo, "value": rut}
    else:
        raise EvaluacionError(_("Choose what the conflict is with."))
    exists = db.session.scalar(
        sa.select(Conflicto.id).where(
            Conflicto.user_id == actor.id,
            Conflicto.convocatoria_id == convocatoria.id,
            Conflicto.tipo == tipo,
            same,
        )
    )
    if exists is not None:
        raise EvaluacionError(_("You already declared this conflict."))
    db.session.add(conflicto)
    db.session.flush()
    audit.record(actor, "comite.conflict_declared", conflicto, after=after)
    return conflicto


def reglas(convocatoria: Convocatoria) -> ReglasSeleccion:
    """The call's selection rules, created with the defaults the first time they are asked for."""
    found = db.session.scalar(
        sa.select(ReglasSeleccion).where(ReglasSeleccion.convocatoria_id == convocatoria.id)
    )
    if found is not None:
        return found
    found = ReglasSeleccion(
        convocatoria_id=convocatoria.id,
        objective=Objetivo.RANK,
        max_per_challenge=None,
        max_count=None,
        quorum=2,
        share_feedback=True,
    )
    db.session.add(found)
    db.session.flush()
    return found


def save_rules(
    actor: User,
    convocatoria: Convocatoria,
    *,
    objective: Objetivo,
    max_per_challenge: int | None,
    max_count: int | None,
    quorum: int,
    share_feedback: bool,
    min_final_score: float,
) -> ReglasSeleccion:
    """Set the selection rules and the rubric's minimum final score (on the rubric's scale)."""
    rubrica: Rubrica = ensure_rubrica(convocatoria)
    problems = []
    if not rubrica.scale_min <= min_final_score <= rubrica.scale_max:
        problems.append(
            _(
                "The minimum final score must be between %(low)s and %(high)s.",
                low=rubrica.scale_min,
                high=rubrica.scale_max,
            )
        )
    for cap in (max_per_challenge, max_count):
        if cap is not None and cap < 1:
            problems.append(_("A maximum must be at least 1, or left empty for no maximum."))
            break
    if quorum < 1:
        problems.append(_("The quorum must be at least 1."))
    if problems:
        raise EvaluacionError(*problems)
    rules = reglas(convocatoria)
    before = {
        "objective": rules.objective,
        "max_per_challenge": rules.max_per_challenge,
        "max_count": rules.max_count,
        "quorum": rules.quorum,
        "share_feedback": rules.share_feedback,
        "min_final_score": rubrica.min_final_score,
    }
    rules.objective = objective
    rules.max_per_challenge = max_per_challenge
    rules.max_count = max_count
    rules.quorum = quorum
    rules.share_feedback = share_feedback
    rubrica.min_final_score = round(float(min_final_score), 2)
    after = {
        "objective": objective,
        "max_per_challenge": max_per_challenge,
        "max_count": max_count,
        "quorum": quorum,
        "share_feedback": share_feedback,
        "min_final_score": rubrica.min_final_score,
    }
    db.session.flush()
    audit.record(actor, "comite.rules_saved", convocatoria, before=before, after=after)
    return rules


def register(app: Flask) -> None:
    audit.register_labels(
        app,
        actions={
            "comite.conflict_declared": _l("Declared a conflict of interest as committee member"),
            "comite.rules_saved": _l("Saved the selection rules"),
        },
        fields={
            "objective": _l("Objective"),
            "max_per_challenge": _l("Maximum per challenge"),
            "max_count": _l("Maximum number of projects"),
            "quorum": _l("Quorum"),
            "share_feedback": _l("Share the reviewers' feedback"),
            "min_final_score": _l("Minimum final score"),
        },
    )
