"""Aggregation: every figure checked against numbers worked out by hand in the test."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluacion.aggregation import (
    Criterion,
    Rubric,
    RubricError,
    Scale,
    Score,
    aggregate,
    validate_rubric,
)

SINGLE = Rubric.from_weights({"Relevancia": 100})
TWO = Rubric.from_weights({"Innovación": 40, "Factibilidad": 60})


def scores(rubric_scores: dict[tuple[int, int], dict[str, float]]) -> list[Score]:
    return [
        Score(reviewer, submission, criterion, value)
        for (reviewer, submission), values in rubric_scores.items()
        for criterion, value in values.items()
    ]


def single(table: dict[tuple[int, int], float]) -> list[Score]:
    return [Score(r, s, "Relevancia", v) for (r, s), v in table.items()]


# --- weighted means, internal score, reviewer figures -----------------------------------------------------

# Reviewer 1: s10 = 0.4*6 + 0.6*5 = 5.4;  s20 = 0.4*4 + 0.6*4 = 4.0
# Reviewer 2: s10 = 0.4*7 + 0.6*7 = 7.0;  s30 = 0.4*2 + 0.6*3 = 2.6
# Reviewer 3: s20 = 0.4*3 + 0.6*2 = 2.4;  s30 = 0.4*5 + 0.6*5 = 5.0
THREE_REVIEWERS = scores(
    {
        (1, 10): {"Innovación": 6, "Factibilidad": 5},
        (1, 20): {"Innovación": 4, "Factibilidad": 4},
        (2, 10): {"Innovación": 7, "Factibilidad": 7},
        (2, 30): {"Innovación": 2, "Factibilidad": 3},
        (3, 20): {"Innovación": 3, "Factibilidad": 2},
        (3, 30): {"Innovación": 5, "Factibilidad": 5},
    }
)


def test_internal_score_is_the_mean_over_reviewers_of_the_weighted_mean_over_criteria():
    result = aggregate(TWO, THREE_REVIEWERS)
    assert result.submissions[10].reviewer_scores == {1: 5.4, 2: 7.0}
    assert result.submissions[10].score == 6.2  # (5.4 + 7.0) / 2
    assert result.submissions[20].score == 3.2  # (4.0 + 2.4) / 2
    assert result.submissions[30].score == 3.8  # (2.6 + 5.0) / 2
    assert [s.passes for s in result.submissions.values()] == [True, False, False]  # pass mark 4.0


def test_reviewer_count_mean_spread_and_deviation_from_co_reviewers():
    result = aggregate(TWO, THREE_REVIEWERS)
    r1, r2, r3 = result.reviewers[1], result.reviewers[2], result.reviewers[3]
    # Means: (5.4 + 4.0)/2, (7.0 + 2.6)/2, (2.4 + 5.0)/2; population spread = half the gap for two scores.
    assert (r1.count, r1.mean, r1.spread) == (2, 4.7, 0.7)
    assert (r2.count, r2.mean, r2.spread) == (2, 4.8, 2.2)
    assert (r3.count, r3.mean, r3.spread) == (2, 3.7, 1.3)
    # Deviation: r1 (5.4-7.0 + 4.0-2.4)/2 = 0; r2 (7.0-5.4 + 2.6-5.0)/2 = -0.4; r3 (2.4-4.0 + 5.0-2.6)/2 = 0.4
    assert (r1.deviation, r2.deviation, r3.deviation) == (0.0, -0.4, 0.4)
    assert r1.co_reviewed == r2.co_reviewed == r3.co_reviewed == 2


def test_disagreement_and_outliers():
    result = aggregate(TWO, THREE_REVIEWERS)
    assert [result.submissions[s].disagreement for s in (10, 20, 30)] == [1.6, 1.6, 2.4]
    assert result.outliers == (30,)
    assert aggregate(TWO, THREE_REVIEWERS, outlier_threshold=1.5).outliers == (30, 10, 20)


# --- a harsh and a lenient reviewer: the normalised ranking moves submissions ----------------------------

# Harsh H=1 scores a=4, b=2, c=3 (mean 3); lenient L=2 scores c=5, d=6, e=7 (mean 6). Both have population
# spread sqrt(2/3). z: a=+1.2247, b=-1.2247, c=0 (H) and c=-1.2247, d=0, e=+1.2247 (L).
HARSH_LENIENT = single({(1, 1): 4, (1, 2): 2, (1, 3): 3, (2, 3): 5, (2, 4): 6, (2, 5): 7})
A, B, C, D, E = 1, 2, 3, 4, 5
Z = 1 / math.sqrt(2 / 3)  # 1.2247...


def test_harsh_and_lenient_reviewers():
    result = aggregate(SINGLE, HARSH_LENIENT)
    harsh, lenient = result.reviewers[1], result.reviewers[2]
    assert harsh.mean == 3.0 and lenient.mean == 6.0
    assert harsh.spread == lenient.spread == round(math.sqrt(2 / 3), 9)
    # They share only c: 3 - 5 = -2 (harsh) and 5 - 3 = +2 (lenient).
    assert (harsh.deviation, lenient.deviation) == (-2.0, 2.0)
    assert harsh.co_reviewed == lenient.co_reviewed == 1


def test_normalised_ranking_beside_the_raw_one_and_how_many_places_each_moves():
    result = aggregate(SINGLE, HARSH_LENIENT)
    subs = result.submissions
    # Raw: e 7, d 6, a 4, c (3+5)/2 = 4, b 2 -> ranks 1, 2, 3, 3, 5 (ties share the better rank).
    assert {s: subs[s].score for s in (A, B, C, D, E)} == {A: 4.0, B: 2.0, C: 4.0, D: 6.0, E: 7.0}
    assert {s: subs[s].rank for s in (A, B, C, D, E)} == {E: 1, D: 2, A: 3, C: 3, B: 5}
    # Normalised: a +Z, e +Z, d 0, c (0 - Z)/2, b -Z -> ranks 1, 1, 3, 4, 5.
    assert subs[A].normalised == subs[E].normalised == round(Z, 9)
    assert subs[C].normalised == round(-Z / 2, 9)
    assert {s: subs[s].normalised_rank for s in (A, B, C, D, E)} == {A: 1, E: 1, D: 3, C: 4, B: 5}
    # The harsh reviewer's best idea climbs two places; d and c each lose one.
    assert {s: subs[s].rank_change for s in (A, B, C, D, E)} == {A: 2, B: 0, C: -1, D: -1, E: 0}
    assert [s.submission_id for s in result.ranking()] == [E, D, A, C, B]
    assert [s.submission_id for s in result.ranking(normalised=True)] == [A, E, D, C, B]


def test_disagreement_exactly_at_the_threshold_is_not_an_outlier():
    result = aggregate(SINGLE, HARSH_LENIENT)
    assert result.submissions[C].disagreement == 2.0
    assert result.outliers == ()
    assert aggregate(SINGLE, HARSH_LENIENT, outlier_threshold=1.99).outliers == (C,)


# --- edge cases ----------------------------------------------------------------------------------------


def test_a_reviewer_with_one_score_has_spread_zero_and_no_z_score():
    # X=1 scores only f=5; Y=2 scores f=3 and g=5 (mean 4, spread 1, z f=-1, g=+1).
    result = aggregate(SINGLE, single({(1, 10): 5, (2, 10): 3, (2, 20): 5}))
    x, y = result.reviewers[1], result.reviewers[2]
    assert (x.count, x.mean, x.spread, x.z_defined) == (1, 5.0, 0.0, False)
    assert (y.mean, y.spread, y.z_defined) == (4.0, 1.0, True)
    # X's undefined z counts as 0 (an average item for X): f = (0 + -1)/2 = -0.5, g = +1.
    assert result.submissions[10].normalised == -0.5
    assert result.submissions[20].normalised == 1.0


def test_a_reviewer_who_gives_everyone_the_same_score_has_no_z_score_either():
    result = aggregate(SINGLE, single({(1, 10): 6, (1, 20): 6}))
    assert result.reviewers[1].z_defined is False
    assert result.submissions[10].normalised == result.submissions[20].normalised == 0.0
    assert result.submissions[10].rank_change == 0


def test_one_reviewer_never_makes_an_outlier_nor_a_deviation():
    result = aggregate(SINGLE, single({(1, 10): 1, (1, 20): 7}))
    assert result.outliers == ()
    assert result.reviewers[1].deviation is None
    assert result.reviewers[1].co_reviewed == 0


def test_incomplete_evaluations_are_listed_and_not_counted():
    partial = [Score(1, 10, "Innovación", 7), *scores({(2, 10): {"Innovación": 5, "Factibilidad": 5}})]
    result = aggregate(TWO, partial)
    assert result.incomplete == ((1, 10),)
    assert result.submissions[10].score == 5.0
    assert 1 not in result.reviewers


def test_a_submission_with_only_incomplete_evaluations_has_no_score_and_no_rank():
    result = aggregate(TWO, [Score(1, 10, "Innovación", 7)])
    assert result.submissions[10].score is None
    assert result.submissions[10].rank is None and result.submissions[10].rank_change is None
    assert result.ranking() == []


def test_no_scores():
    result = aggregate(TWO, [])
    assert result.submissions == {} and result.reviewers == {} and result.outliers == ()


def test_float_noise_does_not_break_ties():
    rubric = Rubric.from_weights({"a": 10, "b": 20, "c": 70})
    a = scores({(1, 10): {"a": 3, "b": 3, "c": 3}, (1, 20): {"a": 1, "b": 2, "c": 3.5714285714285716}})
    result = aggregate(rubric, a)
    assert result.submissions[10].score == 3.0


@pytest.mark.parametrize(
    "bad, message",
    [
        (Score(1, 10, "Otro", 5), "El criterio «Otro» no pertenece a la rúbrica."),
        (Score(1, 10, "Relevancia", 8), "El puntaje debe estar entre 1 y 7."),
        (Score(1, 10, "Relevancia", 0), "El puntaje debe estar entre 1 y 7."),
        (Score(1, 10, "Relevancia", math.nan), "El puntaje debe estar entre 1 y 7."),
        (Score(1, 10, "Relevancia", True), "El puntaje debe estar entre 1 y 7."),
    ],
)
def test_bad_scores_are_refused_in_spanish(bad, message):
    with pytest.raises(ValueError) as err:
        aggregate(SINGLE, [bad])
    assert str(err.value) == message


def test_a_second_score_for_the_same_criterion_is_refused():
    with pytest.raises(ValueError, match="dos puntajes"):
        aggregate(SINGLE, single({(1, 10): 5}) + single({(1, 10): 6}))


def test_negative_threshold_is_refused():
    with pytest.raises(ValueError):
        aggregate(SINGLE, [], outlier_threshold=-1)


@settings(deadline=None)  # the machine is shared: a slow example is not a failure
@given(
    st.dictionaries(
        st.tuples(st.integers(1, 5), st.integers(1, 8)), st.integers(1, 7), min_size=1, max_size=30
    )
)
def test_properties_on_random_scores(table):
    result = aggregate(SINGLE, single(table))
    for s in result.submissions.values():
        values = list(s.reviewer_scores.values())
        assert min(values) - 1e-9 <= s.score <= max(values) + 1e-9
        assert 1 <= s.rank <= len(result.submissions)
    for r in result.reviewers.values():
        assert r.spread >= 0
        assert r.z_defined == (r.spread > 0)
    # On each item, the deviations from the co-reviewers' mean add up to zero, so they do over all reviewers.
    total = sum(r.deviation * r.co_reviewed for r in result.reviewers.values() if r.deviation is not None)
    assert abs(total) < 1e-6
    ranks = sorted(s.rank for s in result.submissions.values())
    assert ranks[0] == 1


# --- rubric validation ---------------------------------------------------------------------------------


def test_default_rubric_is_valid():
    weights = {
        "Pertinencia al desafío": 25,
        "Innovación": 20,
        "Coproducción con usuarios": 20,
        "Factibilidad": 20,
        "Potencial de aprendizaje y escalamiento": 15,
    }
    assert validate_rubric(weights) == []
    assert Rubric.from_weights(weights).scale == Scale(1, 7, 4.0)


@pytest.mark.parametrize(
    "weights, message",
    [
        ({}, "La rúbrica necesita al menos un criterio."),
        ({"A": 50, "B": 40}, "Las ponderaciones suman 90 %; deben sumar 100 %."),
        ({"A": 50, "B": 60}, "Las ponderaciones suman 110 %; deben sumar 100 %."),
        ({"A": 50.5, "B": 49.5}, "La ponderación de «A» debe ser un porcentaje entero, por ejemplo 20."),
        ({"A": 100, "B": 0}, "La ponderación de «B» debe estar entre 1 % y 100 %."),
        ({"A": True, "B": 99}, "La ponderación de «A» debe ser un porcentaje entero, por ejemplo 20."),
        ({" ": 100}, "Cada criterio necesita un nombre."),
    ],
)
def test_bad_weights_are_explained_in_spanish(weights, message):
    assert message in validate_rubric(weights)
    with pytest.raises(RubricError) as err:
        Rubric.from_weights(weights)
    assert message in err.value.messages


def test_repeated_criterion():
    criteria = [Criterion("Innovación", 50), Criterion(" innovación ", 50)]
    assert validate_rubric(criteria) == ["El criterio «innovación» está repetido."]


@pytest.mark.parametrize(
    "scale, message",
    [
        (Scale(7, 1, 4.0), "La escala debe ir de un mínimo a un máximo mayor, entre 0 y 100."),
        (Scale(1, 1, 1.0), "La escala debe ir de un mínimo a un máximo mayor, entre 0 y 100."),
        (Scale(1.5, 7, 4.0), "Los extremos de la escala deben ser números enteros."),
        (Scale(1, 7, 8.0), "La nota de aprobación debe estar entre 1 y 7."),
        (Scale(1, 7, 0.5), "La nota de aprobación debe estar entre 1 y 7."),
    ],
)
def test_bad_scales_are_explained_in_spanish(scale, message):
    assert validate_rubric({"A": 100}, scale) == [message]


def test_other_scales_work():
    rubric = Rubric.from_weights({"A": 100}, Scale(0, 10, 6.0))
    result = aggregate(rubric, [Score(1, 10, "A", 0), Score(2, 10, "A", 10)])
    assert result.submissions[10].score == 5.0
    assert result.submissions[10].passes is False
    assert result.outliers == (10,)
