"""The committee's final ranking: internal score and popular vote combined, and the solver's inputs.

Definitions (what the committee's ranking page shows, column by column):
- *Internal score*: the mean of the weighted scores of the submission's complete, submitted evaluations (the
  same figure as the lead's dashboard, `evaluacion.aggregation`), on the rubric's scale (1–7). None when no
  evaluation is complete.
- *Normalised internal score* (0–1): (internal − scale_min) / (scale_max − scale_min) of the rubric; 0 when
  there is no internal score.
- *Votes*: the shortlist entry's counter of valid votes (`Preseleccion.vote_count`); 0 when the submission was
  not shortlisted. *Vote share*: votes / valid votes of the whole call (0 when the call has none).
- *Normalised vote share* (0–1): share / the largest share in the call, i.e. votes / the most votes any idea
  got, so the most voted idea gets 1 and the scale of the vote does not depend on how many ideas competed;
  0 for every idea when nobody voted.
- *Final score*: (1 − w) × normalised internal + w × normalised vote share, w = the call's vote weight / 100,
  expressed back on the rubric's scale for display and for the rules: scale_min + final × (scale_max −
  scale_min). So with w = 0 the final score is the internal score, and the rubric's `min_final_score` (4.0 on
  1–7) keeps its meaning.
- *Eligible*: has an internal score and a final score ≥ the rubric's `min_final_score`.
- *Rank*: standard competition ranking by final score (1, 2, 2, 4), best first; submissions without an
  internal score rank after every scored one. Rows are listed by (rank, id).

`final_ranking` runs a fixed number of SQL queries whatever the number of submissions (tested).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from convocatorias.models import Convocatoria, Desafio, EstadoPostulacion, Postulacion
from evaluacion import aggregation, seleccion
from evaluacion.comite_models import Objetivo, ReglasSeleccion
from evaluacion.models import Asignacion, Criterio, EstadoAsignacion, Puntaje, Rubrica
from evaluacion.votacion_models import Preseleccion
from idea.extensions import db

__all__ = [
    "FilaRanking",
    "RankingInputs",
    "final_ranking",
    "load_inputs",
    "rank",
    "selection_problem",
]

_DECIMALS = 9


@dataclass(frozen=True)
class FilaRanking:
    postulacion_id: int
    folio: str
    title: str
    region: str | None
    desafio_id: int
    desafio_title: str
    amount: int
    internal_score: float | None
    internal_norm: float
    vote_count: int
    vote_share: float
    vote_norm: float
    final_score: float  # on the rubric's scale
    rank: int
    eligible: bool  # has an internal score and final_score >= rubric.min_final_score


@dataclass(frozen=True)
class _Row:
    postulacion_id: int
    folio: str
    title: str
    region: str | None
    desafio_id: int
    desafio_title: str
    amount: int
    internal_score: float | None
    vote_count: int


@dataclass(frozen=True)
class RankingInputs:
    """The raw figures of one call, loaded once; `rank(inputs, weight)` turns them into a ranking."""

    convocatoria_id: int
    scale_min: int
    scale_max: int
    min_final_score: float
    vote_weight: int  # percent
    budget: int
    rows: tuple[_Row, ...]


def _round(value: float) -> float:
    return round(value, _DECIMALS) + 0.0


def _rubrica(convocatoria_id: int) -> Rubrica | None:
    return db.session.scalar(sa.select(Rubrica).where(Rubrica.convocatoria_id == convocatoria_id))


def _internal_scores(convocatoria_id: int, rubrica: Rubrica | None) -> dict[int, float]:
    """Internal score per admissible submission, from one row per submitted evaluation (one query)."""
    if rubrica is None:
        return {}
    stmt = (
        sa.select(
            Asignacion.user_id,
            Asignacion.postulacion_id,
            sa.func.sum(Criterio.weight * Puntaje.value),
            sa.func.count(Puntaje.id),
        )
        .select_from(Asignacion)
        .join(Postulacion, Asignacion.postulacion_id == Postulacion.id)
        .join(Puntaje, Puntaje.asignacion_id == Asignacion.id)
        .join(Criterio, sa.and_(Criterio.id == Puntaje.criterio_id, Criterio.rubrica_id == rubrica.id))
        .where(
            Asignacion.convocatoria_id == convocatoria_id,
            Postulacion.status == EstadoPostulacion.ADMISIBLE,
            Asignacion.status == EstadoAsignacion.ENVIADA,
            Puntaje.value.is_not(None),
        )
        .group_by(Asignacion.id, Asignacion.user_id, Asignacion.postulacion_id)
    )
    needed = len(rubrica.criterios)
    weighted: dict[tuple[int, int], float] = {}
    for user_id, postulacion_id, total, given in db.session.execute(stmt):
        if given >= needed:
            weighted[(user_id, postulacion_id)] = aggregation.weighted_score(total)
    result = aggregation.aggregate_weighted(weighted, pass_mark=rubrica.pass_mark)
    return {sid: s.score for sid, s in result.submissions.items() if s.score is not None}


def load_inputs(convocatoria: Convocatoria) -> RankingInputs:
    """Everything the ranking needs, in a fixed number of queries (rubric and its criteria, submissions,
    evaluations, vote counters)."""
    rubrica = _rubrica(convocatoria.id)
    internal = _internal_scores(convocatoria.id, rubrica)
    votes = dict(
        db.session.execute(
            sa.select(Preseleccion.postulacion_id, Preseleccion.vote_count).where(
                Preseleccion.convocatoria_id == convocatoria.id
            )
        ).all()
    )
    stmt = (
        sa.select(
            Postulacion.id,
            Postulacion.folio,
            Postulacion.title,
            Postulacion.region,
            Postulacion.desafio_id,
            Desafio.title.label("desafio_title"),
            Postulacion.requested_amount,
        )
        .join(Desafio, Desafio.id == Postulacion.desafio_id)
        .where(
            Postulacion.convocatoria_id == convocatoria.id,
            Postulacion.status == EstadoPostulacion.ADMISIBLE,
        )
        .order_by(Postulacion.id)
    )
    rows = tuple(
        _Row(
            postulacion_id=r.id,
            folio=r.folio or str(r.id),
            title=r.title,
            region=r.region,
            desafio_id=r.desafio_id,
            desafio_title=r.desafio_title,
            amount=r.requested_amount or 0,
            internal_score=internal.get(r.id),
            vote_count=votes.get(r.id, 0) or 0,
        )
        for r in db.session.execute(stmt)
    )
    return RankingInputs(
        convocatoria_id=convocatoria.id,
        scale_min=rubrica.scale_min if rubrica else 1,
        scale_max=rubrica.scale_max if rubrica else 7,
        min_final_score=rubrica.min_final_score if rubrica else 4.0,
        vote_weight=convocatoria.vote_weight,
        budget=convocatoria.total_budget,
        rows=rows,
    )


def rank(inputs: RankingInputs, vote_weight: int | None = None) -> list[FilaRanking]:
    """The ranking of `inputs` with the call's vote weight, or `vote_weight` (percent) to compare."""
    weight = (inputs.vote_weight if vote_weight is None else vote_weight) / 100
    low, high = inputs.scale_min, inputs.scale_max
    span = high - low
    total_votes = sum(r.vote_count for r in inputs.rows)
    most_votes = max((r.vote_count for r in inputs.rows), default=0)
    figures = []
    for r in inputs.rows:
        internal_norm = (
            min(1.0, max(0.0, (r.internal_score - low) / span)) if r.internal_score is not None else 0.0
        )
        vote_norm = r.vote_count / most_votes if most_votes else 0.0
        final = (1 - weight) * internal_norm + weight * vote_norm
        figures.append(
            (
                r,
                _round(internal_norm),
                _round(r.vote_count / total_votes) if total_votes else 0.0,
                _round(vote_norm),
                _round(low + final * span),
            )
        )
    figures.sort(key=lambda f: (f[0].internal_score is None, -f[4], f[0].postulacion_id))
    rows: list[FilaRanking] = []
    previous: tuple[bool, float] | None = None
    current = 0
    for position, (r, internal_norm, share, vote_norm, final) in enumerate(figures, start=1):
        key = (r.internal_score is None, final)
        if key != previous:
            current, previous = position, key
        rows.append(
            FilaRanking(
                postulacion_id=r.postulacion_id,
                folio=r.folio,
                title=r.title,
                region=r.region,
                desafio_id=r.desafio_id,
                desafio_title=r.desafio_title,
                amount=r.amount,
                internal_score=r.internal_score,
                internal_norm=internal_norm,
                vote_count=r.vote_count,
                vote_share=share,
                vote_norm=vote_norm,
                final_score=final,
                rank=current,
                eligible=r.internal_score is not None and final >= inputs.min_final_score,
            )
        )
    return rows


