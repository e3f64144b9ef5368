"""The committee selection solver against exhaustive search on small calls, and its messages by hand.

The exhaustive search enumerates every subset (up to 2^15) at once with numpy: a boolean matrix with one row
per subset, each rule a vectorised test of the rows. `holds` is the rules written out plainly, and checks the
solver's own answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from unittest.mock import patch

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evaluacion import seleccion
from evaluacion.seleccion import (
    Candidate,
    SelectionProblem,
    best_per_region_then_greedy,
    greedy_by_score,
    selection_document,
    solve_selection,
)


def holds(p: SelectionProblem, ids: set[int]) -> bool:
    by_id = {c.id: c for c in p.candidates}
    chosen = [by_id[i] for i in ids]
    if sum(c.amount for c in chosen) > p.budget:
        return False
    if not set(p.must_include) <= ids or ids & set(p.must_exclude):
        return False
    eligible = [c for c in p.candidates if c.score >= p.min_score and c.id not in p.must_exclude]
    if any(c.score < p.min_score and c.id not in p.must_include for c in chosen):
        return False
    if {c.region for c in eligible} - {c.region for c in chosen}:
        return False
    if p.max_count is not None and len(chosen) > p.max_count:
        return False
    if p.max_per_challenge is not None:
        for d in {c.desafio_id for c in chosen} - {None}:
            if sum(c.desafio_id == d for c in chosen) > p.max_per_challenge:
                return False
    return True


@dataclass
class Exhaustive:
    """Every subset of the candidates, with each rule evaluated on each subset."""

    p: SelectionProblem

    def __post_init__(self) -> None:
        p = self.p
        cs = self.cs = sorted(p.candidates, key=lambda c: (c.rank, c.id))  # column order = rank order
        n = len(cs)
        self.x = (np.arange(2**n)[:, None] >> np.arange(n)[::-1] & 1).astype(bool)
        x = self.x
        self.amount = x @ np.array([c.amount for c in cs], dtype=np.int64)
        self.score = x @ np.array([c.score for c in cs])
        self.count = x.sum(axis=1)
        col = {c.id: k for k, c in enumerate(cs)}
        inc = [col[i] for i in p.must_include]
        exc = [col[i] for i in p.must_exclude]
        barred = [col[c.id] for c in cs if c.score < p.min_score and c.id not in p.must_include]
        self.overrides = x[:, inc].all(axis=1) & ~x[:, exc].any(axis=1) & ~x[:, barred].any(axis=1)
        eligible = [c for c in cs if c.score >= p.min_score and c.id not in p.must_exclude]
        regions = sorted({c.region for c in eligible})
        self.n_regions = len(regions)
        self.regions_hit = np.zeros(len(x), dtype=int)
        for r in regions:
            self.regions_hit += x[:, [col[c.id] for c in cs if c.region == r]].any(axis=1)
        self.max_per_challenge = np.zeros(len(x), dtype=int)
        for d in {c.desafio_id for c in cs} - {None}:
            per = x[:, [col[c.id] for c in cs if c.desafio_id == d]].sum(axis=1)
            self.max_per_challenge = np.maximum(self.max_per_challenge, per)

    def rule(self, name: str) -> np.ndarray:
        p = self.p
        if name == "budget":
            return self.amount <= p.budget
        if name == "region":
            return self.regions_hit == self.n_regions
        if name == "max_count":
            return self.count <= p.max_count if p.max_count is not None else np.ones(len(self.x), bool)
        if p.max_per_challenge is None:
            return np.ones(len(self.x), bool)
        return self.max_per_challenge <= p.max_per_challenge

    def feasible(self, *, but: str | None = None) -> np.ndarray:
        ok = self.overrides.copy()
        for name in ("budget", "region", "max_count", "max_per_challenge"):
            if name != but:
                ok &= self.rule(name)
        return ok

    def ids(self, row: int) -> set[int]:
        return {c.id for c, b in zip(self.cs, self.x[row], strict=True) if b}


@st.composite
def problems(draw, objective: str) -> SelectionProblem:
    n = draw(st.integers(1, 15))
    regions = draw(st.integers(1, 5))
    # Scores in hundredths (solved with integer weights) or in thirds (no decimal scale: float weights).
    denominator = draw(st.sampled_from([1, 100, 3]))
    cands = []
    for i in range(n):
        cands.append(
            Candidate(
                id=i + 1,
                folio=f"F-{i + 1}",
                region=f"{draw(st.integers(1, regions)):02d}",
                desafio_id=draw(st.sampled_from([1, 2, 3, None])),
                amount=draw(st.integers(1, 12)) * 1_000_000 + draw(st.sampled_from([0, 0, 1, 500_000])),
                score=draw(st.integers(0, 20 * denominator)) / denominator,
                rank=0,
            )
        )
    if draw(st.booleans()):  # the ranking follows the score
        order = sorted(cands, key=lambda c: (-c.score, c.id))
        ranks = [order.index(c) + 1 for c in cands]
    else:  # a ranking of its own, with ties (broken by id)
        ranks = [draw(st.integers(1, n)) for _ in cands]
    cands = [
        Candidate(c.id, c.folio, c.region, c.desafio_id, c.amount, c.score, r)
        for c, r in zip(cands, ranks, strict=True)
    ]
    ids = [c.id for c in cands]
    inc = draw(st.frozensets(st.sampled_from(ids), max_size=2))
    exc = draw(st.frozensets(st.sampled_from(ids), max_size=3)) - inc
    return SelectionProblem(
        candidates=tuple(draw(st.permutations(cands))),
        budget=draw(st.integers(0, 80)) * 1_000_000,
        objective=objective,
        min_score=float(draw(st.integers(0, 8))),
        max_per_challenge=draw(st.one_of(st.none(), st.integers(0, 4))),
        max_count=draw(st.one_of(st.none(), st.integers(0, 8))),
        must_include=inc,
        must_exclude=exc,
    )


def check_feasible_answer(p: SelectionProblem, r) -> None:
    assert r.feasible and r.proven_optimal and r.message
    assert holds(p, set(r.selected)), "the answer breaks a rule"
    by_id = {c.id: c for c in p.candidates}
    assert r.total_amount == sum(by_id[i].amount for i in r.selected) <= p.budget
    assert abs(r.objective_value - sum(by_id[i].score for i in r.selected)) < 1e-9
    assert set(r.regions_required) <= set(r.regions_covered)
    assert list(r.selected) == [
        c.id for c in sorted(map(by_id.get, r.selected), key=lambda c: (c.rank, c.id))
    ]
    for e in r.explanations:
        assert e.rules and e.message, e
        assert e.candidate_id not in r.selected


def check_diagnosis(p: SelectionProblem, r, ex: Exhaustive) -> None:
    """Infeasible: recognised, and each rule's closest relaxation is the exhaustive one."""
    assert not r.feasible and r.reasons and r.message.startswith("No hay selección")
    assert r.selected == () and r.objective_value is None
    kinds = {x.kind: x for x in r.reasons}
    if set(p.must_include) & set(p.must_exclude):
        assert list(kinds) == ["override_conflict"]
        return
    by_id = {c.id: c for c in p.candidates}
    forced = [by_id[i] for i in p.must_include]
    if any(k.startswith("must_include") for k in kinds):
        if "must_include_over_budget" in kinds:
            assert kinds["must_include_over_budget"].required == sum(c.amount for c in forced) > p.budget
        if "must_include_over_max_count" in kinds:
            assert p.max_count is not None and len(forced) > p.max_count
        if "must_include_over_cap" in kinds:
            assert p.max_per_challenge is not None
        return
    assert sum(c.amount for c in forced) <= p.budget
    # Least budget under the other rules.
    ok = ex.feasible(but="budget")
    least = int(ex.amount[ok].min()) if ok.any() else None
    if least is not None and least > p.budget:
        assert kinds["budget_short"].required == least
        assert kinds["budget_short"].shortfall == least - p.budget
    else:
        assert "budget_short" not in kinds
    # Most regions coverable under the other rules.
    ok = ex.feasible(but="region")
    most = int(ex.regions_hit[ok].max()) if ok.any() else None
    if most is not None and most < ex.n_regions:
        # (The solver also counts a region whose only ideas are forced in below the minimum score: always
        # covered, so only the shortfall is comparable.)
        assert kinds["regions_uncoverable"].shortfall == ex.n_regions - most
        assert len(kinds["regions_uncoverable"].regions) == ex.n_regions - most
    else:
        assert "regions_uncoverable" not in kinds
    # Least count and least per-challenge cap under the other rules.
    for kind, rule, values in (
        ("max_count_short", "max_count", ex.count),
        ("max_per_challenge_short", "max_per_challenge", ex.max_per_challenge),
    ):
        limit = getattr(p, rule)
        ok = ex.feasible(but=rule)
        need = int(values[ok].min()) if ok.any() and limit is not None else None
        if need is not None and need > limit:
            assert kinds[kind].required == need, kind
        else:
            assert kind not in kinds
    if len(kinds) == 1 and "rules_clash" in kinds:
        return
    assert "rules_clash" not in kinds


