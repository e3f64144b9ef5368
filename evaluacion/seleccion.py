"""Committee selection: which ideas get funded, solved exactly as an integer programme (HiGHS via scipy).

Pure: plain data in, plain data out, no Flask or SQLAlchemy.

Rules. A candidate is *eligible* when its score is at least `min_score` and it is not in `must_exclude`;
`must_include` forces a candidate in even below `min_score` (an override is the committee's explicit word).
A selection holds when: its total amount is at most the budget; every region with an eligible candidate has at
least one selected; at most `max_per_challenge` selected per challenge (candidates without a challenge are not
capped); at most `max_count` selected; every `must_include` is in and every `must_exclude` out.

Objectives (scores must be non-negative):
- "total": maximise the sum of the selected scores (a knapsack with the rules). Proven optimal, with no
  relative gap: one MILP over every size of selection is hard for HiGHS (its relaxation funds a fraction of
  one more idea), so the search splits on the number k of ideas selected. With the count fixed the
  relaxation is tight; its bound z(k) is concave in k, so walking out from the relaxation's own count, best
  bound first, and solving the MILP (gap 0) for each k whose bound could beat the best selection found
  proves the optimum after a handful of solves. Scores with at most four decimals are solved as integers
  (hundredths, ...), so a bound below best + 1 is a proof; others as floats, to HiGHS's tolerances.
- "rank": lexicographic. Order the eligible candidates by (rank, id). A selection S beats T when, at the first
  candidate in that order where they differ, S holds it. The winner is unique: a lower-ranked idea is chosen
  only when no higher-ranked one left out could have been added with every rule still holding given the
  higher-ranked decisions. It is computed exactly by going down the order, fixing each candidate in when the
  rules can still all be met (else out). A feasibility MILP is only solved when none of these exact
  shortcuts decides: a kept witness selection already holds the candidate, or a plain completion (the
  cheapest idea ahead for each region still uncovered) holds every rule (then it fits); or a necessary
  condition fails (challenge or count full counting the forced ideas ahead, budget short of the candidate,
  the forced ideas and the cheapest cover of the regions still uncovered, or no matching of those regions to
  challenges with room left) (then it does not).

Both objectives first fix out candidates that no optimum needs (see `_Model._dominated`). Amounts are exact
integers: HiGHS's integrality tolerance could round a selection a few pesos over budget, so every MILP answer
is re-checked in integer pesos and, when over, that set is cut off ("not all of these", valid for every
selection) and the MILP solved again.

Explanations. For every eligible candidate left out while a lower-priority one (lower score for "total",
lower in the ranking for "rank") was chosen, we list the rules that block each single move that would improve
the selection: adding it, or swapping it for any lower-priority selected idea. At an optimum every such move
is blocked, so the list is never empty; rules are ordered by how many moves they block.

Infeasible calls are diagnosed rule by rule with the closest relaxation: the least budget that would do, the
regions that cannot be covered, the least count or per-challenge cap that would do, and overrides that alone
break a rule.

The reproducible document's `input_sha256` is the sha256 of the canonical JSON (sorted keys, no spaces) of
the inputs only, with candidates sorted by id and override lists sorted: the solver's answer does not depend
on input order (ties are broken by id), so neither does the hash.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from idea.chile import format_clp, region_name

__all__ = [
    "Candidate",
    "Explanation",
    "GreedyResult",
    "Reason",
    "SelectionProblem",
    "SelectionResult",
    "best_per_region_then_greedy",
    "greedy_by_score",
    "input_document",
    "selection_document",
    "solve_selection",
]

OBJECTIVES = ("rank", "total")
RULES = ("budget", "region", "max_per_challenge", "max_count", "override")
_RULE_ES = {
    "budget": "el presupuesto",
    "region": "la regla regional",
    "max_per_challenge": "el tope por desafío",
    "max_count": "el máximo de proyectos",
    "override": "una decisión del comité",
}


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    folio: str
    region: str
    desafio_id: int | None
    amount: int  # integer pesos
    score: float
    rank: int


@dataclass(frozen=True, slots=True)
class SelectionProblem:
    candidates: tuple[Candidate, ...]
    budget: int
    objective: str = "rank"
    min_score: float = 0.0
    max_per_challenge: int | None = None
    max_count: int | None = None
    must_include: frozenset[int] = frozenset()
    must_exclude: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        ids = [c.id for c in self.candidates]
        if len(set(ids)) != len(ids):
            raise ValueError("Hay postulaciones repetidas.")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"Objetivo desconocido: {self.objective!r}")
        if self.budget < 0 or any(c.amount < 0 for c in self.candidates):
            raise ValueError("Los montos y el presupuesto no pueden ser negativos.")
        if any(not (c.score >= 0 and math.isfinite(c.score)) for c in self.candidates):
            raise ValueError("Los puntajes deben ser números no negativos.")
        unknown = (set(self.must_include) | set(self.must_exclude)) - set(ids)
        if unknown:
            raise ValueError(f"Postulaciones desconocidas en las decisiones del comité: {sorted(unknown)}")
        for cap in (self.max_per_challenge, self.max_count):
            if cap is not None and cap < 0:
                raise ValueError("Los topes no pueden ser negativos.")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a call is infeasible. `kind` is one of: override_conflict, must_include_over_budget,
    must_include_over_max_count, must_include_over_cap, budget_short, regions_uncoverable, max_count_short,
    max_per_challenge_short, rules_clash."""

    kind: str
    message: str
    required: int | None = None  # least budget / count / cap that would do
    limit: int | None = None  # what the call allows
    shortfall: int | None = None  # required - limit
    regions: tuple[str, ...] = ()
    ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    candidate_id: int
    rules: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class SelectionResult:
    feasible: bool
    objective: str
    selected: tuple[int, ...] = ()  # ordered by (rank, id)
    objective_value: float | None = None  # sum of selected scores, both objectives
    total_amount: int = 0
    regions_required: tuple[str, ...] = ()
    regions_covered: tuple[str, ...] = ()
    regions_without_eligible: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    message: str = ""
    explanations: tuple[Explanation, ...] = ()
    milp_solves: int = 0
    lp_solves: int = 0  # relaxations solved for bounds ("total")
    proven_optimal: bool = True
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class GreedyResult:
    selected: tuple[int, ...]
    objective_value: float
    total_amount: int
    regions_covered: tuple[str, ...]
    all_regions_covered: bool


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------


