"""The committee session: members present (quorum), solver runs, overrides, one decision per submission,
closing (which locks the session) and waitlist promotion in a later session.

Operations take their actor explicitly, check the state, flush, record an audit event and never commit (the
request does). Refusals raise `ComiteError` with messages for the user.

Rules:
- One open session per call at a time; sessions are numbered 1, 2, ... per call.
- Deciding (one decision, applying a proposal) and closing need the quorum of `ReglasSeleccion` present.
- A member recused from a submission (a conflict of interest declared for it, its region or its
  organisation) cannot decide on it; applying a proposal leaves those submissions to the others.
- Closing needs a decision for every admissible submission; a closed session refuses every change.
- A session after a closed one starts from its decisions (copied). Marking a selected team as `declinada`
  and re-running the solver keeps the closed decisions fixed: the still-selected are `must_include`, the
  declined and the not selected `must_exclude`, so the solver proposes the next ideas from the waitlist.

Stored reasons are data in Spanish (like the default rubric), not interface text.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from convocatorias.models import Convocatoria, EstadoPostulacion, Fase, Postulacion
from evaluacion import comite_permissions, comite_ranking, seleccion
from evaluacion.comite_models import (
    AsistenteSesion,
    CorridaSolver,
    Decision,
    EstadoSesion,
    Objetivo,
    Override,
    OverrideComite,
    ReglasSeleccion,
    Resultado,
    SesionComite,
)
from idea import audit, chile
from idea.chile import utcnow
from idea.extensions import db
from idea.models import Role, User

REASON_MAX = 2000


class ComiteError(ValueError):
    """A refused change; `messages` are meant for the user."""

    def __init__(self, *messages: str) -> None:
        self.messages = [str(m) for m in messages if m]
        super().__init__(" ".join(self.messages))


# --- who -------------------------------------------------------------------------------------------------


def _authenticated(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


is_member = comite_permissions.is_member
is_recused = comite_permissions.is_recused


# The phases in which a call has committee sessions (from the committee phase on: later sessions promote
# from the waitlist when a selected team declines).
SESSION_PHASES = frozenset({Fase.COMITE, Fase.FORMACION, Fase.EJECUCION, Fase.CIERRE})


def can_work(user: Any, convocatoria: Convocatoria) -> bool:
    """May act in the call's committee sessions: its committee members and admins."""
    return (
        _authenticated(user)
        and convocatoria.fase in SESSION_PHASES
        and (user.is_admin or is_member(user, convocatoria.id))
    )


def can_read(user: Any, convocatoria: Convocatoria) -> bool:
    """May read the sessions and the acta: who may act, and the call's technical leads."""
    from evaluacion.permissions import can_lead

    return can_work(user, convocatoria) or (
        _authenticated(user)
        and convocatoria.fase in SESSION_PHASES
        and user.has_any_role(Role.ENCARGADO_TECNICO)
        and can_lead(user, convocatoria)
    )


def members_of(convocatoria_id: int) -> list[User]:
    """The active committee members of the call (role bound to it or to every call), by name."""
    return comite_permissions.members(convocatoria_id)


def recusals(convocatoria: Convocatoria) -> dict[int, set[int]]:
    """Committee member id -> ids of the admissible submissions that member is recused from."""
    result: dict[int, set[int]] = {}
    for user, postulacion in comite_permissions.recusals(convocatoria):
        result.setdefault(user.id, set()).add(postulacion.id)
    return result


# --- reading ---------------------------------------------------------------------------------------------


def ensure_reglas(convocatoria: Convocatoria) -> ReglasSeleccion:
    """The call's selection rules, created with the defaults the first time they are asked for."""
    reglas = comite_ranking.reglas_of(convocatoria.id)
    if reglas is None:
        reglas = ReglasSeleccion(convocatoria_id=convocatoria.id, objective=Objetivo.RANK, quorum=2)
        db.session.add(reglas)
        db.session.flush()
    return reglas