def final_ranking(convocatoria: Convocatoria, vote_weight: int | None = None) -> list[FilaRanking]:
    """The call's admissible submissions by final score (rank 1 = best, ties by id)."""
    return rank(load_inputs(convocatoria), vote_weight)


def reglas_of(convocatoria_id: int) -> ReglasSeleccion | None:
    return db.session.scalar(
        sa.select(ReglasSeleccion).where(ReglasSeleccion.convocatoria_id == convocatoria_id)
    )


def problem_from(
    inputs: RankingInputs,
    rows: list[FilaRanking],
    reglas: ReglasSeleccion | None,
    objective: str | Objetivo,
    must_include: Iterable[int] = (),
    must_exclude: Iterable[int] = (),
) -> seleccion.SelectionProblem:
    """The solver's problem from a ranking already computed (no query)."""
    include, exclude = frozenset(must_include), frozenset(must_exclude)
    wanted = include | exclude
    candidates = tuple(
        seleccion.Candidate(
            id=f.postulacion_id,
            folio=f.folio,
            region=f.region or "",
            desafio_id=f.desafio_id,
            amount=f.amount,
            score=f.final_score,
            rank=f.rank,
        )
        for f in rows
        if f.eligible or f.postulacion_id in wanted
    )
    return seleccion.SelectionProblem(
        candidates=candidates,
        budget=inputs.budget,
        objective=str(Objetivo(objective).value),
        min_score=inputs.min_final_score,
        max_per_challenge=reglas.max_per_challenge if reglas else None,
        max_count=reglas.max_count if reglas else None,
        must_include=include,
        must_exclude=exclude,
    )


