"""Reviewer assignment: exact k per submission, no conflict crossed, loads as even as the rules allow."""

import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from evaluacion.assignment import (
    AssignmentImpossible,
    Conflict,
    Reviewer,
    Submission,
    add_reviewer,
    assign_reviewers,
)

REGIONS = ["05", "08", "13"]


def folio(i: int) -> str:
    return f"IDEA-2026-{i:04d}"


def subs(n: int, region: str = "13") -> list[Submission]:
    return [Submission(i, folio(i), region=region, organisation_rut=f"{i}-K") for i in range(1, n + 1)]


def revs(n: int, region: str | None = None) -> list[Reviewer]:
    return [Reviewer(100 + j, region=region) for j in range(n)]


def reviewers_of(result, sid: int) -> set[int]:
    return {r for r, s in result.pairs if s == sid}


# --- examples a lead would recognise -------------------------------------------------------------------


def test_every_submission_gets_k_reviewers_and_loads_differ_by_at_most_one():
    result = assign_reviewers(subs(10), revs(4), k=2)
    assert all(len(reviewers_of(result, s)) == 2 for s in range(1, 11))
    assert sorted(result.loads.values()) == [5, 5, 5, 5]
    assert result.balanced and result.spread == 0


def test_uneven_total_spreads_by_one():
    result = assign_reviewers(subs(7), revs(3), k=2)  # 14 reviews over 3 people: 5, 5, 4
    assert sorted(result.loads.values()) == [4, 5, 5]
    assert result.balanced


def test_a_declared_conflict_is_never_crossed():
    conflicts = [
        Conflict(100, submission_id=1),
        Conflict(101, organisation_rut="2-K"),
        Conflict(102, person="11111111-1"),
    ]
    submissions = subs(3)
    submissions[2] = Submission(3, folio(3), region="13", people=frozenset({"11111111-1"}))
    result = assign_reviewers(submissions, revs(4), k=2, conflicts=conflicts)
    assert 100 not in reviewers_of(result, 1)
    assert 101 not in reviewers_of(result, 2)
    assert 102 not in reviewers_of(result, 3)


def test_a_reviewer_who_is_in_the_team_is_never_assigned_to_it():
    submissions = [Submission(1, folio(1), people=frozenset({"12345678-5"}))]
    reviewers = [Reviewer(100, rut="12345678-5"), Reviewer(101), Reviewer(102)]
    result = assign_reviewers(submissions, reviewers, k=2)
    assert reviewers_of(result, 1) == {101, 102}


def test_region_conflict_and_own_region_rule():
    submissions = [Submission(1, folio(1), region="05"), Submission(2, folio(2), region="08")]
    reviewers = [Reviewer(100, region="05"), Reviewer(101, region="08"), Reviewer(102, region="13")]
    result = assign_reviewers(submissions, reviewers, k=2, exclude_own_region=True)
    assert reviewers_of(result, 1) == {101, 102}
    assert reviewers_of(result, 2) == {100, 102}
    with pytest.raises(AssignmentImpossible):
        assign_reviewers(
            submissions, reviewers, k=2, exclude_own_region=True, conflicts=[Conflict(102, region="05")]
        )
    # Without the call's rule the own region is fine.
    assert len(assign_reviewers(submissions, reviewers, k=3).pairs) == 6


def test_impossible_says_which_submission_and_how_many_reviewers_exist_and_assigns_nothing():
    submissions = subs(42)
    conflicts = [Conflict(100, submission_id=42)]
    with pytest.raises(AssignmentImpossible) as err:
        assign_reviewers(submissions, revs(2), k=2, conflicts=conflicts)
    assert str(err.value) == "IDEA-2026-0042 necesita 2 evaluadores sin conflicto de interés; solo hay 1."
    (reason,) = err.value.reasons
    assert (reason.folios, reason.needed, reason.available) == (("IDEA-2026-0042",), 2, 1)


def test_every_short_submission_is_named():
    conflicts = [Conflict(100, submission_id=2), Conflict(101, submission_id=3)]
    with pytest.raises(AssignmentImpossible) as err:
        assign_reviewers(subs(3), revs(2), k=2, conflicts=conflicts)
    assert [r.folios for r in err.value.reasons] == [(folio(2),), (folio(3),)]


