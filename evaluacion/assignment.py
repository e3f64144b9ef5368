"""Reviewer assignment: k conflict-free reviewers per submission, loads as even as the rules allow.

Pure: plain data in, plain data out, no Flask or SQLAlchemy, so hypothesis can test it alone.

The problem is a bipartite b-matching: each submission needs k reviewers, a reviewer takes a submission at
most once, some pairs are forbidden (declared conflicts, own region, team membership, manual removals). It is
solved as a maximum flow (scipy's Dinic) rather than a greedy loop, which can paint itself into a corner where
a solution exists.

Balance. A reviewer is *eligible* when they already hold a kept assignment or may take at least one
submission that still needs reviewers. Among eligible reviewers we minimise the spread max(load) - min(load).
The reviewer load vectors a b-matching can reach form an M-convex set, and in an M-convex set an element that
minimises the largest load also maximises the smallest (Frank and Murota, "Discrete decreasing minimization",
2022). So the smallest feasible maximum U* and the largest feasible minimum L* are found separately, each by
binary search over max-flow feasibility checks, and one assignment reaches both: its spread U* - L* is the
least possible. `AssignmentResult.balanced` tells whether that spread is at most one, which conflicts can make
unattainable (a reviewer free of conflict with a single submission cannot carry ten).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

__all__ = [
    "AssignmentImpossible",
    "AssignmentResult",
    "Conflict",
    "Reason",
    "Reviewer",
    "Submission",
    "add_reviewer",
    "assign_reviewers",
]


@dataclass(frozen=True, slots=True)
class Submission:
    """An admissible submission awaiting review. RUTs in normalised form ('12345678-5')."""

    id: int
    folio: str
    region: str | None = None
    organisation_rut: str | None = None
    people: frozenset[str] = frozenset()  # RUTs of the applicant and team members


@dataclass(frozen=True, slots=True)
class Reviewer:
    """A reviewer; region None means a national reviewer, max_load None means no cap on assignments."""

    id: int
    region: str | None = None
    rut: str | None = None
    max_load: int | None = None


@dataclass(frozen=True, slots=True)
class Conflict:
    """A conflict declared by a reviewer against exactly one of: a submission, an organisation, a region or a
    person."""

    reviewer_id: int
    submission_id: int | None = None
    organisation_rut: str | None = None
    region: str | None = None
    person: str | None = None

    def __post_init__(self) -> None:
        targets = (self.submission_id, self.organisation_rut, self.region, self.person)
        if sum(t is not None for t in targets) != 1:
            raise ValueError("A conflict names exactly one submission, organisation, region or person.")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an assignment is impossible: a Spanish message for the lead plus the figures behind it."""

    message: str
    folios: tuple[str, ...] = ()
    needed: int = 0
    available: int = 0