def selection_problem(
    convocatoria: Convocatoria,
    objective: str | Objetivo,
    must_include: Iterable[int] = (),
    must_exclude: Iterable[int] = (),
    vote_weight: int | None = None,
) -> seleccion.SelectionProblem:
    """The solver's input for this call: the eligible admissible submissions (plus any named in an override)
    with amount = requested amount, score = final score, rank = final rank; budget, minimum score and caps
    from the call, its rubric and its selection rules."""
    inputs = load_inputs(convocatoria)
    rows = rank(inputs, vote_weight)
    return problem_from(inputs, rows, reglas_of(convocatoria.id), objective, must_include, must_exclude)


@dataclass(frozen=True)
class VoteEffect:
    """Whether the popular vote changed the selection: the solver run with the call's vote weight and with
    w = 0 (scores alone), same rules, no overrides."""

    vote_weight: int
    feasible: bool  # both runs found a selection that keeps every rule
    moved_in: tuple[FilaRanking, ...] = ()  # selected with the vote, not with scores alone
    moved_out: tuple[FilaRanking, ...] = ()  # selected with scores alone, not with the vote
    selected_count: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.moved_in or self.moved_out)


@functools.lru_cache(maxsize=64)
def _selected(problem: seleccion.SelectionProblem) -> tuple[int, ...] | None:
    """The solver's selection (None when infeasible), remembered per problem: the problem is a frozen value
    (candidates, budget, rules), so a repeated page view with unchanged figures does not solve again."""
    result = seleccion.solve_selection(problem)
    return tuple(result.selected) if result.feasible else None


def vote_effect(inputs: RankingInputs, rows: list[FilaRanking], reglas: ReglasSeleccion | None) -> VoteEffect:
    """Solve the selection with the call's weight and without the vote, and name the ideas that moved (no
    query: from figures already loaded)."""
    objective = reglas.objective if reglas else Objetivo.RANK
    with_vote = _selected(problem_from(inputs, rows, reglas, objective))
    if inputs.vote_weight == 0:
        return VoteEffect(0, with_vote is not None, selected_count=len(with_vote or ()))
    without = _selected(problem_from(inputs, rank(inputs, 0), reglas, objective))
    if with_vote is None or without is None:
        return VoteEffect(inputs.vote_weight, False)
    by_id = {r.postulacion_id: r for r in rows}
    a, b = set(with_vote), set(without)
    return VoteEffect(
        vote_weight=inputs.vote_weight,
        feasible=True,
        moved_in=tuple(sorted((by_id[i] for i in a - b), key=lambda r: (r.rank, r.postulacion_id))),
        moved_out=tuple(sorted((by_id[i] for i in b - a), key=lambda r: (r.rank, r.postulacion_id))),
        selected_count=len(a),
    )
