"""The committee's final ranking: the formula against hand-computed values, eligibility, solver input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from convocatorias.models import Fase
from evaluacion import comite_ranking
from evaluacion.comite_models import ReglasSeleccion
from evaluacion.models import Asignacion, EstadoAsignacion, Puntaje, Rubrica
from evaluacion.votacion_models import Preseleccion
from idea.chile import utcnow
from idea.extensions import db
from idea.models import Role, User
from tests.evaluacion.conftest import Escenario


def give_score(reviewer: User, postulacion: Any, rubrica: Rubrica, value: int) -> None:
    """A submitted evaluation with `value` on every criterion (so its weighted score is `value`)."""
    a = Asignacion(
        convocatoria_id=postulacion.convocatoria_id,
        user_id=reviewer.id,
        postulacion_id=postulacion.id,
        status=EstadoAsignacion.ENVIADA,
        submitted_at=utcnow(),
        overall_comment="",
    )
    a.puntajes = [Puntaje(criterio_id=c.id, value=value, comment="") for c in rubrica.criterios]
    db.session.add(a)


def set_votes(postulacion: Any, count: int) -> None:
    db.session.add(
        Preseleccion(
            convocatoria_id=postulacion.convocatoria_id, postulacion_id=postulacion.id, vote_count=count
        )
    )


@pytest.fixture
def three(escenario: Callable[..., Escenario]) -> Escenario:
    """A (internal 7, no votes), B (internal 4, 30 votes), C (internal 1, 10 votes)."""
    e = escenario(n=3, reviewers=2)
    e.convocatoria.fase = Fase.COMITE
    a, b, c = e.postulaciones
    for p, value in ((a, 7), (b, 4), (c, 1)):
        give_score(e.reviewers[0], p, e.rubrica, value)
    db.session.commit()
    return e


def by_id(rows: list[comite_ranking.FilaRanking]) -> dict[int, comite_ranking.FilaRanking]:
    return {r.postulacion_id: r for r in rows}


def finals(e: Escenario, weight: int) -> list[float]:
    rows = by_id(comite_ranking.final_ranking(e.convocatoria, vote_weight=weight))
    return [rows[p.id].final_score for p in e.postulaciones]


def test_formula_against_hand_computed_values(three: Escenario) -> None:
    a, b, c = three.postulaciones
    set_votes(b, 30)
    set_votes(c, 10)
    db.session.commit()
    # Normalised internal: (7-1)/6 = 1, (4-1)/6 = 0.5, 0. Votes 0/30/10 of 40: shares 0, .75, .25;
    # normalised by the largest share: 0, 1, 1/3.
    # w = 0: the internal score itself.
    assert finals(three, 0) == [7.0, 4.0, 1.0]
    # w = 10 %: A .9*1 = .9 -> 1 + .9*6 = 6.4; B .9*.5 + .1*1 = .55 -> 4.3; C .1/3 -> 1.2.
    assert finals(three, 10) == pytest.approx([6.4, 4.3, 1.2])
    # w = 100 %: the vote alone: 1, 7, 1 + 6/3 = 3.
    assert finals(three, 100) == pytest.approx([1.0, 7.0, 3.0])
    rows = by_id(comite_ranking.final_ranking(three.convocatoria))  # the call's own weight: 10 %
    assert rows[b.id].vote_count == 30
    assert rows[b.id].vote_share == pytest.approx(0.75)
    assert rows[c.id].vote_norm == pytest.approx(1 / 3)
    assert rows[b.id].internal_norm == pytest.approx(0.5)
    assert [r.postulacion_id for r in comite_ranking.final_ranking(three.convocatoria, 100)] == [
        b.id,
        c.id,
        a.id,
    ]


def test_no_votes_at_all_and_the_eligibility_threshold(three: Escenario) -> None:
    a, b, c = three.postulaciones
    rows = comite_ranking.final_ranking(three.convocatoria)
    # Nobody voted: every vote figure is 0 and w only scales the internal score down.
    assert all(r.vote_count == 0 and r.vote_share == 0 and r.vote_norm == 0 for r in rows)
    got = by_id(rows)
    assert got[a.id].final_score == pytest.approx(6.4)
    assert got[b.id].final_score == pytest.approx(3.7)  # .9 * .5 -> 1 + 2.7
    assert [r.rank for r in rows] == [1, 2, 3]
    # min_final_score 4.0: B (3.7) is out; with the threshold at 3.7 it is in (at or above).
    assert [r.eligible for r in rows] == [True, False, False]
    three.rubrica.min_final_score = 3.7
    db.session.commit()
    assert [r.eligible for r in comite_ranking.final_ranking(three.convocatoria)] == [True, True, False]


def test_internal_score_is_the_mean_of_submitted_evaluations(escenario: Callable[..., Escenario]) -> None:
    e = escenario(n=2, reviewers=2)
    p, unscored = e.postulaciones
    give_score(e.reviewers[0], p, e.rubrica, 5)
    give_score(e.reviewers[1], p, e.rubrica, 6)
    db.session.commit()
    rows = comite_ranking.final_ranking(e.convocatoria, vote_weight=0)
    assert rows[0].postulacion_id == p.id and rows[0].internal_score == pytest.approx(5.5)
    assert rows[1].postulacion_id == unscored.id and rows[1].internal_score is None
    assert not rows[1].eligible and rows[1].rank == 2


def test_ties_share_the_rank_and_list_by_id(escenario: Callable[..., Escenario]) -> None:
    e = escenario(n=3, reviewers=1)
    for p in e.postulaciones:
        give_score(e.reviewers[0], p, e.rubrica, 5)
    db.session.commit()
    rows = comite_ranking.final_ranking(e.convocatoria)
    assert [r.rank for r in rows] == [1, 1, 1]
    assert [r.postulacion_id for r in rows] == sorted(p.id for p in e.postulaciones)


def test_selection_problem_takes_eligible_candidates_and_the_rules(three: Escenario) -> None:
    a, b, c = three.postulaciones
    db.session.add(ReglasSeleccion(convocatoria_id=three.convocatoria.id, max_per_challenge=3, max_count=5))
    db.session.commit()
    problem = comite_ranking.selection_problem(three.convocatoria, "total", must_include=[c.id])
    assert {x.id for x in problem.candidates} == {a.id, c.id}  # B and C are below 4.0; C is forced
    first = next(x for x in problem.candidates if x.id == a.id)
    assert first.amount == a.requested_amount and first.region == a.region and first.rank == 1
    assert first.score == pytest.approx(6.4)
    assert problem.budget == three.convocatoria.total_budget and problem.min_score == 4.0
    assert (problem.max_per_challenge, problem.max_count, problem.objective) == (3, 5, "total")
    assert problem.must_include == frozenset({c.id})


def test_role_fixture_sanity(make_user: Callable[..., User]) -> None:
    assert make_user(Role.COMITE).has_any_role(Role.COMITE)