def sessions_of(convocatoria_id: int) -> list[SesionComite]:
    return list(
        db.session.scalars(
            sa.select(SesionComite)
            .where(SesionComite.convocatoria_id == convocatoria_id)
            .order_by(SesionComite.number.desc())
        )
    )


def previous_closed(sesion: SesionComite) -> SesionComite | None:
    """The latest closed session of the call before this one."""
    return db.session.scalar(
        sa.select(SesionComite)
        .where(
            SesionComite.convocatoria_id == sesion.convocatoria_id,
            SesionComite.status == EstadoSesion.CERRADA,
            SesionComite.number < sesion.number,
        )
        .order_by(SesionComite.number.desc())
        .limit(1)
    )


def decisions_of(sesion_id: int) -> dict[int, Decision]:
    return {
        d.postulacion_id: d
        for d in db.session.scalars(sa.select(Decision).where(Decision.sesion_id == sesion_id))
    }


def overrides_of(sesion_id: int) -> list[OverrideComite]:
    return list(
        db.session.scalars(
            sa.select(OverrideComite)
            .where(OverrideComite.sesion_id == sesion_id)
            .options(joinedload(OverrideComite.postulacion))
            .order_by(OverrideComite.id)
        )
    )


def runs_of(sesion_id: int) -> list[CorridaSolver]:
    return list(
        db.session.scalars(
            sa.select(CorridaSolver)
            .where(CorridaSolver.sesion_id == sesion_id)
            .order_by(CorridaSolver.id.desc())
        )
    )


def latest_runs(sesion_id: int) -> dict[str, CorridaSolver]:
    """The latest run of each objective."""
    latest: dict[str, CorridaSolver] = {}
    for run in runs_of(sesion_id):
        latest.setdefault(str(Objetivo(run.objective).value), run)
    return latest


@dataclass
class Quorum:
    present: int
    required: int

    @property
    def met(self) -> bool:
        return self.present >= self.required


def quorum_of(sesion: SesionComite) -> Quorum:
    reglas = comite_ranking.reglas_of(sesion.convocatoria_id)
    required = reglas.quorum if reglas else 2
    return Quorum(len(sesion.asistentes), required)


# --- guards ----------------------------------------------------------------------------------------------


def _require_open(sesion: SesionComite) -> None:
    if sesion.is_closed:
        raise ComiteError(
            _("Session %(number)d is closed: its decisions can no longer change.", number=sesion.number)
        )


def _require_quorum(sesion: SesionComite) -> None:
    q = quorum_of(sesion)
    if not q.met:
        raise ComiteError(
            _(
                "There is no quorum: %(present)d members present, %(required)d needed.",
                present=q.present,
                required=q.required,
            )
        )


def _require_actor(actor: User, convocatoria: Convocatoria) -> None:
    if not can_work(actor, convocatoria):
        raise ComiteError(_("Only the committee of this call can do this."))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ComiteError(_("Give the reason."))
    if len(reason) > REASON_MAX:
        raise ComiteError(_("The reason is too long."))
    return reason


# --- sessions --------------------------------------------------------------------------------------------


def open_session(actor: User, convocatoria: Convocatoria, place: str = "", notes: str = "") -> SesionComite:
    """Open the call's next session. A session after a closed one starts from its decisions."""
    _require_actor(actor, convocatoria)
    ensure_reglas(convocatoria)
    sessions = sessions_of(convocatoria.id)
    if any(not s.is_closed for s in sessions):
        raise ComiteError(_("This call already has an open session: close it before opening another."))
    number = (sessions[0].number + 1) if sessions else 1
    sesion = SesionComite(
        convocatoria_id=convocatoria.id,
        number=number,
        status=EstadoSesion.ABIERTA,
        place=(place or "").strip()[:200],
        notes=(notes or "").strip(),
        opened_by_id=actor.id,
    )
    db.session.add(sesion)
    db.session.flush()
    previous = next((s for s in sessions if s.is_closed), None)
    if previous is not None:
        for d in decisions_of(previous.id).values():
            db.session.add(
                Decision(
                    sesion_id=sesion.id,
                    convocatoria_id=convocatoria.id,
                    postulacion_id=d.postulacion_id,
                    outcome=d.outcome,
                    reason=d.reason,
                    final_score=d.final_score,
                    internal_score=d.internal_score,
                    vote_share=d.vote_share,
                    rank=d.rank,
                    awarded_amount=d.awarded_amount,
                    decided_by_id=d.decided_by_id,
                    decided_at=d.decided_at,
                )
            )
        db.session.flush()
    audit.record(
        actor,
        "comite.session_opened",
        sesion,
        after={
            "number": number,
            "convocatoria_id": convocatoria.id,
            "from_session": previous and previous.number,
        },
    )
    return sesion