EXAMPLES = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(problems("total"))
def test_total_matches_exhaustive_search(p):
    ex = Exhaustive(p)
    ok = ex.feasible()
    r = solve_selection(p)
    event("infeasible" if not ok.any() else "feasible")
    event(f"{len(p.candidates) // 5 * 5}+ candidates")
    if not ok.any():
        check_diagnosis(p, r, ex)
        return
    check_feasible_answer(p, r)
    assert abs(r.objective_value - ex.score[ok].max()) < 1e-6


@EXAMPLES
@given(problems("rank"), st.booleans())
def test_rank_is_the_lexicographic_optimum(p, shortcuts):
    """Columns are in (rank, id) order with the first as the most significant bit, so the lexicographic best
    selection (the first differing idea held) is the feasible row with the largest binary number. Checked
    with the search's shortcuts and without them (one feasibility MILP per candidate)."""
    ex = Exhaustive(p)
    ok = ex.feasible()
    with patch.object(seleccion, "_SHORTCUTS", shortcuts):
        r = solve_selection(p)
    event("infeasible" if not ok.any() else "feasible")
    event(f"{len(p.candidates) // 5 * 5}+ candidates")
    if not ok.any():
        check_diagnosis(p, r, ex)
        return
    check_feasible_answer(p, r)
    event("a feasibility MILP was needed" if r.milp_solves else "no MILP needed")
    rows = np.flatnonzero(ok)  # row index = the subset's binary number
    assert set(r.selected) == ex.ids(int(rows.max()))


