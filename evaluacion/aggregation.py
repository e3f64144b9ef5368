"""Aggregation of review scores: internal score, reviewer tendencies, normalised ranking and outliers.

Pure: plain data in, plain data out, no Flask or SQLAlchemy.

Definitions (each is what the lead's dashboard shows):
- A reviewer's *weighted score* of a submission is sum(weight x value) / 100 over the rubric's criteria. Only
  complete evaluations (every criterion scored) count; incomplete ones are listed apart.
- The *internal score* of a submission is the mean of its reviewers' weighted scores.
- Per reviewer: count, mean and spread (population standard deviation, so a single score has spread 0) of
  their weighted scores, and their *deviation*: over the submissions they share with other reviewers, the
  mean of (their score - the mean of the other reviewers' scores). Below 0 is harsh, above 0 lenient; None
  when they share no submission.
- *z-score*: (score - reviewer's mean) / reviewer's spread. When the spread is 0 (one score, or all equal) the
  reviewer has said nothing about which of their submissions is better, so z is undefined; we set it to 0 (an
  average submission for that reviewer) and flag the reviewer with `z_defined=False`.
- The *normalised score* of a submission is the mean of its reviewers' z-scores. Both rankings use standard
  competition ranking (ties share the best rank: 1, 2, 2, 4); `rank_change` = raw rank - normalised rank, so a
  positive number is how many places the submission climbs once reviewers' habits are taken out.
- *Disagreement* is max - min of the reviewers' weighted scores; a submission with two or more reviewers is an
  *outlier* when its disagreement is strictly greater than the threshold (default 2 points).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Aggregation",
    "Criterion",
    "ReviewerSummary",
    "Rubric",
    "RubricError",
    "Scale",
    "Score",
    "SubmissionSummary",
    "aggregate",
    "validate_rubric",
]

# Scores are sums of products of whole percents and scale points: rounding to this many decimals removes
# floating-point noise (4.000000000001 against 4.0) before comparing or ranking.
_DECIMALS = 9
SCALE_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Criterion:
    """One rubric criterion and its weight in whole percent."""

    name: str
    weight: int


@dataclass(frozen=True, slots=True)
class Scale:
    """The scoring scale: whole-number bounds and the pass mark (Chilean grades: 1 to 7, pass 4.0)."""

    minimum: int = 1
    maximum: int = 7
    pass_mark: float = 4.0


class RubricError(ValueError):
    """A rubric that cannot be used; `messages` holds every problem in Spanish, for the form."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = tuple(messages)
        super().__init__(" ".join(self.messages))


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_rubric(
    criteria: Sequence[Criterion] | Mapping[str, object], scale: Scale | None = None
) -> list[str]:
    """Return Spanish messages saying what is wrong with a rubric; an empty list when it is valid."""
    scale = scale or Scale()
    if isinstance(criteria, Mapping):
        items = list(criteria.items())
    else:
        items = [(c.name, c.weight) for c in criteria]
    messages: list[str] = []
    if not items:
        messages.append("La rúbrica necesita al menos un criterio.")
    seen: set[str] = set()
    total = 0
    weights_ok = True
    for name, weight in items:
        label = (name or "").strip() if isinstance(name, str) else ""
        if not label:
            messages.append("Cada criterio necesita un nombre.")
        elif label.casefold() in seen:
            messages.append(f"El criterio «{label}» está repetido.")
        seen.add(label.casefold())
        shown = label or "sin nombre"
        if not _is_whole(weight):
            messages.append(f"La ponderación de «{shown}» debe ser un porcentaje entero, por ejemplo 20.")
            weights_ok = False
        elif not 1 <= weight <= 100:
            messages.append(f"La ponderación de «{shown}» debe estar entre 1 % y 100 %.")
            weights_ok = False
        else:
            total += weight
    if items and weights_ok and total != 100:
        messages.append(f"Las ponderaciones suman {total} %; deben sumar 100 %.")
    if not (_is_whole(scale.minimum) and _is_whole(scale.maximum)):
        messages.append("Los extremos de la escala deben ser números enteros.")
    elif not 0 <= scale.minimum < scale.maximum <= SCALE_LIMIT:
        messages.append(f"La escala debe ir de un mínimo a un máximo mayor, entre 0 y {SCALE_LIMIT}.")
    elif not _is_number(scale.pass_mark) or not scale.minimum <= scale.pass_mark <= scale.maximum:
        messages.append(f"La nota de aprobación debe estar entre {scale.minimum} y {scale.maximum}.")
    return messages


