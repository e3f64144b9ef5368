"""`flask seed-demo`: a realistic open call with submissions, loaded once, the same on every machine."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias import seed
from convocatorias.models import (
    CambioEstado,
    Convocatoria,
    Desafio,
    EstadoPostulacion,
    Fase,
    Organizacion,
    Postulacion,
    PostulacionVersion,
)
from evaluacion.seed import EVAL_CALL_SLUG
from idea import chile
from idea.extensions import db
from idea.models import User
from tests.conftest import _empty_tables

TABLES = (Convocatoria, Desafio, Organizacion, Postulacion, PostulacionVersion, CambioEstado, User)


@pytest.fixture
def seed_demo(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `flask seed-demo` as an operator would; the tests' tables come from create_all, not migrations."""
    monkeypatch.setattr("idea.cli.upgrade", lambda: None)

    def invoke() -> None:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        db.session.expire_all()

    return invoke


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in TABLES}


def demo_call() -> Convocatoria:
    return db.session.scalars(sa.select(Convocatoria).where(Convocatoria.slug == seed.DEMO_CALL_SLUG)).one()


def test_running_the_seed_twice_keeps_the_counts(seed_demo: Any) -> None:
    seed_demo()
    first = counts()
    in_demo_call = sa.select(sa.func.count(Postulacion.id)).where(
        Postulacion.convocatoria_id == demo_call().id)
    assert db.session.scalar(in_demo_call) == seed.DEMO_SUBMISSIONS
    seed_demo()
    assert counts() == first


def test_the_open_call(seed_demo: Any) -> None:
    seed_demo()
    call = demo_call()
    assert call.title == "Fondo IDEA 2026"
    assert call.fase == Fase.POSTULACION and call.is_published
    assert (call.total_budget, call.min_amount, call.max_amount, call.vote_weight) == (
        650_000_000, 20_000_000, 30_000_000, 10)
    close = chile.to_santiago(call.submissions_close_at)
    assert (close.hour, close.minute, close.second) == (23, 59, 59)
    days_left = close.date() - chile.to_santiago(chile.utcnow()).date()
    assert timedelta(days=18) <= days_left <= timedelta(days=24)
    assert call.accepts_submissions_at(chile.utcnow())
    dates = [call.submissions_open_at, call.submissions_close_at, call.admissibility_end_at,
             call.evaluation_end_at, call.vote_open_at, call.vote_close_at, call.committee_at,
             call.training_start_at, call.execution_start_at, call.closing_at]
    assert dates == sorted(dates)

    assert len(call.desafios) == 6
    assert sorted(d.grupo_vulnerable.slug for d in call.desafios) == sorted(
        slug for slug, _name, _ministry in seed.GRUPOS_COMPROMISO_PAIS)
    assert {d.is_national for d in call.desafios} == {True, False}
    for desafio in call.desafios:
        assert desafio.problem and desafio.partner_institution
        assert desafio.indicadores and all(i.source for i in desafio.indicadores)
        assert desafio.is_national or desafio.region_codes


def test_a_second_call_in_preparation_is_not_public(seed_demo: Any) -> None:
    seed_demo()
    others = (seed.DEMO_CALL_SLUG, EVAL_CALL_SLUG)  # the open call, and the one in evaluation (evaluacion)
    drafts = db.session.scalars(sa.select(Convocatoria).where(Convocatoria.slug.not_in(others))).all()
    assert len(drafts) == 1
    assert drafts[0].fase == Fase.BORRADOR and not drafts[0].is_published


def test_organisations_and_submissions(seed_demo: Any) -> None:
    seed_demo()
    organizaciones = db.session.scalars(sa.select(Organizacion)).all()
    assert 10 <= len(organizaciones) <= 14
    assert all(chile.is_valid_rut(o.rut) for o in organizaciones)
    assert len({o.region for o in organizaciones}) >= 10

    postulaciones = db.session.scalars(
        sa.select(Postulacion).where(Postulacion.convocatoria_id == demo_call().id)).all()
    assert {p.region for p in postulaciones} == {r.code for r in chile.REGIONS}
    statuses = Counter(p.status for p in postulaciones)
    assert statuses[EstadoPostulacion.BORRADOR] and statuses[EstadoPostulacion.ENVIADA]
    assert statuses[EstadoPostulacion.RETIRADA]
    per_org = Counter(p.organizacion_id for p in postulaciones)
    assert max(per_org.values()) <= demo_call().max_submissions_per_org
    sent = [p for p in postulaciones if p.status != EstadoPostulacion.BORRADOR]
    assert sorted(p.folio_number for p in sent) == list(range(1, len(sent) + 1))
    for p in postulaciones:
        assert p.desafio.covers_region(p.region)
        assert p.historial and p.historial[0].to_status == EstadoPostulacion.BORRADOR
        if p.status == EstadoPostulacion.BORRADOR:
            assert p.folio is None and not p.versiones
        else:
            assert p.folio == f"IDEA-2026-{p.folio_number:04d}"
            assert [v.number for v in p.versiones] == [1]
            assert p.versiones[0].data["title"] == p.title
            assert p.historial[-1].to_status == p.status
            assert 20_000_000 <= p.requested_amount <= 30_000_000
            assert p.submitted_at <= chile.utcnow()


def test_the_demo_applicant_owns_an_organisation_with_submissions(seed_demo: Any) -> None:
    seed_demo()
    user = db.session.scalars(sa.select(User).where(User.email == seed.DEMO_POSTULANTE_EMAIL)).one()
    assert user.password_hash  # created by the core's demo users, so one can log in as them
    (organizacion,) = db.session.scalars(
        sa.select(Organizacion).where(Organizacion.owner_id == user.id)).all()
    mine = db.session.scalars(
        sa.select(Postulacion).where(Postulacion.organizacion_id == organizacion.id)).all()
    assert {p.status for p in mine} == {EstadoPostulacion.ENVIADA, EstadoPostulacion.BORRADOR}


def test_the_biobio_lead_has_submissions_to_look_at(seed_demo: Any, login_as: Any) -> None:
    seed_demo()
    lead = db.session.scalars(sa.select(User).where(User.email == "encargado.biobio@demo.fondoidea.cl")).one()
    html = login_as(lead).get(f"/gestion/convocatorias/{demo_call().id}/postulaciones").text
    assert "Biobío" in html and "Metropolitana de Santiago</td>" not in html


def test_the_demo_data_is_the_same_every_time(seed_demo: Any) -> None:
    def snapshot() -> list[tuple[Any, ...]]:
        rows = db.session.execute(sa.select(Postulacion.title, Postulacion.region, Postulacion.status,
                                            Postulacion.requested_amount).order_by(Postulacion.id))
        return [tuple(row) for row in rows]

    seed_demo()
    first = snapshot()
    _empty_tables()
    seed_demo()
    assert snapshot() == first