def test_exhaustive_search_agrees_with_the_plain_rules():
    rng = random.Random(11)
    for _ in range(20):
        cs = [
            Candidate(
                i,
                f"F-{i}",
                rng.choice("AB"),
                rng.choice([1, 2, None]),
                rng.randint(1, 5),
                rng.randint(0, 9),
                i,
            )
            for i in range(1, 8)
        ]
        p = SelectionProblem(
            tuple(cs),
            rng.randint(0, 20),
            "total",
            min_score=2,
            max_per_challenge=2,
            max_count=4,
            must_include=frozenset({1}),
            must_exclude=frozenset({2}),
        )
        ex = Exhaustive(p)
        ok = ex.feasible()
        assert all(bool(ok[row]) == holds(p, ex.ids(row)) for row in range(len(ok)))


def test_the_total_optimum_is_proven_with_no_relative_gap():
    # Many near-equal knapsack fillings: a 1e-4 relative gap would accept a worse one.
    rng = random.Random(2)
    cs = tuple(
        Candidate(
            i,
            f"F-{i}",
            f"{i % 3:02d}",
            i % 4,
            rng.randrange(20_000_000, 30_000_001, 100_000),
            round(rng.uniform(60, 100), 2),
            i,
        )
        for i in range(1, 301)
    )
    p = SelectionProblem(cs, 250_000_000, "total", max_per_challenge=4)
    r = solve_selection(p)
    assert r.feasible and r.proven_optimal
    # The same answer from a fresh solve of the plain model cut off just above it: nothing better exists.
    from scipy.optimize import Bounds, LinearConstraint, milp

    from evaluacion.seleccion import ALL_RULES, _Model

    m = _Model(p)
    m.pruned[:] = False
    lb, ub = m.bounds()
    w = np.round(m.score * 100)
    cons = m.constraints(ALL_RULES) + [
        LinearConstraint(w.reshape(1, -1), round(r.objective_value * 100) + 1, np.inf)
    ]
    res = milp(
        -w, constraints=cons, integrality=np.ones(m.n), bounds=Bounds(lb, ub), options={"time_limit": 60}
    )
    assert res.status == 2  # infeasible


def cand(i, region, amount_mm, score, rank, desafio=1):
    return Candidate(i, f"F-{i}", region, desafio, amount_mm * 1_000_000, float(score), rank)