def set_attendance(actor: User, sesion: SesionComite, user_ids: Iterable[int]) -> None:
    """Record who of the call's committee is present (replaces the previous list)."""
    convocatoria = sesion.convocatoria
    _require_actor(actor, convocatoria)
    _require_open(sesion)
    members = {u.id: u for u in members_of(convocatoria.id)}
    wanted = set(user_ids)
    unknown = wanted - set(members)
    if unknown:
        raise ComiteError(_("Only members of this call's committee can be recorded as present."))
    before = sorted(a.user_id for a in sesion.asistentes)
    for a in list(sesion.asistentes):
        if a.user_id not in wanted:
            sesion.asistentes.remove(a)
    present = {a.user_id for a in sesion.asistentes}
    for uid in sorted(wanted - present):
        sesion.asistentes.append(AsistenteSesion(user_id=uid))
    db.session.flush()
    audit.record(
        actor,
        "comite.attendance_recorded",
        sesion,
        before={"present": before},
        after={"present": sorted(wanted)},
    )


# --- solver ----------------------------------------------------------------------------------------------


def fixed_by_closed(sesion: SesionComite) -> tuple[set[int], set[int]]:
    """(must include, must exclude) from the closed decisions this session started from: the still-selected
    stay in; the declined and those not selected stay out (only the waitlist moves)."""
    previous = previous_closed(sesion)
    if previous is None:
        return set(), set()
    include: set[int] = set()
    exclude: set[int] = set()
    current = decisions_of(sesion.id)
    for pid, d in decisions_of(previous.id).items():
        now = current.get(pid)
        if now is not None and now.outcome == Resultado.DECLINADA or d.outcome == Resultado.DECLINADA:
            exclude.add(pid)
        elif d.outcome == Resultado.SELECCIONADA:
            include.add(pid)
        elif d.outcome == Resultado.NO_SELECCIONADA:
            exclude.add(pid)
    return include, exclude


def _problem_inputs(sesion: SesionComite) -> tuple[Any, list[comite_ranking.FilaRanking], set[int], set[int]]:
    convocatoria = sesion.convocatoria
    inputs = comite_ranking.load_inputs(convocatoria)
    rows = comite_ranking.rank(inputs)
    include, exclude = fixed_by_closed(sesion)
    for o in overrides_of(sesion.id):
        if o.kind == Override.INCLUIR:
            include.add(o.postulacion_id)
            exclude.discard(o.postulacion_id)
        else:
            exclude.add(o.postulacion_id)
            include.discard(o.postulacion_id)
    known = {r.postulacion_id for r in rows}
    return inputs, rows, include & known, exclude & known


def _result_summary(result: seleccion.SelectionResult) -> dict[str, Any]:
    return {
        "feasible": result.feasible,
        "message": result.message,
        "total_amount": result.total_amount,
        "regions_required": list(result.regions_required),
        "regions_covered": list(result.regions_covered),
        "regions_without_eligible": list(result.regions_without_eligible),
        "explanations": [
            {"id": e.candidate_id, "rules": list(e.rules), "message": e.message} for e in result.explanations
        ],
        "reasons": [
            {
                "kind": r.kind,
                "message": r.message,
                "required": r.required,
                "limit": r.limit,
                "shortfall": r.shortfall,
                "regions": list(r.regions),
                "ids": list(r.ids),
            }
            for r in result.reasons
        ],
        "notes": list(result.notes),
        "proven_optimal": result.proven_optimal,
    }