@dataclass(frozen=True)
class Rubric:
    """Validated criteria and scale; building an invalid one raises RubricError."""

    criteria: tuple[Criterion, ...]
    scale: Scale = field(default_factory=Scale)

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", tuple(self.criteria))
        messages = validate_rubric(self.criteria, self.scale)
        if messages:
            raise RubricError(messages)

    @classmethod
    def from_weights(cls, weights: Mapping[str, int], scale: Scale | None = None) -> Rubric:
        return cls(tuple(Criterion(name, weight) for name, weight in weights.items()), scale or Scale())


@dataclass(frozen=True, slots=True)
class Score:
    """One reviewer's value for one criterion of one submission."""

    reviewer_id: int
    submission_id: int
    criterion: str
    value: float


@dataclass(frozen=True)
class SubmissionSummary:
    """What the lead sees per submission. Scores are None for a submission with no complete evaluation."""

    submission_id: int
    reviewer_scores: dict[int, float]
    score: float | None
    normalised: float | None
    disagreement: float
    is_outlier: bool
    passes: bool
    rank: int | None = None
    normalised_rank: int | None = None

    @property
    def rank_change(self) -> int | None:
        """Places climbed (positive) or lost (negative) from the raw to the normalised ranking."""
        if self.rank is None or self.normalised_rank is None:
            return None
        return self.rank - self.normalised_rank


@dataclass(frozen=True)
class ReviewerSummary:
    """A reviewer's habits: how many, how high, how spread, and how far from their co-reviewers."""

    reviewer_id: int
    count: int
    mean: float
    spread: float
    deviation: float | None
    co_reviewed: int
    z_defined: bool


@dataclass(frozen=True)
class Aggregation:
    submissions: dict[int, SubmissionSummary]
    reviewers: dict[int, ReviewerSummary]
    outliers: tuple[int, ...]  # submission ids, largest disagreement first
    incomplete: tuple[tuple[int, int], ...]  # (reviewer_id, submission_id) missing some criterion

    def ranking(self, *, normalised: bool = False) -> list[SubmissionSummary]:
        """Scored submissions best first, by raw or normalised rank (ties by submission id)."""
        key = "normalised_rank" if normalised else "rank"
        scored = [s for s in self.submissions.values() if getattr(s, key) is not None]
        return sorted(scored, key=lambda s: (getattr(s, key), s.submission_id))


def _round(value: float) -> float:
    return round(value, _DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return math.fsum(values) / len(values)


def _competition_ranks(values: dict[int, float]) -> dict[int, int]:
    ordered = sorted(values.items(), key=lambda item: -item[1])
    ranks: dict[int, int] = {}
    previous = None
    for position, (key, value) in enumerate(ordered, start=1):
        if value != previous:
            rank = position
            previous = value
        ranks[key] = rank
    return ranks


def _weighted_scores(
    rubric: Rubric, scores: Iterable[Score]
) -> tuple[dict[tuple[int, int], float], list[tuple[int, int]]]:
    weights = {c.name: c.weight for c in rubric.criteria}
    scale = rubric.scale
    values: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)
    for s in scores:
        if s.criterion not in weights:
            raise ValueError(f"El criterio «{s.criterion}» no pertenece a la rúbrica.")
        if not _is_number(s.value) or not scale.minimum <= s.value <= scale.maximum:
            raise ValueError(f"El puntaje debe estar entre {scale.minimum} y {scale.maximum}.")
        given = values[(s.reviewer_id, s.submission_id)]
        if s.criterion in given:
            raise ValueError(f"El criterio «{s.criterion}» tiene dos puntajes del mismo evaluador.")
        given[s.criterion] = s.value
    weighted: dict[tuple[int, int], float] = {}
    incomplete: list[tuple[int, int]] = []
    for pair, given in values.items():
        if len(given) < len(weights):
            incomplete.append(pair)
        else:
            weighted[pair] = weighted_score(math.fsum(weights[c] * v for c, v in given.items()))
    return weighted, sorted(incomplete)


