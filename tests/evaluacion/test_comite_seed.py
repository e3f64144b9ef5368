"""The demo call of the committee phase: 300 scored candidates over 16 regions, ready for the solver."""

from __future__ import annotations

import time

import sqlalchemy as sa

from evaluacion import comite_ranking, seleccion
from evaluacion.comite_permissions import recusals
from evaluacion.comite_seed import COMITE_CALL_SLUG, HARD_REGION, seed_demo_committee
from evaluacion.votacion_models import Preseleccion
from idea.cli import seed_demo_users
from idea.extensions import db


def test_the_demo_committee_call() -> None:
    seed_demo_users()
    started = time.perf_counter()
    convocatoria = seed_demo_committee()
    elapsed = time.perf_counter() - started
    db.session.commit()
    assert convocatoria is not None and convocatoria.slug == COMITE_CALL_SLUG
    assert elapsed < 10, elapsed  # bulk inserts: about half a second on SQLite
    rows = comite_ranking.final_ranking(convocatoria)
    assert len(rows) == 300
    assert len({r.region for r in rows}) == 16
    assert all(20_000_000 <= r.amount <= 30_000_000 for r in rows)
    eligible = [r for r in rows if r.eligible]
    assert len(eligible) >= 200
    # Aysén has ideas, none eligible: the regional rule covers 15 regions.
    assert any(r.region == HARD_REGION for r in rows)
    assert not any(r.region == HARD_REGION for r in eligible)
    assert db.session.scalar(sa.select(sa.func.sum(Preseleccion.vote_count))) > 0
    assert [u.email for u, _p in recusals(convocatoria)] == ["comite@demo.fondoidea.cl"]
    result = seleccion.solve_selection(comite_ranking.selection_problem(convocatoria, "rank"))
    assert result.feasible and len(result.regions_covered) == 15
    assert result.total_amount <= 650_000_000
    assert seed_demo_committee() is None  # idempotent