def run_solver(actor: User, sesion: SesionComite, objective: str | Objetivo) -> list[CorridaSolver]:
    """Solve the session's selection under both objectives (two runs, stored with their documents); the run
    of `objective` is created last, so it is the session's current proposal."""
    convocatoria = sesion.convocatoria
    _require_actor(actor, convocatoria)
    _require_open(sesion)
    chosen = Objetivo(objective)
    inputs, rows, include, exclude = _problem_inputs(sesion)
    reglas = ensure_reglas(convocatoria)
    regions = [r.code for r in chile.REGIONS]
    runs = []
    for obj in sorted(Objetivo, key=lambda o: o == chosen):
        problem = comite_ranking.problem_from(inputs, rows, reglas, obj, include, exclude)
        start = time.perf_counter()
        result = seleccion.solve_selection(problem, all_regions=regions)
        elapsed = time.perf_counter() - start
        document = seleccion.selection_document(problem, result)
        document["result"] = _result_summary(result)
        run = CorridaSolver(
            sesion_id=sesion.id,
            objective=obj,
            input_sha256=document["input_sha256"],
            document=document,
            feasible=result.feasible,
            solve_seconds=round(elapsed, 4),
            created_by_id=actor.id,
        )
        db.session.add(run)
        db.session.flush()
        audit.record(
            actor,
            "comite.solver_run",
            run,
            after={
                "sesion_id": sesion.id,
                "objective": obj,
                "input_sha256": run.input_sha256,
                "feasible": result.feasible,
                "selected": len(result.selected),
            },
        )
        runs.append(run)
    return runs


# --- overrides -------------------------------------------------------------------------------------------


def _postulacion_of_call(convocatoria: Convocatoria, postulacion: Postulacion | None) -> Postulacion:
    if (
        postulacion is None
        or postulacion.convocatoria_id != convocatoria.id
        or postulacion.status != EstadoPostulacion.ADMISIBLE
    ):
        raise ComiteError(_("That submission is not an admissible submission of this call."))
    return postulacion


def add_override(
    actor: User, sesion: SesionComite, postulacion: Postulacion | None, kind: str | Override, reason: str
) -> OverrideComite:
    """Force a submission into (or out of) the solver's selection, with the reason (replaces an earlier
    override of the same submission in this session)."""
    convocatoria = sesion.convocatoria
    _require_actor(actor, convocatoria)
    _require_open(sesion)
    postulacion = _postulacion_of_call(convocatoria, postulacion)
    if is_recused(actor, postulacion):
        raise ComiteError(_("You are recused from this submission: another member must decide on it."))
    kind = Override(kind)
    reason = _reason(reason)
    existing = db.session.scalar(
        sa.select(OverrideComite).where(
            OverrideComite.sesion_id == sesion.id, OverrideComite.postulacion_id == postulacion.id
        )
    )
    before = audit.snapshot(existing, ["kind", "reason"]) if existing else None
    if existing is None:
        existing = OverrideComite(
            sesion_id=sesion.id, postulacion_id=postulacion.id, kind=kind, reason=reason
        )
        db.session.add(existing)
    existing.kind, existing.reason, existing.created_by_id = kind, reason, actor.id
    db.session.flush()
    audit.record(
        actor,
        "comite.override_set",
        existing,
        before=before,
        after={"sesion_id": sesion.id, "postulacion_id": postulacion.id, "kind": kind, "reason": reason},
    )
    return existing