def test_total_capacity_shortfall_is_explained():
    reviewers = [Reviewer(100 + j, max_load=3) for j in range(3)]
    with pytest.raises(AssignmentImpossible) as err:
        assign_reviewers(subs(5), reviewers, k=2)  # 10 reviews, 9 places
    assert "se necesitan 10 asignaciones más" in str(err.value)
    assert "solo pueden tomar 9" in str(err.value)


def test_a_group_that_only_capped_reviewers_can_take_is_named():
    # Three Biobío submissions can only go to the two Valparaíso reviewers, who take one each, although
    # there are places to spare elsewhere.
    reviewers = [
        Reviewer(100, "05", max_load=1),
        Reviewer(101, "05", max_load=1),
        Reviewer(102, "08"),
        Reviewer(103, "13"),
    ]
    submissions = [Submission(i, folio(i), region="08") for i in (1, 2, 3)]
    submissions += [Submission(i, folio(i), region="05") for i in (4, 5)]
    with pytest.raises(AssignmentImpossible) as err:
        assign_reviewers(
            submissions, reviewers, k=1, exclude_own_region=True, conflicts=[Conflict(103, region="08")]
        )
    (reason,) = err.value.reasons
    assert reason.folios == (folio(1), folio(2), folio(3))
    assert (reason.needed, reason.available) == (3, 2)


def test_kept_assignments_stay_and_count_toward_k_and_load():
    keep = [(100, 1), (100, 2), (100, 3)]
    result = assign_reviewers(subs(3), revs(4), k=2, keep=keep)
    assert set(keep) <= set(result.pairs)
    assert all(len(reviewers_of(result, s)) == 2 for s in (1, 2, 3))
    assert result.loads[100] == 3
    assert set(result.added) == set(result.pairs) - set(keep)
    assert result.spread == 2 and not result.balanced  # 6 reviews, 100 already holds 3


def test_a_manual_extra_reviewer_beyond_k_is_kept():
    keep = [(100, 1), (101, 1), (102, 1)]
    result = assign_reviewers(subs(2), revs(4), k=2, keep=keep)
    assert reviewers_of(result, 1) == {100, 101, 102}
    assert len(reviewers_of(result, 2)) == 2


def test_a_removed_pair_is_not_assigned_again():
    result = assign_reviewers(subs(1), revs(3), k=2, removed=[(100, 1)])
    assert reviewers_of(result, 1) == {101, 102}


def test_a_kept_pair_across_a_conflict_is_refused():
    with pytest.raises(AssignmentImpossible, match="evaluador 100 no puede mantenerse"):
        assign_reviewers(subs(1), revs(3), k=2, keep=[(100, 1)], conflicts=[Conflict(100, submission_id=1)])


def test_reviewers_free_for_nothing_are_reported_and_not_counted_in_the_balance():
    conflicts = [Conflict(102, region="13")]
    result = assign_reviewers(subs(4), revs(3), k=2, conflicts=conflicts)
    assert result.ineligible == (102,)
    assert result.loads == {100: 4, 101: 4}


def test_when_conflicts_make_one_apart_unattainable_the_spread_is_still_the_least_possible():
    # Reviewer 103 is free of conflict with one submission only; the other 19 reviews over three people
    # need someone to carry 7: a spread of 6 is the least possible.
    conflicts = [Conflict(103, submission_id=s) for s in range(2, 11)]
    result = assign_reviewers(subs(10), revs(4), k=2, conflicts=conflicts)
    assert result.loads[103] == 1
    assert (result.min_load, result.max_load) == (1, 7)
    assert sorted(result.loads.values()) == [1, 6, 6, 7]  # the middle is as even as it can be
    assert not result.balanced


def test_nothing_to_assign():
    result = assign_reviewers([], revs(2), k=2)
    assert result.pairs == () and result.balanced