def aggregate(rubric: Rubric, scores: Iterable[Score], *, outlier_threshold: float = 2.0) -> Aggregation:
    """Compute every figure of the module docstring from raw per-criterion scores."""
    if not _is_number(outlier_threshold) or outlier_threshold < 0:
        raise ValueError("El umbral de discrepancia debe ser un número mayor o igual a 0.")
    weighted, incomplete = _weighted_scores(rubric, scores)
    return aggregate_weighted(
        weighted, incomplete, pass_mark=rubric.scale.pass_mark, outlier_threshold=outlier_threshold
    )


def weighted_score(weighted_sum: float) -> float:
    """One evaluation's internal score from the sum of weight x value over its criteria (weights add to
    100)."""
    return _round(weighted_sum / 100)


def aggregate_weighted(
    weighted: Mapping[tuple[int, int], float],
    incomplete: Sequence[tuple[int, int]] = (),
    *,
    pass_mark: float,
    outlier_threshold: float = 2.0,
) -> Aggregation:
    """`aggregate` from each complete evaluation's weighted score, keyed (reviewer_id, submission_id).

    For a caller that already summed the criteria (the dashboard does it in SQL, one row per evaluation
    instead of one per criterion); `weighted_score()` turns such a sum into the same figure as `aggregate`.
    """
    if not _is_number(outlier_threshold) or outlier_threshold < 0:
        raise ValueError("El umbral de discrepancia debe ser un número mayor o igual a 0.")
    incomplete = sorted(incomplete)
    by_submission: dict[int, dict[int, float]] = defaultdict(dict)
    by_reviewer: dict[int, dict[int, float]] = defaultdict(dict)
    for (reviewer_id, submission_id), value in weighted.items():
        by_submission[submission_id][reviewer_id] = value
        by_reviewer[reviewer_id][submission_id] = value
    for _, submission_id in incomplete:
        by_submission.setdefault(submission_id, {})

    reviewers: dict[int, ReviewerSummary] = {}
    z: dict[tuple[int, int], float] = {}
    for reviewer_id, given in sorted(by_reviewer.items()):
        mean = _mean(given.values())
        spread = _round(math.sqrt(_mean((v - mean) ** 2 for v in given.values())))
        deviations = []
        for submission_id, value in given.items():
            others = [v for r, v in by_submission[submission_id].items() if r != reviewer_id]
            if others:
                deviations.append(value - _mean(others))
            z[(reviewer_id, submission_id)] = (value - mean) / spread if spread > 0 else 0.0
        reviewers[reviewer_id] = ReviewerSummary(
            reviewer_id=reviewer_id,
            count=len(given),
            mean=_round(mean),
            spread=spread,
            deviation=_round(_mean(deviations)) if deviations else None,
            co_reviewed=len(deviations),
            z_defined=spread > 0,
        )

    raw: dict[int, float] = {}
    normalised: dict[int, float] = {}
    for submission_id, given in by_submission.items():
        if given:
            raw[submission_id] = _round(_mean(given.values()))
            normalised[submission_id] = _round(_mean(z[(r, submission_id)] for r in given))
    raw_ranks = _competition_ranks(raw)
    normalised_ranks = _competition_ranks(normalised)

    submissions: dict[int, SubmissionSummary] = {}
    for submission_id, given in sorted(by_submission.items()):
        disagreement = _round(max(given.values()) - min(given.values())) if given else 0.0
        score = raw.get(submission_id)
        submissions[submission_id] = SubmissionSummary(
            submission_id=submission_id,
            reviewer_scores=dict(sorted(given.items())),
            score=score,
            normalised=normalised.get(submission_id),
            disagreement=disagreement,
            is_outlier=len(given) >= 2 and disagreement > outlier_threshold,
            passes=score is not None and score >= pass_mark,
            rank=raw_ranks.get(submission_id),
            normalised_rank=normalised_ranks.get(submission_id),
        )
    outliers = tuple(
        s.submission_id
        for s in sorted(submissions.values(), key=lambda s: (-s.disagreement, s.submission_id))
        if s.is_outlier
    )
    return Aggregation(submissions, reviewers, outliers, tuple(incomplete))