def remove_override(actor: User, sesion: SesionComite, override: OverrideComite) -> None:
    _require_actor(actor, sesion.convocatoria)
    _require_open(sesion)
    if override.sesion_id != sesion.id:
        raise ComiteError(_("That override is not of this session."))
    audit.record(
        actor,
        "comite.override_removed",
        override,
        before={"postulacion_id": override.postulacion_id, "kind": override.kind, "reason": override.reason},
    )
    db.session.delete(override)
    db.session.flush()


# --- decisions -------------------------------------------------------------------------------------------


def _figures(row: comite_ranking.FilaRanking | None) -> dict[str, Any]:
    if row is None:
        return {"final_score": None, "internal_score": None, "vote_share": None, "rank": None}
    return {
        "final_score": row.final_score,
        "internal_score": row.internal_score,
        "vote_share": row.vote_share,
        "rank": row.rank,
    }


def _set_decision(
    actor: User,
    sesion: SesionComite,
    postulacion_id: int,
    outcome: Resultado,
    reason: str,
    row: comite_ranking.FilaRanking | None,
    existing: Decision | None,
    action: str,
) -> Decision:
    before = audit.snapshot(existing, ["outcome", "reason"]) if existing else None
    if existing is None:
        existing = Decision(
            sesion_id=sesion.id, convocatoria_id=sesion.convocatoria_id, postulacion_id=postulacion_id
        )
        db.session.add(existing)
    for key, value in _figures(row).items():
        setattr(existing, key, value)
    existing.outcome = outcome
    existing.reason = reason
    existing.awarded_amount = row.amount if (row is not None and outcome == Resultado.SELECCIONADA) else None
    existing.decided_at = utcnow()
    existing.decided_by_id = actor.id
    db.session.flush()
    audit.record(
        actor,
        action,
        existing,
        before=before,
        after={
            "sesion_id": sesion.id,
            "postulacion_id": postulacion_id,
            "outcome": outcome,
            "reason": reason,
        },
    )
    return existing


def decide(
    actor: User, sesion: SesionComite, postulacion: Postulacion | None, outcome: str | Resultado, reason: str
) -> Decision:
    """Record (or change) the committee's decision on one submission, with its reason."""
    convocatoria = sesion.convocatoria
    _require_actor(actor, convocatoria)
    _require_open(sesion)
    postulacion = _postulacion_of_call(convocatoria, postulacion)
    if is_recused(actor, postulacion):
        raise ComiteError(_("You are recused from this submission: another member must decide on it."))
    _require_quorum(sesion)
    outcome = Resultado(outcome)
    reason = _reason(reason)
    existing = decisions_of(sesion.id).get(postulacion.id)
    if outcome == Resultado.DECLINADA:
        previous = previous_closed(sesion)
        was = decisions_of(previous.id).get(postulacion.id) if previous else None
        if was is None or was.outcome != Resultado.SELECCIONADA:
            raise ComiteError(_("Only a team selected in a closed session can decline."))
    row = next(
        (r for r in comite_ranking.final_ranking(convocatoria) if r.postulacion_id == postulacion.id), None
    )
    return _set_decision(
        actor, sesion, postulacion.id, outcome, reason, row, existing, "comite.decision_recorded"
    )


@dataclass
class Applied:
    decided: int = 0
    skipped_recused: list[str] = field(default_factory=list)