@pytest.mark.parametrize("k", [0, -1, True, 1.5])
def test_bad_k_is_refused(k):
    with pytest.raises(ValueError):
        assign_reviewers(subs(1), revs(2), k=k)


def test_bad_pairs_and_conflicts_are_refused():
    with pytest.raises(ValueError):
        assign_reviewers(subs(1), revs(2), k=1, keep=[(999, 1)])
    with pytest.raises(ValueError):
        assign_reviewers(subs(1), revs(2), k=1, keep=[(100, 1)], removed=[(100, 1)])
    with pytest.raises(ValueError):
        Conflict(100)
    with pytest.raises(ValueError):
        Conflict(100, submission_id=1, region="13")


def test_outlier_action_adds_the_least_loaded_reviewer_free_of_conflict():
    submissions = subs(4)
    pairs = {(100, 1), (101, 1), (100, 2), (102, 2), (101, 3), (102, 3), (100, 4), (103, 4)}
    # Loads: 100 -> 3, 101 -> 2, 102 -> 2, 103 -> 1; 103 declared a conflict with submission 1.
    conflicts = [Conflict(103, submission_id=1)]
    chosen = add_reviewer(submissions[0], revs(4), pairs, conflicts=conflicts)
    assert chosen == 102
    assert add_reviewer(submissions[0], revs(4), pairs) == 103


def test_outlier_action_respects_caps_removals_and_region():
    submission = Submission(1, folio(1), region="05")
    reviewers = [
        Reviewer(100, "13"),
        Reviewer(101, "05"),
        Reviewer(102, "13", max_load=1),
        Reviewer(103, "08"),
    ]
    pairs = {(100, 1), (102, 2)}
    # 100 is on it already, 101 is from Valparaíso, 102 is at their cap, 103 was removed by the lead.
    with pytest.raises(AssignmentImpossible) as err:
        add_reviewer(submission, reviewers, pairs, exclude_own_region=True, removed=[(103, 1)])
    assert str(err.value) == (
        "IDEA-2026-0001 no tiene más evaluadores disponibles sin conflicto de interés; ya tiene 1."
    )
    assert add_reviewer(submission, reviewers, pairs, exclude_own_region=True) == 103
    assert add_reviewer(submission, reviewers, pairs) == 101


# --- property: against brute force on small instances --------------------------------------------------


def allowed(reviewer: Reviewer, submission: Submission, conflicts, exclude_own_region: bool) -> bool:
    for c in conflicts:
        if c.reviewer_id != reviewer.id:
            continue
        if c.submission_id == submission.id or (c.region is not None and c.region == submission.region):
            return False
        if c.organisation_rut is not None and c.organisation_rut == submission.organisation_rut:
            return False
    return not (exclude_own_region and reviewer.region == submission.region)


def brute_force(submissions, reviewers, k, conflicts, exclude_own_region, keep, removed):
    """Return (least spread, most even loads largest first) over all valid assignments, or None if none."""
    choices = []
    kept_load = Counter(r for r, _ in keep)
    candidates_of = {}
    for s in submissions:
        kept_here = [r for r, sid in keep if sid == s.id]
        candidates = [
            r.id
            for r in reviewers
            if (r.id, s.id) not in keep
            and (r.id, s.id) not in removed
            and allowed(r, s, conflicts, exclude_own_region)
        ]
        candidates_of[s.id] = candidates
        missing = max(0, k - len(kept_here))
        choices.append(list(itertools.combinations(candidates, missing)))
    caps = {r.id: r.max_load for r in reviewers}
    degree = Counter(
        r for s in submissions if choices[submissions.index(s)] != [()] for r in candidates_of[s.id]
    )
    eligible = [
        r.id
        for r in reviewers
        if kept_load[r.id] > 0
        or min(degree[r.id], degree[r.id] if caps[r.id] is None else max(0, caps[r.id] - kept_load[r.id])) > 0
    ]
    best = None
    evenest = None
    for combo in itertools.product(*choices):
        load = Counter(kept_load)
        for picked in combo:
            load.update(picked)
        if any(caps[r] is not None and load[r] > max(caps[r], kept_load[r]) for r in load):
            continue
        values = [load[r] for r in eligible] or [0]
        spread = max(values) - min(values)
        best = spread if best is None else min(best, spread)
        ordered = tuple(sorted(values, reverse=True))
        evenest = ordered if evenest is None else min(evenest, ordered)
    return None if best is None else (best, evenest)