class AssignmentImpossible(ValueError):
    """No assignment satisfies the rules; nothing was assigned. `reasons` says why, one entry per cause."""

    def __init__(self, reasons: Sequence[Reason]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("\n".join(reason.message for reason in self.reasons))


@dataclass(frozen=True)
class AssignmentResult:
    """All (reviewer_id, submission_id) pairs after assignment, kept ones included, and the balance."""

    pairs: tuple[tuple[int, int], ...]
    added: tuple[tuple[int, int], ...]
    loads: dict[int, int] = field(default_factory=dict)  # eligible reviewers only
    min_load: int = 0
    max_load: int = 0
    ineligible: tuple[int, ...] = ()

    @property
    def spread(self) -> int:
        return self.max_load - self.min_load

    @property
    def balanced(self) -> bool:
        """True when eligible reviewers' loads differ by at most one."""
        return self.spread <= 1


class _Rules:
    """Answers "why may reviewer r not review submission s?" from the declared conflicts and call rules."""

    def __init__(self, conflicts: Iterable[Conflict], exclude_own_region: bool) -> None:
        self.exclude_own_region = exclude_own_region
        self.submissions: dict[int, set[int]] = defaultdict(set)
        self.organisations: dict[int, set[str]] = defaultdict(set)
        self.regions: dict[int, set[str]] = defaultdict(set)
        self.people: dict[int, set[str]] = defaultdict(set)
        for c in conflicts:
            if c.submission_id is not None:
                self.submissions[c.reviewer_id].add(c.submission_id)
            elif c.organisation_rut is not None:
                self.organisations[c.reviewer_id].add(c.organisation_rut)
            elif c.region is not None:
                self.regions[c.reviewer_id].add(c.region)
            else:
                self.people[c.reviewer_id].add(c.person)  # type: ignore[arg-type]

    def blocked(self, r: Reviewer, s: Submission) -> str | None:
        if s.id in self.submissions.get(r.id, ()):
            return "declaró conflicto de interés con la postulación"
        if s.organisation_rut is not None and s.organisation_rut in self.organisations.get(r.id, ()):
            return "declaró conflicto de interés con la organización postulante"
        if s.region is not None and s.region in self.regions.get(r.id, ()):
            return "declaró conflicto de interés con la región"
        if r.rut is not None and r.rut in s.people:
            return "integra el equipo postulante"
        if s.people and not s.people.isdisjoint(self.people.get(r.id, ())):
            return "declaró conflicto de interés con una persona del equipo"
        if self.exclude_own_region and r.region is not None and r.region == s.region:
            return "es de la misma región y la convocatoria pide evaluadores de otras regiones"
        return None


def _check_ids(submissions: Sequence[Submission], reviewers: Sequence[Reviewer], k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError("k must be a positive int")
    if len({s.id for s in submissions}) != len(submissions):
        raise ValueError("submission ids must be unique")
    if len({r.id for r in reviewers}) != len(reviewers):
        raise ValueError("reviewer ids must be unique")
    for r in reviewers:
        if r.max_load is not None and r.max_load < 0:
            raise ValueError("max_load must be >= 0")


def assign_reviewers(
    submissions: Sequence[Submission],
    reviewers: Sequence[Reviewer],
    *,
    k: int = 2,
    conflicts: Iterable[Conflict] = (),
    exclude_own_region: bool = False,
    keep: Iterable[tuple[int, int]] = (),
    removed: Iterable[tuple[int, int]] = (),
) -> AssignmentResult:
    """Give each submission k reviewers, adding to the `keep` pairs (reviewer_id, submission_id), never using
    a `removed` pair, breaking no conflict or region rule, with the least possible spread of loads.

    A submission that already holds k or more kept reviewers gets none added (manual additions beyond k stay).
    Raises AssignmentImpossible, assigning nothing, when no such assignment exists.
    """
    submissions = list(submissions)
    reviewers = list(reviewers)
    _check_ids(submissions, reviewers, k)
    keep_set = set(keep)
    removed_set = set(removed)
    sub_ids = {s.id for s in submissions}
    rev_ids = {r.id for r in reviewers}
    for rid, sid in keep_set | removed_set:
        if rid not in rev_ids or sid not in sub_ids:
            raise ValueError(f"unknown pair (reviewer {rid}, submission {sid})")
    if keep_set & removed_set:
        raise ValueError("a pair cannot be both kept and removed")

    rules = _Rules(conflicts, exclude_own_region)
    reasons: list[Reason] = []
    sub_by_id = {s.id: s for s in submissions}
    rev_by_id = {r.id: r for r in reviewers}
    for rid, sid in sorted(keep_set):
        why = rules.blocked(rev_by_id[rid], sub_by_id[sid])
        if why is not None:
            folio = sub_by_id[sid].folio
            reasons.append(
                Reason(
                    f"{folio}: la asignación del evaluador {rid} no puede mantenerse porque {why}.", (folio,)
                )
            )

    kept_per_sub: dict[int, int] = defaultdict(int)
    kept_per_rev: dict[int, int] = defaultdict(int)
    for rid, sid in keep_set:
        kept_per_sub[sid] += 1
        kept_per_rev[rid] += 1

    # Candidate edges for submissions that still need reviewers.
    needy: list[Submission] = []
    need: list[int] = []
    edge_sub: list[int] = []
    edge_rev: list[int] = []
    for s in submissions:
        missing = k - kept_per_sub[s.id]
        if missing <= 0:
            continue
        candidates = [
            j
            for j, r in enumerate(reviewers)
            if (r.id, s.id) not in keep_set
            and (r.id, s.id) not in removed_set
            and rules.blocked(r, s) is None
        ]
        if len(candidates) < missing:
            have = kept_per_sub[s.id] + len(candidates)
            reasons.append(
                Reason(
                    f"{s.folio} necesita {k} evaluadores sin conflicto de interés; solo hay {have}.",
                    (s.folio,),
                    needed=k,
                    available=have,
                )
            )
        index = len(needy)
        needy.append(s)
        need.append(missing)
        edge_sub.extend([index] * len(candidates))
        edge_rev.extend(candidates)

    if reasons:
        raise AssignmentImpossible(reasons)

    n_rev = len(reviewers)
    kept = np.array([kept_per_rev[r.id] for r in reviewers], dtype=np.int64)
    degree = np.bincount(np.array(edge_rev, dtype=np.int64), minlength=n_rev)
    # What each reviewer may still take: their cap net of kept work, never more than their candidate edges.
    cap = np.array(
        [
            degree[j] if r.max_load is None else min(degree[j], max(0, r.max_load - kept[j]))
            for j, r in enumerate(reviewers)
        ],
        dtype=np.int64,
    )
    eligible = (kept > 0) | (cap > 0)
    ineligible = tuple(sorted(r.id for r, ok in zip(reviewers, eligible, strict=True) if not ok))

    network = _Network(need, edge_sub, edge_rev, n_rev)
    total_new = int(sum(need))
    if total_new == 0:
        return _result(reviewers, needy, keep_set, [], eligible, ineligible)

    unbounded = network.solve(np.zeros(n_rev, np.int64), cap)
    if unbounded is None:
        raise AssignmentImpossible(network.shortage_reasons(needy, cap))

    loads_unbounded = kept + np.bincount(unbounded[1], minlength=n_rev)
    n_eligible = int(eligible.sum())
    total = int(kept.sum()) + total_new

    def upper(u: int) -> np.ndarray:
        return np.minimum(cap, np.maximum(0, u - kept))

    def lower(low: int) -> np.ndarray:
        return np.where(eligible, np.maximum(0, low - kept), 0)

    # Smallest feasible maximum load.
    lo_u = max(math.ceil(total / n_eligible), int(kept.max(initial=0)))
    hi_u = int(loads_unbounded[eligible].max())
    while lo_u < hi_u:
        mid = (lo_u + hi_u) // 2
        if network.feasible(np.zeros(n_rev, np.int64), upper(mid)):
            hi_u = mid
        else:
            lo_u = mid + 1
    best_max = hi_u

    # Largest feasible minimum load under that maximum.
    first = network.solve(np.zeros(n_rev, np.int64), upper(best_max))
    assert first is not None
    loads_first = kept + np.bincount(first[1], minlength=n_rev)
    lo_l = int(loads_first[eligible].min())
    hi_l = min(total // n_eligible, best_max)
    while lo_l < hi_l:
        mid = (lo_l + hi_l + 1) // 2
        if network.feasible(lower(mid), upper(best_max)):
            lo_l = mid
        else:
            hi_l = mid - 1
    best = network.solve(lower(lo_l), upper(best_max))
    if best is None:  # pragma: no cover - excluded by the M-convexity argument in the module docstring
        raise RuntimeError("balanced assignment not found although both load bounds are feasible")
    sub_index, rev_index = best
    if lo_l + 1 < best_max:
        sub_index, rev_index = _even_out(network, best, kept, kept + cap)
    added = [(reviewers[j].id, needy[i].id) for i, j in zip(sub_index, rev_index, strict=True)]
    return _result(reviewers, needy, keep_set, added, eligible, ineligible)


def _even_out(
    network: _Network, assignment: tuple[np.ndarray, np.ndarray], kept: np.ndarray, most: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Make the loads between the least and the largest as even as possible (decreasingly minimal).

    When conflicts force a spread above one, any assignment with the least spread may still leave the middle
    uneven (1, 5, 7, 7 where 1, 6, 6, 7 exists). A load vector is decreasingly minimal exactly when no unit
    can pass from a reviewer to one with at least two fewer (Frank and Murota), and a unit can pass from u to
    v when a chain u -> s1 -> w1 -> s2 -> ... -> v exists where each reviewer hands a submission it holds to
    the next, who may take it. Reviewers are few (tens), so the chains are searched on a reviewer-to-reviewer
    graph whose edge count C[w, w'] says how many of w's submissions w' could take. Moves only go from high
    to low, so the least and the largest load, hence the spread, never get worse.
    """
    n_sub, n_rev = network.n_sub, network.n_rev
    allowed = np.zeros((n_sub, n_rev), dtype=bool)
    allowed[network.edge_sub, network.edge_rev] = True
    holds = np.zeros((n_sub, n_rev), dtype=bool)
    holds[assignment] = True
    free = allowed & ~holds
    loads = kept + holds.sum(axis=0)
    passes = holds.T.astype(np.int32) @ free.astype(np.int32)

    def move(s: int, giver: int, taker: int) -> None:
        passes[:, :] -= np.outer(holds[s], free[s]).astype(np.int32)
        holds[s, giver], holds[s, taker] = False, True
        free[s, giver], free[s, taker] = True, False
        passes[:, :] += np.outer(holds[s], free[s]).astype(np.int32)

    while True:
        improved = False
        for u in np.argsort(-loads, kind="stable"):
            parent = np.full(n_rev, -1)
            parent[u] = u
            frontier = [int(u)]
            while frontier:  # breadth first over reviewers
                step = []
                for w in frontier:
                    for w2 in np.flatnonzero((passes[w] > 0) & (parent < 0)):
                        parent[w2] = w
                        step.append(int(w2))
                frontier = step
            reached = np.flatnonzero((parent >= 0) & (loads <= loads[u] - 2) & (loads < most))
            if reached.size == 0:
                continue
            v = int(reached[np.argmin(loads[reached])])
            chain = [v]
            while chain[-1] != u:
                chain.append(int(parent[chain[-1]]))
            chain.reverse()
            for giver, taker in zip(chain, chain[1:], strict=False):
                s = int(np.flatnonzero(holds[:, giver] & free[:, taker])[0])
                move(s, giver, taker)
            loads[u] -= 1
            loads[v] += 1
            improved = True
            break
        if not improved:
            return np.nonzero(holds)


def _result(
    reviewers: list[Reviewer],
    needy: list[Submission],
    keep_set: set[tuple[int, int]],
    added: list[tuple[int, int]],
    eligible: np.ndarray,
    ineligible: tuple[int, ...],
) -> AssignmentResult:
    loads = {r.id: 0 for r, ok in zip(reviewers, eligible, strict=True) if ok}
    pairs = sorted(keep_set | set(added))
    for rid, _ in pairs:
        loads[rid] += 1
    values = list(loads.values()) or [0]
    return AssignmentResult(
        pairs=tuple(pairs),
        added=tuple(sorted(added)),
        loads=loads,
        min_load=min(values),
        max_load=max(values),
        ineligible=ineligible,
    )


class _Network:
    """Max-flow network: source -> submission (its need) -> reviewer (1 per pair) -> sink.

    Lower bounds on a reviewer's load are met by splitting its sink edge: `low` units go straight to the sink
    and the rest through a shared node X whose edge to the sink carries total - sum(low). A flow of the full
    total must then saturate every straight edge, so each reviewer gets at least `low`.
    """

    def __init__(self, need: list[int], edge_sub: list[int], edge_rev: list[int], n_rev: int) -> None:
        self.n_sub = len(need)
        self.n_rev = n_rev
        self.total = int(sum(need))
        self.source = 0
        self.first_rev = 1 + self.n_sub
        self.x = self.first_rev + n_rev
        self.sink = self.x + 1
        self.size = self.sink + 1
        sub_nodes = np.arange(1, 1 + self.n_sub, dtype=np.int32)
        self.edge_sub = np.asarray(edge_sub, dtype=np.int32)
        self.edge_rev = np.asarray(edge_rev, dtype=np.int32)
        self.rows = np.concatenate([np.zeros(self.n_sub, np.int32), 1 + self.edge_sub])
        self.cols = np.concatenate([sub_nodes, self.first_rev + self.edge_rev])
        self.caps = np.concatenate([np.asarray(need, np.int32), np.ones(len(edge_sub), np.int32)])
        self.rev_nodes = np.arange(self.first_rev, self.first_rev + n_rev, dtype=np.int32)

    def _graph(self, low: np.ndarray, high: np.ndarray) -> csr_array:
        rows = np.concatenate([self.rows, self.rev_nodes, self.rev_nodes, [self.x]])
        cols = np.concatenate(
            [
                self.cols,
                np.full(self.n_rev, self.sink, np.int32),
                np.full(self.n_rev, self.x, np.int32),
                [self.sink],
            ]
        )
        caps = np.concatenate([self.caps, low, high - low, [self.total - int(low.sum())]]).astype(np.int32)
        keep = caps > 0
        return csr_array((caps[keep], (rows[keep], cols[keep])), shape=(self.size, self.size))

    def _run(self, low: np.ndarray, high: np.ndarray):
        if (low > high).any() or int(low.sum()) > self.total:
            return None, None
        graph = self._graph(low, high)
        result = maximum_flow(graph, self.source, self.sink)
        return graph, result

    def feasible(self, low: np.ndarray, high: np.ndarray) -> bool:
        _, result = self._run(low, high)
        return result is not None and result.flow_value == self.total

    def solve(self, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Return (submission index, reviewer index) arrays of a full assignment within bounds, or None."""
        _, result = self._run(low, high)
        if result is None or result.flow_value != self.total:
            return None
        flow = result.flow
        used = np.asarray(flow[1 + self.edge_sub, self.first_rev + self.edge_rev]).ravel() > 0
        return self.edge_sub[used], self.edge_rev[used]

    def shortage_reasons(self, needy: list[Submission], cap: np.ndarray) -> list[Reason]:
        """Explain a failed flow by its minimum cut: submissions whose free reviewers cannot cover them."""
        low = np.zeros(self.n_rev, np.int64)
        graph, result = self._run(low, cap)
        reasons: list[Reason] = []
        free = int(cap.sum())
        if free < self.total:
            reasons.append(
                Reason(
                    f"Faltan cupos: se necesitan {self.total} asignaciones más y los evaluadores, "
                    f"según su carga máxima, solo pueden tomar {free}.",
                    needed=self.total,
                    available=free,
                )
            )
        residual = (graph - result.flow).tocsr()
        residual.data[residual.data < 0] = 0
        residual.eliminate_zeros()
        reachable = breadth_first_order(residual, self.source, directed=True, return_predecessors=False)
        side = np.zeros(self.size, bool)
        side[reachable] = True
        subs = [i for i in range(self.n_sub) if side[1 + i]]
        if subs and (len(subs) < self.n_sub or not reasons):  # a named group says more than a total
            served = np.asarray(result.flow[[0] * len(subs), [1 + i for i in subs]]).ravel()
            needed = int(graph[[0] * len(subs), [1 + i for i in subs]].sum())
            folios = tuple(needy[i].folio for i in subs)
            reasons.append(
                Reason(
                    f"{', '.join(folios)} necesitan {needed} asignaciones más en conjunto, pero los "
                    f"evaluadores sin conflicto con ellas, según su carga máxima, solo pueden tomar "
                    f"{int(served.sum())}.",
                    folios,
                    needed=needed,
                    available=int(served.sum()),
                )
            )
        return reasons


def add_reviewer(
    submission: Submission,
    reviewers: Sequence[Reviewer],
    pairs: Iterable[tuple[int, int]],
    *,
    conflicts: Iterable[Conflict] = (),
    exclude_own_region: bool = False,
    removed: Iterable[tuple[int, int]] = (),
) -> int:
    """Return the reviewer to add to one submission (the outlier action): the least loaded reviewer who may
    review it, not on it yet, under their max_load; ties go to the lowest id.

    `pairs` are all current (reviewer_id, submission_id) assignments of the call, so loads are the real ones.
    A single addition cannot paint anything into a corner, so choosing the least loaded is optimal here.
    """
    rules = _Rules(conflicts, exclude_own_region)
    pairs = set(pairs)
    removed_set = set(removed)
    loads: dict[int, int] = defaultdict(int)
    for rid, _ in pairs:
        loads[rid] += 1
    candidates = [
        r
        for r in reviewers
        if (r.id, submission.id) not in pairs
        and (r.id, submission.id) not in removed_set
        and (r.max_load is None or loads[r.id] < r.max_load)
        and rules.blocked(r, submission) is None
    ]
    if not candidates:
        have = sum(1 for _, sid in pairs if sid == submission.id)
        raise AssignmentImpossible(
            [
                Reason(
                    f"{submission.folio} no tiene más evaluadores disponibles sin conflicto de interés; "
                    f"ya tiene {have}.",
                    (submission.folio,),
                    needed=have + 1,
                    available=have,
                )
            ]
        )
    return min(candidates, key=lambda r: (loads[r.id], r.id)).id