class _Model:
    """The pool (eligible or forced-in candidates) as arrays, and constraint rows by rule."""

    def __init__(self, p: SelectionProblem, all_regions: Sequence[str] | None = None) -> None:
        self.p = p
        forced = set(p.must_include) - set(p.must_exclude)
        pool = [
            c
            for c in p.candidates
            if c.id not in p.must_exclude and (c.score >= p.min_score or c.id in forced)
        ]
        pool.sort(key=lambda c: (c.rank, c.id))
        self.pool = pool
        self.n = len(pool)
        self.index = {c.id: i for i, c in enumerate(pool)}
        self.amount = np.array([c.amount for c in pool], dtype=float)
        self.score = np.array([c.score for c in pool], dtype=float)
        self.forced = sorted(self.index[i] for i in forced if i in self.index)
        by_region: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(pool):
            by_region[c.region].append(i)
        self.by_region = dict(sorted(by_region.items()))
        self.required = tuple(self.by_region)
        known = set(all_regions or ()) | {c.region for c in p.candidates}
        self.without_eligible = tuple(sorted(known - set(self.required)))
        by_challenge: dict[int, list[int]] = defaultdict(list)
        for i, c in enumerate(pool):
            if c.desafio_id is not None:
                by_challenge[c.desafio_id].append(i)
        self.by_challenge = dict(sorted(by_challenge.items()))
        self.solves = 0
        self.lp_solves = 0
        self.covers: list[list[int]] = []  # over-budget sets found by rounding, cut off
        self.unproven = False
        self.pruned = self._dominated()

    def _dominated(self) -> np.ndarray:
        """Candidates no optimum can hold, fixed out so HiGHS need not prove it.

        j is dominated by i when both share region (and challenge, if capped), i is at least as good (score
        for "total", rank for "rank") and costs no more. If j has at least K dominators (K the most ideas
        any selection can hold, or the cap in a capped challenge), an optimum holding j leaves one of them
        out, and swapping it for j keeps every rule and does not worsen the objective (strictly improves it
        lexicographically): so j is never needed. Forced candidates are never fixed out."""
        p = self.p
        pruned = np.zeros(self.n, dtype=bool)
        cheapest = np.cumsum(np.sort(self.amount))
        k = int(np.searchsorted(cheapest, p.budget, side="right"))
        if p.max_count is not None:
            k = min(k, p.max_count)
        groups: dict[tuple, list[int]] = defaultdict(list)
        capped = p.max_per_challenge is not None
        for i, c in enumerate(self.pool):
            groups[(c.region, c.desafio_id if capped else None)].append(i)
        forced = set(self.forced)
        for (_, desafio), members in groups.items():
            # Within one capped challenge no selection holds more than the cap.
            kg = min(k, p.max_per_challenge) if capped and desafio is not None else k
            if len(members) <= kg:
                continue
            if p.objective == "total":
                members.sort(key=lambda i: (-self.score[i], self.amount[i], self.pool[i].id))
            # else pool order is already (rank, id): earlier is lexicographically preferred
            amounts = self.amount[members]
            for pos in range(kg, len(members)):
                j = members[pos]
                if j not in forced and np.count_nonzero(amounts[:pos] <= amounts[pos]) >= kg:
                    pruned[j] = True
        return pruned

    def constraints(
        self, rules: Iterable[str], extra: int = 0, cap_var: bool = False, cover_vars: bool = False
    ) -> list[LinearConstraint]:
        """Rows over x (n) plus `extra` trailing variables: a cap variable t, or one cover variable per
        required region (y_r <= sum x in r)."""
        rules = set(rules)
        width = self.n + extra
        rows: list[tuple[dict[int, float], float, float]] = []
        if "budget" in rules:
            # Amounts and budget divided by the amounts' gcd (budget rounded down): the same integer points,
            # with coefficients HiGHS's tolerances cannot blur.
            g = math.gcd(*(int(a) for a in self.amount)) or 1
            rows.append(({i: self.amount[i] / g for i in range(self.n)}, -np.inf, float(self.p.budget // g)))
        if "region" in rules:
            for members in self.by_region.values():
                rows.append(({i: 1.0 for i in members}, 1.0, np.inf))
        if cover_vars:
            for k, members in enumerate(self.by_region.values()):
                row = {i: -1.0 for i in members}
                row[self.n + k] = 1.0
                rows.append((row, -np.inf, 0.0))
        if self.by_challenge and ("max_per_challenge" in rules or cap_var):
            for members in self.by_challenge.values():
                row = {i: 1.0 for i in members}
                if cap_var:
                    row[self.n] = -1.0
                    rows.append((row, -np.inf, 0.0))
                elif self.p.max_per_challenge is not None:
                    rows.append((row, -np.inf, float(self.p.max_per_challenge)))
        if "max_count" in rules and self.p.max_count is not None:
            rows.append(({i: 1.0 for i in range(self.n)}, -np.inf, float(self.p.max_count)))
        if not rows:
            return []
        data, ri, ci = [], [], []
        for r, (row, _, _) in enumerate(rows):
            for c, v in row.items():
                data.append(v)
                ri.append(r)
                ci.append(c)
        a = csr_array((data, (ri, ci)), shape=(len(rows), width))
        return [LinearConstraint(a, [r[1] for r in rows], [r[2] for r in rows])]

    def count_row(self, k: int) -> LinearConstraint:
        """Exactly k selected."""
        return LinearConstraint(csr_array(np.ones((1, self.n))), [float(k)], [float(k)])

    def solve(
        self,
        c: np.ndarray,
        constraints: list[LinearConstraint],
        lb: np.ndarray,
        ub: np.ndarray,
        integrality: np.ndarray | None = None,
        time_limit: float | None = None,
        lp: bool = False,
        budget: bool = True,
    ) -> np.ndarray | None:
        """Solve; None when infeasible. `budget` says the constraints hold the budget row."""
        if len(c) == 0:  # nothing eligible: the empty selection breaks no rule
            return np.zeros(0)
        if lp:
            self.lp_solves += 1
        else:
            self.solves += 1
        if integrality is None:
            integrality = np.ones(len(c))
        options = {"mip_rel_gap": 0.0, **({"time_limit": time_limit} if time_limit else {})}
        while True:
            cuts = [self.cover_cuts(len(c))] if budget and self.covers else []
            rows = constraints + cuts
            res = milp(c, constraints=rows, integrality=integrality, bounds=Bounds(lb, ub), options=options)
            if res.x is None or res.status not in (0, 1):
                return None
            if budget and not lp:
                # HiGHS takes x = 1 - 1e-6 as 1: with amounts in pesos the rounded selection can exceed the
                # budget by a few pesos. Such a set S is a cover (its exact total is over budget): no
                # selection holds all of it, so "at most |S| - 1 of S" is valid. Cut it and re-solve.
                picked = [i for i in range(self.n) if res.x[i] > 0.5]
                if sum(self.pool[i].amount for i in picked) > self.p.budget:
                    self.covers.append(picked)
                    continue
            if res.status == 1:
                # Stopped by the time limit with a feasible point: usable, but not proven optimal.
                self.unproven = True
            return res.x

    def cover_cuts(self, width: int) -> LinearConstraint:
        data, ri, ci = [], [], []
        for r, members in enumerate(self.covers):
            data += [1.0] * len(members)
            ri += [r] * len(members)
            ci += members
        a = csr_array((data, (ri, ci)), shape=(len(self.covers), width))
        return LinearConstraint(a, -np.inf, [len(s) - 1.0 for s in self.covers])

    def bounds(self, extra: int = 0, extra_ub: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        lb = np.zeros(self.n + extra)
        ub = np.ones(self.n + extra)
        ub[self.n :] = extra_ub
        lb[self.forced] = 1.0
        ub[: self.n][self.pruned] = 0.0
        return lb, ub


ALL_RULES = ("budget", "region", "max_per_challenge", "max_count")


def _picked(x: np.ndarray, n: int) -> list[int]:
    return [i for i in range(n) if x[i] > 0.5]


# ---------------------------------------------------------------------------
# Solve
# ---------------------------------------------------------------------------


def solve_selection(
    problem: SelectionProblem, all_regions: Sequence[str] | None = None, time_limit: float | None = None
) -> SelectionResult:
    """Solve the committee's selection exactly; `all_regions` (codes) only feeds the note on regions without
    an eligible idea. `time_limit` (seconds, "total" only) returns the best selection found when the search
    has not proven optimality by then, with `proven_optimal=False`."""
    m = _Model(problem, all_regions)
    notes = tuple(
        f"{region_name(r, r)} no tiene ideas elegibles: la regla regional cubre {len(m.required)} regiones."
        for r in m.without_eligible
    )
    common = dict(
        objective=problem.objective,
        regions_required=m.required,
        regions_without_eligible=m.without_eligible,
        notes=notes,
    )
    reasons = _diagnose_overrides(m)
    if reasons:
        return _infeasible(m, reasons, common)
    lb, ub = m.bounds()
    cons = m.constraints(ALL_RULES)
    if problem.objective == "total":
        chosen = _solve_total(m, cons, time_limit)
        if chosen is None:
            return _infeasible(m, _diagnose(m), common)
    else:
        chosen = _solve_rank(m, cons)
        if chosen is None:
            return _infeasible(m, _diagnose(m), common)
    chosen.sort()
    selected = tuple(m.pool[i].id for i in chosen)
    return SelectionResult(
        feasible=True,
        selected=selected,
        objective_value=float(sum(m.score[i] for i in chosen)),
        total_amount=int(sum(m.pool[i].amount for i in chosen)),
        regions_covered=tuple(sorted({m.pool[i].region for i in chosen})),
        explanations=_explain(m, chosen),
        milp_solves=m.solves,
        lp_solves=m.lp_solves,
        proven_optimal=not m.unproven,
        message=f"Se seleccionan {len(chosen)} ideas por {format_clp(int(sum(m.amount[chosen])))}.",
        **common,
    )


def _integral_weights(score: np.ndarray) -> np.ndarray | None:
    """The scores times the least power of ten (up to 10^4) that makes every one an integer, or None.

    With integer weights the objective of any selection is an integer, so a bound below best + 1 proves that
    nothing better exists (and HiGHS detects the integral objective and prunes on it too)."""
    for scale in (1, 10, 100, 1_000, 10_000):
        w = np.round(score * scale)
        if np.all(np.abs(score * scale - w) <= 1e-9 * np.maximum(1.0, w)) and float(w.sum()) < 2**50:
            return w
    return None


def _solve_total(m: _Model, cons: list[LinearConstraint], time_limit: float | None) -> list[int] | None:
    """Maximum score sum, proven, by splitting on the number of selected ideas k.

    The knapsack's linear relaxation is weak (it funds a fraction of one more idea), so one MILP over every
    size leaves HiGHS with a gap it cannot close in seconds. With the count fixed, sum x = k, the relaxation
    is tight. Let z(k) be the LP bound with the count fixed: z is concave in k (parametric right-hand side),
    and the LP without the count row peaks between floor and ceil of its own count. So we walk out from
    that peak on both sides, best bound first, solving the MILP for each k (to gap 0) only while z(k) could
    beat the best selection found; once the best bound left on both sides is no better, the best is optimal.
    """
    lb, ub = m.bounds()
    if m.n == 0:
        return []
    deadline = None if time_limit is None else _now() + time_limit
    w = _integral_weights(m.score)
    integral = w is not None
    if w is None:
        w = m.score.copy()
    lp = m.solve(-w, cons, lb, ub, integrality=np.zeros(m.n), lp=True)
    if lp is None:
        return None  # not even fractionally feasible
    k_lo = len(m.forced)
    k_hi = int(np.searchsorted(np.cumsum(np.sort(m.amount)), m.p.budget, side="right"))
    k_hi = min(k_hi, m.n - int(m.pruned.sum()))
    if m.p.max_count is not None:
        k_hi = min(k_hi, m.p.max_count)
    if k_lo > k_hi:
        return None
    # The LP's own count lies in [a, b]; bounds fall off monotonically left of a and right of b.
    k_frac = float(lp[: m.n].sum())
    a = min(max(math.floor(k_frac - 1e-6), k_lo), k_hi)
    b = max(min(math.ceil(k_frac + 1e-6), k_hi), a)
    bounds: dict[int, float | None] = {}

    def bound(k: int) -> float | None:
        if k < k_lo or k > k_hi:
            return None
        if k not in bounds:
            x = m.solve(-w, cons + [m.count_row(k)], lb, ub, integrality=np.zeros(m.n), lp=True)
            bounds[k] = None if x is None else float(w @ x[: m.n])
        return bounds[k]

    def beats(z: float, best: float | None) -> bool:
        if best is None:
            return True
        # An integral objective can only improve by 1, and LP round-off is far below 0.5. Otherwise a k whose
        # bound ties the best within round-off is still solved (each k at most once).
        return z >= best + 0.5 if integral else z > best - 1e-7 * max(1.0, abs(best))

    pending = set(range(a, b + 1))
    best: float | None = None
    chosen: list[int] | None = None
    while True:
        open_ = [(z, k) for k in pending if (z := bound(k)) is not None]
        if not open_:
            break
        z, k = max(open_)
        if not beats(z, best):
            break  # by concavity no k left, pending or further out, is bounded any better
        if deadline is not None and chosen is not None and _now() >= deadline:
            m.unproven = True
            break
        pending.discard(k)
        if k == a:
            a -= 1
            pending.add(a)
        if k == b:
            b += 1
            pending.add(b)
        remaining = None if deadline is None else max(deadline - _now(), 0.01)
        x = m.solve(-w, cons + [m.count_row(k)], lb, ub, time_limit=remaining)
        if x is None:
            continue
        value = float(w @ np.round(x[: m.n]))
        if best is None or value > best:
            best, chosen = value, _picked(x, m.n)
    return chosen


def _now() -> float:
    return time.perf_counter()


# The rank search's exact shortcuts (witness, necessary conditions, greedy completion); tests turn them off to
# check the plain one-MILP-per-candidate search gives the same answer.
_SHORTCUTS = True


def _solve_rank(m: _Model, cons: list[LinearConstraint]) -> list[int] | None:
    p = m.p
    lb, ub = m.bounds()
    forced = set(m.forced)
    # Each region's members by amount, for the greedy completion (a cheap sufficient condition).
    by_amount = {r: sorted(members, key=lambda j: (m.amount[j], j)) for r, members in m.by_region.items()}
    cap = p.max_per_challenge

    def complete(
        i: int, spent: float, count: int, per_challenge: Counter[int], covered: set[str]
    ) -> np.ndarray | None:
        """A selection holding every idea taken so far, candidate i (when i >= 0), every forced idea ahead
        and, for each region still uncovered, its cheapest idea ahead that fits its challenge's cap; or
        None when that simple completion breaks a rule (the MILP then decides)."""
        x = np.zeros(m.n)
        x[: max(i, 0)] = lb[: max(i, 0)] > 0.5  # decided in so far
        per = Counter(per_challenge)
        cov = set(covered)
        ahead = [j for j in m.forced if j > i]
        if i >= 0:
            ahead.insert(0, i)
        for j in ahead:
            x[j] = 1.0
            spent += m.amount[j]
            count += 1
            cov.add(m.pool[j].region)
            d = m.pool[j].desafio_id
            if d is not None:
                per[d] += 1
        if cap is not None and any(v > cap for v in per.values()):
            return None
        for r in m.required:
            if r in cov:
                continue
            for j in by_amount[r]:
                d = m.pool[j].desafio_id
                if j > i and not m.pruned[j] and x[j] < 0.5 and (cap is None or d is None or per[d] < cap):
                    x[j] = 1.0
                    spent += m.amount[j]
                    count += 1
                    if d is not None:
                        per[d] += 1
                    break
            else:
                return None
        if spent > p.budget or (p.max_count is not None and count > p.max_count):
            return None
        return x

    zero = np.zeros(m.n)
    witness = complete(-1, 0.0, 0, Counter(), set())
    if witness is None:
        witness = m.solve(zero, cons, lb, ub)
    if witness is None:
        return None
    spent = 0.0
    count = 0
    per_challenge: Counter[int] = Counter()
    covered: set[str] = set()
    # Cheapest still-undecided candidate per region, for the budget lower bound: suffix minima by rank order.
    suffix_min: dict[str, list[float]] = {}
    for r, members in m.by_region.items():
        arr = np.full(m.n + 1, np.inf)
        for i in members:
            arr[i] = m.amount[i]
        suffix_min[r] = np.minimum.accumulate(arr[::-1])[::-1].tolist()
    forced_list = sorted(forced)
    # Last unpruned index per (region, challenge): which challenges can still cover a region after i.
    last: dict[str, dict[int | None, int]] = defaultdict(dict)
    for j, c in enumerate(m.pool):
        if not m.pruned[j]:
            last[c.region][c.desafio_id] = j

    def could_fit(i: int, spent: float, count: int, per_challenge: Counter[int], covered: set[str]) -> bool:
        """Necessary conditions for a selection holding the ideas taken so far, i and the forced ideas ahead:
        challenge caps, count, budget with the cheapest cover of the regions still uncovered, and a matching
        of those regions to challenges with room left."""
        ahead = [i] + [j for j in forced_list if j > i]
        per = Counter(per_challenge)
        cov = set(covered)
        for j in ahead:
            cov.add(m.pool[j].region)
            if m.pool[j].desafio_id is not None:
                per[m.pool[j].desafio_id] += 1
        if cap is not None and any(v > cap for v in per.values()):
            return False
        uncovered = [r for r in m.required if r not in cov]
        if p.max_count is not None and count + len(ahead) + len(uncovered) > p.max_count:
            return False
        need = spent + sum(m.amount[j] for j in ahead) + sum(suffix_min[r][i + 1] for r in uncovered)
        if need > p.budget + 1e-6:
            return False
        if cap is None or not uncovered:
            return True
        # Each uncovered region needs its own idea ahead, from a challenge with room (or none).
        options = {r: [d for d, j in last[r].items() if j > i] for r in uncovered}
        room = {d: cap - per[d] for r in uncovered for d in options[r] if d is not None}
        owner: dict[tuple[int, int], str] = {}  # (challenge, slot) -> region

        def augment(r: str, seen: set[tuple[int, int]]) -> bool:
            for d in options[r]:
                if d is None:
                    return True
                for slot in range(min(room[d], len(uncovered))):
                    key = (d, slot)
                    if key in seen:
                        continue
                    seen.add(key)
                    if key not in owner or augment(owner[key], seen):
                        owner[key] = r
                        return True
            return False

        return all(augment(r, set()) for r in uncovered)

    for i in range(m.n):
        c = m.pool[i]
        if i in forced or (_SHORTCUTS and witness[i] > 0.5):
            take = True
        elif m.pruned[i]:
            take = False
        else:
            take = could_fit(i, spent, count, per_challenge, covered) if _SHORTCUTS else True
            if take:
                x = complete(i, spent, count, per_challenge, covered) if _SHORTCUTS else None
                if x is None:
                    lb[i] = 1.0
                    x = m.solve(zero, cons, lb, ub)
                if x is None:
                    take = False
                else:
                    witness = x
        if take:
            lb[i] = ub[i] = 1.0
            spent += m.amount[i]
            count += 1
            covered.add(c.region)
            if c.desafio_id is not None:
                per_challenge[c.desafio_id] += 1
        else:
            lb[i] = ub[i] = 0.0
    return [i for i in range(m.n) if lb[i] > 0.5]


# ---------------------------------------------------------------------------
# Explanations
# ---------------------------------------------------------------------------


def _explain(m: _Model, chosen: list[int]) -> tuple[Explanation, ...]:
    p = m.p
    chosen_set = set(chosen)
    total = sum(m.pool[i].amount for i in chosen)
    per_region = Counter(m.pool[i].region for i in chosen)
    per_challenge = Counter(m.pool[i].desafio_id for i in chosen if m.pool[i].desafio_id is not None)
    forced = set(m.forced)

    def priority(c: Candidate) -> tuple:
        # Higher tuple = preferred.
        return (c.score,) if p.objective == "total" else (-c.rank, -c.id)

    out: list[Explanation] = []
    eligible_excluded = sorted(
        (c for c in p.candidates if c.id in p.must_exclude and c.score >= p.min_score), key=lambda c: c.id
    )
    lowest_chosen = min((priority(m.pool[j]) for j in chosen), default=None)
    for c in eligible_excluded:
        if lowest_chosen is not None and priority(c) > lowest_chosen:
            out.append(Explanation(c.id, ("override",), f"{c.folio}: el comité la excluyó."))
    for i, c in enumerate(m.pool):
        if i in chosen_set:
            continue
        lower = [j for j in chosen if priority(m.pool[j]) < priority(c)]
        if not lower:
            continue
        blocks: Counter[str] = Counter()
        # Adding it.
        add = set()
        if total + c.amount > p.budget:
            add.add("budget")
        if p.max_count is not None and len(chosen) + 1 > p.max_count:
            add.add("max_count")
        if (
            p.max_per_challenge is not None
            and c.desafio_id is not None
            and per_challenge[c.desafio_id] + 1 > p.max_per_challenge
        ):
            add.add("max_per_challenge")
        blocks.update(add)
        for j in lower:
            o = m.pool[j]
            swap = set()
            if total - o.amount + c.amount > p.budget:
                swap.add("budget")
            if o.region != c.region and per_region[o.region] == 1:
                swap.add("region")
            if (
                p.max_per_challenge is not None
                and c.desafio_id is not None
                and c.desafio_id != o.desafio_id
                and per_challenge[c.desafio_id] + 1 > p.max_per_challenge
            ):
                swap.add("max_per_challenge")
            if j in forced:
                swap.add("override")
            blocks.update(swap)
        rules = tuple(r for r, _ in sorted(blocks.items(), key=lambda kv: (-kv[1], RULES.index(kv[0]))))
        words = ", ".join(_RULE_ES[r] for r in rules) or "ninguna regla simple"
        out.append(Explanation(c.id, rules, f"{c.folio} quedó fuera por {words}."))
    out.sort(key=lambda e: e.candidate_id)
    return tuple(out)


# ---------------------------------------------------------------------------
# Infeasibility
# ---------------------------------------------------------------------------


def _infeasible(m: _Model, reasons: list[Reason], common: dict) -> SelectionResult:
    message = "No hay selección que cumpla todas las reglas. " + " ".join(r.message for r in reasons)
    return SelectionResult(
        feasible=False, reasons=tuple(reasons), message=message, milp_solves=m.solves, **common
    )


def _diagnose_overrides(m: _Model) -> list[Reason]:
    p = m.p
    reasons: list[Reason] = []
    both = sorted(set(p.must_include) & set(p.must_exclude))
    if both:
        reasons.append(
            Reason(
                "override_conflict",
                "Hay ideas a la vez incluidas y excluidas por el comité: "
                + ", ".join(_folio(p, i) for i in both)
                + ".",
                ids=tuple(both),
            )
        )
        return reasons
    forced = [m.pool[i] for i in m.forced]
    spent = sum(c.amount for c in forced)
    if spent > p.budget:
        reasons.append(
            Reason(
                "must_include_over_budget",
                f"Las ideas incluidas por el comité suman {format_clp(spent)}, "
                f"{format_clp(spent - p.budget)} más que el presupuesto de {format_clp(p.budget)}.",
                required=spent,
                limit=p.budget,
                shortfall=spent - p.budget,
                ids=tuple(sorted(c.id for c in forced)),
            )
        )
    if p.max_count is not None and len(forced) > p.max_count:
        reasons.append(
            Reason(
                "must_include_over_max_count",
                f"El comité incluyó {len(forced)} ideas y el máximo es {p.max_count}.",
                required=len(forced),
                limit=p.max_count,
                shortfall=len(forced) - p.max_count,
                ids=tuple(sorted(c.id for c in forced)),
            )
        )
    if p.max_per_challenge is not None:
        per = Counter(c.desafio_id for c in forced if c.desafio_id is not None)
        for d, k in sorted(per.items()):
            if k > p.max_per_challenge:
                ids = tuple(sorted(c.id for c in forced if c.desafio_id == d))
                reasons.append(
                    Reason(
                        "must_include_over_cap",
                        f"El comité incluyó {k} ideas del desafío {d} y el tope por desafío es "
                        f"{p.max_per_challenge}.",
                        required=k,
                        limit=p.max_per_challenge,
                        shortfall=k - p.max_per_challenge,
                        ids=ids,
                    )
                )
    return reasons


def _diagnose(m: _Model) -> list[Reason]:
    """For each rule, the closest relaxation of it under which the other rules hold."""
    p = m.p
    reasons: list[Reason] = []
    # The dominance fixing counts on the budget, count and caps it was derived from; each relaxation below
    # lifts one of them, so it is off here.
    m.pruned = np.zeros(m.n, dtype=bool)
    lb, ub = m.bounds()
    # Least budget.
    x = m.solve(
        m.amount.copy(), m.constraints({"region", "max_per_challenge", "max_count"}), lb, ub, budget=False
    )
    if x is not None:
        need = int(round(float(m.amount @ x[: m.n])))
        if need > p.budget:
            reasons.append(
                Reason(
                    "budget_short",
                    f"El presupuesto no alcanza por {format_clp(need - p.budget)} para cubrir "
                    f"todas las regiones con las demás reglas (el mínimo es {format_clp(need)}).",
                    required=need,
                    limit=p.budget,
                    shortfall=need - p.budget,
                )
            )
    # Most regions coverable.
    k = len(m.required)
    if k:
        lb2, ub2 = m.bounds(extra=k)
        c = np.concatenate([np.zeros(m.n), -np.ones(k)])
        x = m.solve(
            c, m.constraints({"budget", "max_per_challenge", "max_count"}, extra=k, cover_vars=True), lb2, ub2
        )
        if x is not None:
            miss = tuple(r for t, r in enumerate(m.required) if x[m.n + t] < 0.5)
            if miss:
                names = ", ".join(region_name(r, r) for r in miss)
                reasons.append(
                    Reason(
                        "regions_uncoverable",
                        f"Con las demás reglas solo se pueden cubrir {k - len(miss)} de {k} regiones; "
                        f"quedan sin idea: {names}.",
                        required=k,
                        limit=k - len(miss),
                        shortfall=len(miss),
                        regions=miss,
                    )
                )
    if p.max_count is not None:
        x = m.solve(np.ones(m.n), m.constraints({"budget", "region", "max_per_challenge"}), lb, ub)
        if x is not None:
            need = len(_picked(x, m.n))
            if need > p.max_count:
                reasons.append(
                    Reason(
                        "max_count_short",
                        f"Se necesitan al menos {need} proyectos para cumplir las demás reglas y el "
                        f"máximo es {p.max_count} (faltan {need - p.max_count}).",
                        required=need,
                        limit=p.max_count,
                        shortfall=need - p.max_count,
                    )
                )
    if p.max_per_challenge is not None and m.by_challenge:
        lb3, ub3 = m.bounds(extra=1, extra_ub=float(m.n))
        c = np.zeros(m.n + 1)
        c[m.n] = 1.0
        x = m.solve(c, m.constraints({"budget", "region", "max_count"}, extra=1, cap_var=True), lb3, ub3)
        if x is not None:
            need = int(round(x[m.n]))
            if need > p.max_per_challenge:
                reasons.append(
                    Reason(
                        "max_per_challenge_short",
                        f"Se necesita un tope por desafío de al menos {need} para cumplir las demás reglas; "
                        f"el tope es {p.max_per_challenge}.",
                        required=need,
                        limit=p.max_per_challenge,
                        shortfall=need - p.max_per_challenge,
                    )
                )
    if not reasons:
        reasons.append(Reason("rules_clash", "Ninguna regla sola lo explica: chocan varias a la vez."))
    return reasons


def _folio(p: SelectionProblem, cid: int) -> str:
    return next((c.folio for c in p.candidates if c.id == cid), str(cid))


# ---------------------------------------------------------------------------
# Greedy baselines
# ---------------------------------------------------------------------------


def _greedy(p: SelectionProblem, order: list[Candidate], seed: list[Candidate]) -> GreedyResult:
    chosen: list[Candidate] = []
    ids: set[int] = set()
    spent = 0
    per: Counter[int] = Counter()

    def fits(c: Candidate) -> bool:
        if c.id in ids or spent + c.amount > p.budget:
            return False
        if p.max_count is not None and len(chosen) + 1 > p.max_count:
            return False
        return not (
            p.max_per_challenge is not None
            and c.desafio_id is not None
            and per[c.desafio_id] + 1 > p.max_per_challenge
        )

    for c in seed + order:
        if c.id in p.must_include or fits(c):
            if c.id in ids:
                continue
            chosen.append(c)
            ids.add(c.id)
            spent += c.amount
            if c.desafio_id is not None:
                per[c.desafio_id] += 1
    m = _Model(p)
    covered = tuple(sorted({c.region for c in chosen}))
    return GreedyResult(
        selected=tuple(c.id for c in sorted(chosen, key=lambda c: (c.rank, c.id))),
        objective_value=float(sum(c.score for c in chosen)),
        total_amount=spent,
        regions_covered=covered,
        all_regions_covered=set(m.required) <= set(covered),
    )


def _by_score(p: SelectionProblem) -> tuple[list[Candidate], list[Candidate]]:
    forced = [c for c in p.candidates if c.id in p.must_include and c.id not in p.must_exclude]
    pool = [c for c in p.candidates if c.id not in p.must_exclude and c.score >= p.min_score]
    pool.sort(key=lambda c: (-c.score, c.rank, c.id))
    return forced, pool


def greedy_by_score(p: SelectionProblem) -> GreedyResult:
    """Baseline: overrides first, then best score first while it fits; ignores the regional rule."""
    forced, pool = _by_score(p)
    return _greedy(p, pool, forced)


def best_per_region_then_greedy(p: SelectionProblem) -> GreedyResult:
    """Baseline: overrides, then each region's best-scored idea, then greedy by score."""
    forced, pool = _by_score(p)
    best: dict[str, Candidate] = {}
    for c in pool:
        best.setdefault(c.region, c)
    firsts = sorted(best.values(), key=lambda c: (-c.score, c.rank, c.id))
    return _greedy(p, firsts + pool, forced)


# ---------------------------------------------------------------------------
# Reproducible document
# ---------------------------------------------------------------------------


def input_document(p: SelectionProblem) -> dict:
    """The inputs as canonical JSON-ready data: candidates by id, override lists sorted."""
    return {
        "budget": p.budget,
        "objective": p.objective,
        "min_score": p.min_score,
        "max_per_challenge": p.max_per_challenge,
        "max_count": p.max_count,
        "candidates": [
            {
                "id": c.id,
                "folio": c.folio,
                "region": c.region,
                "desafio_id": c.desafio_id,
                "amount": c.amount,
                "score": c.score,
                "rank": c.rank,
            }
            for c in sorted(p.candidates, key=lambda c: c.id)
        ],
        "must_include": sorted(p.must_include),
        "must_exclude": sorted(p.must_exclude),
    }


def selection_document(p: SelectionProblem, result: SelectionResult) -> dict:
    """JSON-ready record of a selection anyone can re-run: inputs, answer, inputs' hash."""
    doc = input_document(p)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    doc["selected"] = list(result.selected)
    doc["objective_value"] = result.objective_value
    doc["input_sha256"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return doc