def _dec(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _objective_es(objective: str) -> str:
    return "orden del ranking" if objective == Objetivo.RANK else "mayor puntaje total"


def apply_proposal(actor: User, sesion: SesionComite, run: CorridaSolver) -> Applied:
    """Fill the decisions from a solver run: selected → seleccionada; eligible left out → lista de espera in
    rank order; the others → no seleccionada, each with its reason. Declined teams stay declined; the
    submissions the actor is recused from are left to other members."""
    convocatoria = sesion.convocatoria
    _require_actor(actor, convocatoria)
    _require_open(sesion)
    if run.sesion_id != sesion.id:
        raise ComiteError(_("That solver run is not of this session."))
    if not run.feasible:
        raise ComiteError(_("That solver run found no selection that meets every rule."))
    _require_quorum(sesion)
    doc = run.document
    selected = set(doc.get("selected", []))
    include = set(doc.get("must_include", []))
    explanations = {e["id"]: e["message"] for e in doc.get("result", {}).get("explanations", [])}
    overrides = {o.postulacion_id: o for o in overrides_of(sesion.id)}
    min_score = doc.get("min_score", 0.0)
    rows = comite_ranking.final_ranking(convocatoria)
    mine = comite_permissions.recused_ids(actor, convocatoria.id)
    current = decisions_of(sesion.id)
    objective = _objective_es(str(doc.get("objective")))
    applied = Applied()
    waitlist = 0
    for row in rows:  # by (rank, id)
        pid = row.postulacion_id
        existing = current.get(pid)
        if existing is not None and existing.outcome == Resultado.DECLINADA:
            continue
        if pid in mine:
            applied.skipped_recused.append(row.folio)
            continue
        override = overrides.get(pid)
        if (
            existing is not None
            and existing.outcome == Resultado.SELECCIONADA
            and pid in include
            and pid in selected
        ):
            continue  # a closed selection that stands, with its reason
        if pid in selected:
            outcome = Resultado.SELECCIONADA
            if override is not None and override.kind == Override.INCLUIR:
                reason = f"Incluida por decisión del comité: {override.reason}"
            elif pid in include:
                reason = "Seleccionada en la sesión anterior; se mantiene."
            else:
                reason = f"Seleccionada por el solver (objetivo: {objective}), lugar {row.rank} del ranking."
        elif override is not None and override.kind == Override.EXCLUIR:
            outcome, reason = (
                Resultado.NO_SELECCIONADA,
                f"Excluida por decisión del comité: {override.reason}",
            )
        elif (
            existing is not None
            and existing.outcome == Resultado.NO_SELECCIONADA
            and pid in set(doc.get("must_exclude", []))
        ):
            continue  # a closed decision that stands
        elif row.eligible:
            waitlist += 1
            outcome = Resultado.LISTA_ESPERA
            why = explanations.get(pid)
            reason = f"Lista de espera, lugar {waitlist}." + (f" {why}" if why else "")
        elif row.internal_score is None:
            outcome, reason = Resultado.NO_SELECCIONADA, "Sin evaluaciones completas."
        else:
            outcome = Resultado.NO_SELECCIONADA
            reason = f"Bajo el puntaje mínimo: {_dec(row.final_score)} de {_dec(min_score)}."
        if existing is not None and existing.outcome == outcome and existing.reason == reason:
            continue
        _set_decision(actor, sesion, pid, outcome, reason, row, existing, "comite.proposal_applied")
        applied.decided += 1
    audit.record(
        actor,
        "comite.proposal_applied",
        sesion,
        after={"corrida_id": run.id, "objective": run.objective, "decided": applied.decided},
    )
    return applied


def close_session(actor: User, sesion: SesionComite) -> None:
    """Close the session: every admissible submission decided, quorum present. Locks it."""
    convocatoria = sesion.convocatoria
    _require_actor(actor, convocatoria)
    _require_open(sesion)
    _require_quorum(sesion)
    decided = set(decisions_of(sesion.id))
    pending = [r for r in comite_ranking.final_ranking(convocatoria) if r.postulacion_id not in decided]
    if pending:
        raise ComiteError(
            _(
                "%(num)d submissions have no decision yet (for example %(folio)s): decide every one before "
                "closing.",
                num=len(pending),
                folio=pending[0].folio,
            )
        )
    sesion.status = EstadoSesion.CERRADA
    sesion.closed_at = utcnow()
    sesion.closed_by_id = actor.id
    db.session.flush()
    counts: dict[str, int] = {}
    for d in decisions_of(sesion.id).values():
        counts[str(d.outcome.value)] = counts.get(str(d.outcome.value), 0) + 1
    audit.record(
        actor,
        "comite.session_closed",
        sesion,
        after={"number": sesion.number, "present": [a.user_id for a in sesion.asistentes], **counts},
    )