def test_budget_short_to_cover_every_region_says_by_how_much():
    cs = (cand(1, "13", 20, 90, 1), cand(2, "05", 25, 80, 2), cand(3, "11", 20, 70, 3))
    r = solve_selection(SelectionProblem(cs, 61_000_000, "total"))
    assert not r.feasible
    short = next(x for x in r.reasons if x.kind == "budget_short")
    assert (short.required, short.shortfall) == (65_000_000, 4_000_000)
    assert "$4.000.000" in r.message
    uncover = next(x for x in r.reasons if x.kind == "regions_uncoverable")
    assert uncover.shortfall == 1


def test_region_without_eligible_idea_is_noted_not_required():
    cs = (cand(1, "13", 20, 90, 1), cand(2, "11", 10, 30, 2))
    r = solve_selection(SelectionProblem(cs, 50_000_000, "rank", min_score=50), ["13", "11", "05"])
    assert r.feasible and r.selected == (1,)
    assert r.regions_without_eligible == ("05", "11")
    assert any("Aysén" in n and "1 regiones" in n for n in r.notes)


def test_must_include_over_budget_and_conflicting_overrides():
    cs = (cand(1, "13", 20, 90, 1), cand(2, "13", 30, 80, 2))
    r = solve_selection(SelectionProblem(cs, 40_000_000, "total", must_include=frozenset({1, 2})))
    assert [x.kind for x in r.reasons] == ["must_include_over_budget"]
    assert r.reasons[0].shortfall == 10_000_000
    r = solve_selection(
        SelectionProblem(cs, 90_000_000, "total", must_include=frozenset({1}), must_exclude=frozenset({1}))
    )
    assert r.reasons[0].kind == "override_conflict" and r.reasons[0].ids == (1,)


def test_explanations_name_the_deciding_rule():
    # 2 outscores 3 but the budget only fits 3 next to 1; 4 outscores 5 but 5 is the only idea of its region.
    cs = (
        cand(1, "13", 20, 95, 1, desafio=1),
        cand(2, "13", 25, 90, 2, desafio=2),
        cand(4, "13", 10, 85, 3, desafio=1),
        cand(3, "13", 15, 60, 4, desafio=2),
        cand(5, "05", 10, 10, 5, desafio=3),
    )
    r = solve_selection(SelectionProblem(cs, 55_000_000, "total", max_count=4, max_per_challenge=2))
    assert r.feasible and set(r.selected) == {1, 3, 4, 5}
    why = {e.candidate_id: e.rules for e in r.explanations}
    assert set(why) == {2}
    assert why[2][0] == "budget" and "region" in why[2]
    cs2 = cs + (cand(6, "13", 5, 99, 0, desafio=1),)
    r = solve_selection(SelectionProblem(cs2, 90_000_000, "rank", max_per_challenge=2))
    why = {e.candidate_id: e.rules for e in r.explanations}
    assert "max_per_challenge" in why[4]
    r = solve_selection(SelectionProblem(cs, 90_000_000, "rank", must_exclude=frozenset({1})))
    assert {e.candidate_id: e.rules for e in r.explanations}[1] == ("override",)


def test_document_hash_ignores_candidate_order_but_not_inputs():
    rng = random.Random(3)
    cs = [cand(i, f"{i % 3:02d}", rng.randint(5, 20), rng.randint(0, 100), i) for i in range(1, 9)]
    p1 = SelectionProblem(tuple(cs), 60_000_000, "total")
    p2 = SelectionProblem(tuple(reversed(cs)), 60_000_000, "total")
    d1 = selection_document(p1, solve_selection(p1))
    d2 = selection_document(p2, solve_selection(p2))
    assert d1 == d2
    assert set(d1) >= {"budget", "objective", "candidates", "selected", "objective_value", "input_sha256"}
    p3 = SelectionProblem(tuple(cs), 61_000_000, "total")
    assert selection_document(p3, solve_selection(p3))["input_sha256"] != d1["input_sha256"]


def test_greedy_baselines_never_beat_the_optimum():
    rng = random.Random(5)
    cs = [cand(i, f"{i % 4:02d}", rng.randint(5, 20), rng.randint(0, 100), i) for i in range(1, 13)]
    p = SelectionProblem(tuple(cs), 70_000_000, "total", max_count=6)
    r = solve_selection(p)
    assert r.feasible
    for g in (greedy_by_score(p), best_per_region_then_greedy(p)):
        # A greedy that skips a region may score more: it broke a rule the optimum keeps.
        if g.all_regions_covered:
            assert g.objective_value <= r.objective_value + 1e-9