@st.composite
def instances(draw):
    n_sub = draw(st.integers(0, 4))
    n_rev = draw(st.integers(1, 5 if n_sub <= 3 else 4))
    k = draw(st.integers(1, 3))
    submissions = [
        Submission(
            i,
            folio(i),
            region=draw(st.sampled_from(REGIONS)),
            organisation_rut=draw(st.sampled_from(["1-9", "2-7"])),
        )
        for i in range(1, n_sub + 1)
    ]
    reviewers = [
        Reviewer(
            100 + j,
            region=draw(st.sampled_from([*REGIONS, None])),
            max_load=draw(st.one_of(st.none(), st.integers(0, 4))),
        )
        for j in range(n_rev)
    ]
    rev_ids = [r.id for r in reviewers]
    sub_ids = [s.id for s in submissions] or [1]
    conflicts = draw(
        st.lists(
            st.one_of(
                st.builds(Conflict, st.sampled_from(rev_ids), submission_id=st.sampled_from(sub_ids)),
                st.builds(
                    Conflict, st.sampled_from(rev_ids), organisation_rut=st.sampled_from(["1-9", "2-7"])
                ),
                st.builds(Conflict, st.sampled_from(rev_ids), region=st.sampled_from(REGIONS)),
            ),
            max_size=4,
        )
    )
    pairs = [(r, s.id) for r in rev_ids for s in submissions]
    keep = set(draw(st.lists(st.sampled_from(pairs), max_size=3))) if pairs else set()
    removed = set(draw(st.lists(st.sampled_from(pairs), max_size=2))) - keep if pairs else set()
    exclude = draw(st.booleans())
    return submissions, reviewers, k, conflicts, exclude, keep, removed


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_solver_agrees_with_brute_force(instance):
    submissions, reviewers, k, conflicts, exclude, keep, removed = instance
    kept_ok = all(
        allowed(
            next(r for r in reviewers if r.id == rid),
            next(s for s in submissions if s.id == sid),
            conflicts,
            exclude,
        )
        for rid, sid in keep
    )
    found = brute_force(submissions, reviewers, k, conflicts, exclude, keep, removed) if kept_ok else None
    best, evenest = found if found is not None else (None, None)
    event("impossible" if best is None else ("balanced" if best <= 1 else "unbalanced"))
    if best is None:
        with pytest.raises(AssignmentImpossible) as err:
            assign_reviewers(
                submissions,
                reviewers,
                k=k,
                conflicts=conflicts,
                exclude_own_region=exclude,
                keep=keep,
                removed=removed,
            )
        assert err.value.reasons and all(reason.message for reason in err.value.reasons)
        return
    result = assign_reviewers(
        submissions,
        reviewers,
        k=k,
        conflicts=conflicts,
        exclude_own_region=exclude,
        keep=keep,
        removed=removed,
    )
    by_id = {r.id: r for r in reviewers}
    subs_by_id = {s.id: s for s in submissions}
    assert keep <= set(result.pairs)
    assert not removed & set(result.pairs)
    assert len(set(result.pairs)) == len(result.pairs)
    for s in submissions:
        assert len(reviewers_of(result, s.id)) == max(k, sum(1 for _, sid in keep if sid == s.id))
    for rid, sid in result.pairs:
        assert allowed(by_id[rid], subs_by_id[sid], conflicts, exclude)
    for rid, load in Counter(r for r, _ in result.added).items():
        cap = by_id[rid].max_load
        assert cap is None or load + sum(1 for r, _ in keep if r == rid) <= max(cap, 0) or load == 0
    assert result.spread == best
    # Beyond the spread, the loads are the most even possible (decreasingly minimal).
    assert tuple(sorted(result.loads.values(), reverse=True) or [0]) == evenest
    assert result.balanced == (best <= 1)
