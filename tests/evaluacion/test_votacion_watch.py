"""The integrity watch of the popular vote (lead), annulling votes, the public results and open data."""

# ruff: noqa: F811  (the call fixtures are imported to be used as fixtures here)

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias.models import Convocatoria, Desafio, EstadoPostulacion, Fase, Postulacion
from evaluacion import votacion_results as results
from evaluacion import votacion_watch as watch
from evaluacion.votacion_models import ConfiguracionVotacion, Preseleccion, SolicitudVoto, Votante, Voto
from idea.chile import utcnow
from idea.extensions import db
from idea.models import EventoAuditoria, Role, User
from tests.convocatorias.conftest import (  # noqa: F401  (fixtures)
    make_convocatoria,
    make_desafio,
    make_grupo,
    make_organizacion,
    make_postulacion,
)

_seq = count(1)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@dataclass
class Votacion:
    convocatoria: Convocatoria
    desafios: list[Desafio]
    ideas: list[Preseleccion]  # regions 08, 13, 08, 13; challenges 0, 0, 1, 1

    def vote(
        self,
        idea: Preseleccion,
        *,
        domain: str = "gmail.com",
        network: str = "",
        at: datetime | None = None,
        votante: Votante | None = None,
        slot: int = 1,
        requests: int = 1,
    ) -> Voto:
        """A confirmed vote (and its request), with the counter moved as the vote operation moves it."""
        n = next(_seq)
        at = at or utcnow() - timedelta(hours=1)
        if votante is None:
            votante = Votante(
                convocatoria_id=self.convocatoria.id,
                rut_hash=hashlib.sha256(f"persona-{n}".encode()).hexdigest(),
                email=f"persona{n}@{domain}",
                email_domain=domain,
            )
            db.session.add(votante)
            db.session.flush()
        network = network or hashlib.sha256(f"red-{n}".encode()).hexdigest()
        solicitudes = [
            SolicitudVoto(
                convocatoria_id=self.convocatoria.id,
                preseleccion_id=idea.id,
                votante_id=votante.id,
                token_hash=hashlib.sha256(f"token-{n}-{k}".encode()).hexdigest(),
                network_hash=network,
                created_at=at,
                expires_at=at + timedelta(hours=24),
                confirmed_at=at if k == 0 else None,
            )
            for k in range(requests)
        ]
        db.session.add_all(solicitudes)
        db.session.flush()
        voto = Voto(
            convocatoria_id=self.convocatoria.id,
            preseleccion_id=idea.id,
            votante_id=votante.id,
            solicitud_id=solicitudes[0].id,
            slot=slot,
            network_hash=network,
            email_domain=domain,
            confirmed_at=at,
        )
        db.session.add(voto)
        idea.vote_count += 1
        db.session.commit()
        return voto


@pytest.fixture
def votacion(
    make_convocatoria: Callable[..., Convocatoria],
    make_desafio: Callable[..., Desafio],
    make_organizacion: Callable[..., Any],
    make_postulacion: Callable[..., Postulacion],
) -> Callable[..., Votacion]:
    def factory(*, closed: bool = False, fase: Fase = Fase.VOTACION) -> Votacion:
        now = utcnow()
        convocatoria = make_convocatoria(
            fase=fase,
            submissions_open_at=now - timedelta(days=90),
            submissions_close_at=now - timedelta(days=60),
            vote_open_at=now - timedelta(days=5),
            vote_close_at=now - timedelta(hours=1) if closed else now + timedelta(days=3),
        )
        desafios = [make_desafio(convocatoria), make_desafio(convocatoria)]
        db.session.add(
            ConfiguracionVotacion(convocatoria_id=convocatoria.id, published_at=now - timedelta(days=6))
        )
        ideas = []
        for i, region in enumerate(("08", "13", "08", "13")):
            p = make_postulacion(
                desafios[i // 2],
                make_organizacion(region=region),
                status=EstadoPostulacion.ADMISIBLE,
                title=f"Idea votada {i}",
            )
            if p.folio is None:
                p.folio_number = 100 + next(_seq)
                p.folio = f"VOT-{p.folio_number}"
            pre = Preseleccion(convocatoria_id=convocatoria.id, postulacion_id=p.id, summary="Resumen")
            db.session.add(pre)
            ideas.append(pre)
        db.session.commit()
        return Votacion(convocatoria, desafios, ideas)

    return factory


@pytest.fixture(autouse=True)
def in_request(app: Flask) -> Iterator[None]:
    """The operations' messages are translated, which needs a request (the visitor's language)."""
    with app.test_request_context():
        yield


@pytest.fixture
def count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def counter(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", counter)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", counter)


def integrity_url(v: Votacion, **args: str) -> str:
    query = "&".join(f"{k}={val}" for k, val in args.items())
    return f"/gestion/votacion/{v.convocatoria.id}/integridad" + (f"?{query}" if query else "")


def results_url(v: Votacion, suffix: str = "") -> str:
    return f"/convocatorias/{v.convocatoria.slug}/votacion/resultados{suffix}"


def lead(make_user: Callable[..., User], region: str | None = None) -> User:
    return make_user(Role.ENCARGADO_TECNICO, region=region)


# --- annulment: every total -------------------------------------------------------------------------------


def test_an_annulled_vote_leaves_every_total(votacion: Any, make_user: Any) -> None:
    v = votacion()
    a, b, c, _d = v.ideas
    votes = [v.vote(a), v.vote(a), v.vote(a), v.vote(b), v.vote(c)]
    before = results.results(v.convocatoria.id)
    assert before.votes == 5
    assert results.vote_shares(v.convocatoria.id)[a.postulacion_id] == pytest.approx(3 / 5)

    watch.annul_vote(make_user(Role.ADMIN), votes[0], "Correo desechable")
    db.session.commit()

    after = results.results(v.convocatoria.id)
    assert after.votes == 4 and after.annulled == 1
    by_idea = {i.preseleccion_id: i for i in after.ideas}
    assert by_idea[a.id].votes == 2 and by_idea[a.id].annulled == 1
    assert by_idea[a.id].share == pytest.approx(2 / 4)
    assert by_idea[a.id].share_in_desafio == pytest.approx(2 / 3)
    by_desafio = {d.desafio_id: d for d in after.desafios}
    assert by_desafio[v.desafios[0].id].votes == 3
    assert by_desafio[v.desafios[0].id].share == pytest.approx(3 / 4)
    assert by_desafio[v.desafios[1].id].votes == 1
    shares = results.vote_shares(v.convocatoria.id)
    assert shares[a.postulacion_id] == pytest.approx(0.5)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert db.session.get(Preseleccion, a.id).vote_count == 2
    summary = results.integrity_summary(v.convocatoria.id)
    assert (summary.confirmed, summary.valid, summary.annulled) == (5, 4, 1)
    assert summary.reasons == [("Correo desechable", 1)]
    assert watch.counters_match(v.convocatoria.id)
    event = db.session.scalars(
        sa.select(EventoAuditoria).where(EventoAuditoria.action == "voto.annulled")
    ).one()
    assert event.object_id == str(votes[0].id) and event.after["annulled_reason"] == "Correo desechable"


def test_shares_are_zero_when_nobody_voted(votacion: Any) -> None:
    v = votacion()
    shares = results.vote_shares(v.convocatoria.id)
    assert set(shares) == {i.postulacion_id for i in v.ideas}
    assert set(shares.values()) == {0.0}


def test_a_vote_is_annulled_once(votacion: Any, make_user: Any) -> None:
    v = votacion()
    voto = v.vote(v.ideas[0])
    admin = make_user(Role.ADMIN)
    watch.annul_vote(admin, voto, "Duplicado")
    db.session.commit()
    with pytest.raises(watch.VotacionWatchError):
        watch.annul_vote(admin, voto, "Otra vez")
    db.session.rollback()
    assert db.session.get(Preseleccion, v.ideas[0].id).vote_count == 0


def test_recount_equals_the_counters_and_repairs_them(votacion: Any) -> None:
    v = votacion()
    for idea, n in zip(v.ideas, (3, 1, 0, 2), strict=True):
        for _ in range(n):
            v.vote(idea)
    assert watch.counters_match(v.convocatoria.id)
    assert watch.recount_votes(v.convocatoria.id) == {
        i.id: n for i, n in zip(v.ideas, (3, 1, 0, 2), strict=True)
    }
    db.session.get(Preseleccion, v.ideas[0].id).vote_count = 40  # a counter gone wrong
    db.session.commit()
    assert not watch.counters_match(v.convocatoria.id)
    assert watch.recount_votes(v.convocatoria.id)[v.ideas[0].id] == 3
    db.session.commit()
    assert watch.counters_match(v.convocatoria.id)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_the_reason_is_required(votacion: Any, make_user: Any, reason: str | None) -> None:
    v = votacion()
    voto = v.vote(v.ideas[0])
    with pytest.raises(watch.VotacionWatchError, match="Indica por qué"):
        watch.annul_vote(make_user(Role.ADMIN), voto, reason)
    db.session.rollback()
    assert db.session.get(Voto, voto.id).annulled_at is None


def test_the_annul_form_without_reason_writes_nothing(votacion: Any, login_as: Any, make_user: Any) -> None:
    v = votacion()
    voto = v.vote(v.ideas[0])
    client = login_as(lead(make_user))
    response = client.post(
        f"/gestion/votacion/votos/{voto.id}/anular", data={"reason": "  "}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "Indica por qué se anula el voto." in response.text
    db.session.expire_all()
    assert db.session.get(Voto, voto.id).annulled_at is None
    assert db.session.get(Preseleccion, v.ideas[0].id).vote_count == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count(EventoAuditoria.id)).where(EventoAuditoria.action == "voto.annulled")
        )
        == 0
    )


def test_the_lead_annuls_a_vote_from_the_page(votacion: Any, login_as: Any, make_user: Any) -> None:
    v = votacion()
    voto = v.vote(v.ideas[0])
    client = login_as(lead(make_user))
    response = client.post(
        f"/gestion/votacion/votos/{voto.id}/anular?dominio=gmail.com",
        data={"reason": "Red de bots"},
    )
    assert response.status_code == 302
    assert "dominio=gmail.com" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Voto, voto.id).annulled_reason == "Red de bots"
    assert db.session.get(Preseleccion, v.ideas[0].id).vote_count == 0


def test_the_lead_annuls_a_cluster(votacion: Any, login_as: Any, make_user: Any) -> None:
    v = votacion()
    for idea in v.ideas[:3]:
        v.vote(idea, domain="bots.example")
    v.vote(v.ideas[0], domain="gmail.com")
    client = login_as(lead(make_user))
    page = client.get(integrity_url(v, dominio="bots.example"))
    assert "Anular todos los votos válidos de este grupo" in page.text
    response = client.post(
        f"/gestion/votacion/{v.convocatoria.id}/integridad/anular-grupo",
        data={"kind": "dominio", "key": "bots.example", "reason": "Dominio desechable"},
        follow_redirects=True,
    )
    assert "3 votos anulados" in response.text
    db.session.expire_all()
    assert [
        i.vote_count
        for i in db.session.scalars(
            sa.select(Preseleccion)
            .where(Preseleccion.id.in_([i.id for i in v.ideas]))
            .order_by(Preseleccion.id)
        )
    ] == [1, 0, 0, 0]
    assert watch.counters_match(v.convocatoria.id)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(EventoAuditoria.id)).where(EventoAuditoria.action == "voto.annulled")
        )
        == 3
    )


# --- who may ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, Role.POSTULANTE, Role.EVALUADOR, Role.COMITE])
def test_non_leads_are_refused(votacion: Any, login_as: Any, client: Any, role: Role | None) -> None:
    v = votacion()
    voto = v.vote(v.ideas[0])
    visitor = login_as(role) if role else client
    page = visitor.get(integrity_url(v))
    assert page.status_code in (302, 403)
    annul = visitor.post(f"/gestion/votacion/votos/{voto.id}/anular", data={"reason": "No"})
    assert annul.status_code in (302, 403)
    cluster = visitor.post(
        f"/gestion/votacion/{v.convocatoria.id}/integridad/anular-grupo",
        data={"kind": "dominio", "key": "gmail.com", "reason": "No"},
    )
    assert cluster.status_code in (302, 403)
    db.session.expire_all()
    assert db.session.get(Voto, voto.id).annulled_at is None


def test_a_lead_of_another_call_is_refused(
    votacion: Any, login_as: Any, make_user: Any, make_convocatoria: Any
) -> None:
    v = votacion()
    voto = v.vote(v.ideas[0])
    other = make_convocatoria()
    client = login_as(make_user(Role.ENCARGADO_TECNICO, convocatoria_id=other.id))
    assert client.get(integrity_url(v)).status_code == 404
    assert client.post(f"/gestion/votacion/votos/{voto.id}/anular", data={"reason": "No"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Voto, voto.id).annulled_at is None


def test_a_regional_lead_sees_and_annuls_only_their_regions(
    votacion: Any, login_as: Any, make_user: Any
) -> None:
    v = votacion()
    biobio = v.vote(v.ideas[0], domain="biobio.example")  # region 08
    santiago = v.vote(v.ideas[1], domain="santiago.example")  # region 13
    client = login_as(lead(make_user, region="08"))
    page = client.get(integrity_url(v))
    assert page.status_code == 200
    assert "biobio.example" in page.text and "santiago.example" not in page.text
    assert (
        client.post(f"/gestion/votacion/votos/{santiago.id}/anular", data={"reason": "x"}).status_code == 404
    )
    assert client.post(f"/gestion/votacion/votos/{biobio.id}/anular", data={"reason": "x"}).status_code == 302
    cluster = client.post(
        f"/gestion/votacion/{v.convocatoria.id}/integridad/anular-grupo",
        data={"kind": "dominio", "key": "santiago.example", "reason": "x"},
    )
    assert cluster.status_code == 404
    db.session.expire_all()
    assert db.session.get(Voto, santiago.id).annulled_at is None
    assert db.session.get(Voto, biobio.id).annulled_at is not None


# --- what the lead reads --------------------------------------------------------------------------------


def test_bursts_clusters_and_repeated_attempts(votacion: Any) -> None:
    v = votacion()
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)
    for h in range(28):  # a steady two votes an hour...
        for _ in range(2):
            v.vote(v.ideas[h % 4], at=start + timedelta(hours=h, minutes=10))
    burst_hour = start + timedelta(hours=28)
    for k in range(20):  # ...then twenty in one hour, from one domain and one network
        v.vote(v.ideas[0], at=burst_hour + timedelta(minutes=k), domain="bots.example", network="f" * 64)
    repeated = v.vote(v.ideas[1], requests=6)

    hours = watch.votes_per_hour(v.convocatoria.id)
    assert sum(h.votes for h in hours) == 28 * 2 + 20 + 1
    flagged = watch.bursts(hours)
    assert [h.votes for h in flagged] == [20]
    assert flagged[0].start.utcoffset() is not None and flagged[0].start.tzinfo.key == "America/Santiago"

    domains = watch.clusters(v.convocatoria.id, "email_domain")
    assert domains[0].key == "gmail.com" and domains[1].key == "bots.example"
    assert domains[1].votes == 20 and domains[1].voters == 20
    assert domains[1].share == pytest.approx(20 / 77)
    networks = watch.clusters(v.convocatoria.id, "network_hash")
    assert networks[0].key == "f" * 64 and networks[0].votes == 20

    attempts = watch.repeated_attempts(v.convocatoria.id)
    assert [(a.votante_id, a.requests, a.confirmed) for a in attempts] == [(repeated.votante_id, 6, 1)]


def test_the_integrity_page_draws_the_chart_with_its_numbers(
    votacion: Any, login_as: Any, make_user: Any
) -> None:
    v = votacion()
    at = utcnow() - timedelta(hours=3)
    for _ in range(3):
        v.vote(v.ideas[0], at=at)
    v.vote(v.ideas[1], at=at + timedelta(hours=2), domain="uc.cl", requests=5)
    page = login_as(lead(make_user)).get(integrity_url(v))
    assert page.status_code == 200
    svg = re.search(r"<svg[^>]*role=\"img\".*?</svg>", page.text, re.S)
    assert svg is not None
    assert '<title id="chart-title">' in svg.group(0) and '<desc id="chart-desc">' in svg.group(0)
    assert svg.group(0).count("<rect") == 3  # three hours, one bar each (the middle one empty)
    assert ": 3</title>" in svg.group(0) and ": 1</title>" in svg.group(0)
    table = page.text[page.text.index("Votos por hora</caption>") :]
    assert re.search(r"<td class=\"num\">3</td>", table)
    assert "votante #" in page.text
    # No RUT hash nor e-mail address on the lead's page either.
    for votante in db.session.scalars(sa.select(Votante)):
        assert votante.rut_hash not in page.text
        assert (votante.email or "@@") not in page.text


def test_the_integrity_page_filters_votes(votacion: Any, login_as: Any, make_user: Any) -> None:
    v = votacion()
    v.vote(v.ideas[0], domain="uc.cl")
    v.vote(v.ideas[1], domain="gmail.com")
    client = login_as(lead(make_user))
    page = client.get(integrity_url(v, dominio="uc.cl"))
    assert "1 voto coincide" in page.text
    page = client.get(integrity_url(v, idea=str(v.ideas[1].id), estado="anulados"))
    assert "0 votos coinciden" in page.text
    assert client.get(integrity_url(v, idea="nada", estado="raro", page="x")).status_code == 200


def test_the_integrity_page_query_count_does_not_grow(
    votacion: Any, login_as: Any, make_user: Any, count_queries: list[str]
) -> None:
    v = votacion()
    client = login_as(lead(make_user))
    for k in range(5):
        v.vote(v.ideas[k % 4], requests=5)
    url = integrity_url(v)
    client.get(url)  # warm up

    def queries() -> int:
        count_queries.clear()
        assert client.get(url).status_code == 200
        return len(count_queries)

    few = queries()
    start = utcnow() - timedelta(hours=60)
    for k in range(120):
        v.vote(
            v.ideas[k % 4], at=start + timedelta(minutes=29 * k), domain=f"d{k % 13}.cl", requests=k % 6 + 1
        )
    assert queries() == few, "\n".join(
        q.split("\n")[0][:90] + " | " + q.split("\n")[-1][:60] for q in count_queries
    )


# --- public results and open data -----------------------------------------------------------------------


def _voted(votacion: Any, make_user: Any, **kwargs: Any) -> Votacion:
    v = votacion(**kwargs)
    votes = [v.vote(v.ideas[0], domain="correo.example") for _ in range(3)] + [v.vote(v.ideas[2])]
    watch.annul_vote(make_user(Role.ADMIN), votes[0], "Escribió a persona1@correo.example, RUT 12.345.678-5")
    db.session.commit()
    return v


def test_public_results_wait_for_the_close(votacion: Any, make_user: Any, client: Any) -> None:
    v = _voted(votacion, make_user)
    page = client.get(results_url(v))
    assert page.status_code == 200
    assert "Los resultados se publican cuando cierre la votación popular" in page.text
    assert "Idea votada 0" not in page.text
    assert client.get(results_url(v, ".csv")).status_code == 404
    assert client.get(results_url(v, ".json")).status_code == 404


def test_public_results_after_the_close_have_no_personal_data(
    votacion: Any, make_user: Any, client: Any
) -> None:
    v = _voted(votacion, make_user, closed=True)
    page = client.get(results_url(v))
    assert page.status_code == 200
    assert "Idea votada 0" in page.text and "Idea votada 2" in page.text
    assert "66,7" in page.text  # two of three valid votes
    csv_response = client.get(results_url(v, ".csv"))
    json_response = client.get(results_url(v, ".json"))
    assert csv_response.mimetype == "text/csv"
    assert 'attachment; filename="resultados-votacion-' in csv_response.headers["Content-Disposition"]
    assert json_response.mimetype == "application/json"
    assert json_response.headers["Content-Disposition"].endswith('.json"')

    rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff"))))
    assert set(rows[0]) == set(results.EXPORT_FIELDS)
    by_title = {r["titulo"]: r for r in rows}
    assert by_title["Idea votada 0"]["votos_validos"] == "2"
    assert by_title["Idea votada 0"]["votos_anulados"] == "1"
    document = json.loads(json_response.get_data(as_text=True))
    assert document["votos_validos"] == 3 and document["votos_anulados"] == 1
    assert {d["votos_validos"] for d in document["desafios"]} == {2, 1}
    assert len(document["ideas"]) == 4

    for body in (page.text, csv_response.get_data(as_text=True), json_response.get_data(as_text=True)):
        content = body.split("<main", 1)[-1].split("</main>")[0]
        assert not EMAIL.search(content), EMAIL.search(content)
        assert "12.345.678-5" not in body and "12345678" not in body
        for votante in db.session.scalars(sa.select(Votante)):
            assert votante.rut_hash not in body
            assert votante.email not in body
        for voto in db.session.scalars(sa.select(Voto)):
            assert voto.network_hash not in body
    assert "Escribió a […], RUT […]" in page.text


def test_results_show_once_the_call_moved_past_the_vote(votacion: Any, make_user: Any, client: Any) -> None:
    v = _voted(votacion, make_user, fase=Fase.COMITE)
    assert "Idea votada 0" in client.get(results_url(v)).text
    assert client.get(results_url(v, ".json")).status_code == 200


def test_results_of_an_unpublished_call_are_not_found(make_convocatoria: Any, client: Any) -> None:
    call = make_convocatoria(published_at=None)
    assert client.get(f"/convocatorias/{call.slug}/votacion/resultados").status_code == 404
    assert client.get("/convocatorias/no-existe/votacion/resultados.csv").status_code == 404


def test_the_demo_call_is_consistent(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from evaluacion.votacion_seed import VOTE_CALL_SLUG

    monkeypatch.setattr("idea.cli.upgrade", lambda: None)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    call = db.session.scalars(sa.select(Convocatoria).where(Convocatoria.slug == VOTE_CALL_SLUG)).one()
    assert call.fase == Fase.VOTACION
    assert call.vote_open_at < utcnow() < call.vote_close_at
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Preseleccion.id)).where(Preseleccion.convocatoria_id == call.id)
        )
        == 30
    )
    total, annulled = watch.total_votes(call.id)
    assert total >= 300 and 0 < annulled < 20
    assert watch.counters_match(call.id)
    assert watch.bursts(watch.votes_per_hour(call.id))
    assert watch.repeated_attempts(call.id)
    assert len({i.region for i in results.results(call.id).ideas}) >= 5


def test_an_annulment_tells_the_public_pages_that_counts_moved(votacion: Any, make_user: Any) -> None:
    from evaluacion.votacion import vote_counted

    v = votacion()
    voto = v.vote(v.ideas[1])
    heard: list[dict[str, Any]] = []

    def listener(sender: Any, **kwargs: Any) -> None:
        heard.append(kwargs)

    vote_counted.connect(listener)
    try:
        watch.annul_vote(make_user(Role.ADMIN), voto, "Duplicado")
    finally:
        vote_counted.disconnect(listener)
    assert heard == [{"convocatoria_id": v.convocatoria.id, "preseleccion_id": v.ideas[1].id}]


def test_an_annulment_without_the_csrf_token_is_refused(
    votacion: Any, login_as: Any, make_user: Any, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = votacion()
    voto = v.vote(v.ideas[0], domain="bots.example")
    client = login_as(lead(make_user))
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client.post(f"/gestion/votacion/votos/{voto.id}/anular", data={"reason": "Sin token"})
    client.post(
        f"/gestion/votacion/{v.convocatoria.id}/integridad/anular-grupo",
        data={"kind": "dominio", "key": "bots.example", "reason": "Sin token"},
    )
    db.session.expire_all()
    assert db.session.get(Voto, voto.id).annulled_at is None
    assert db.session.get(Preseleccion, v.ideas[0].id).vote_count == 1


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="row locks need PostgreSQL"
)
def test_annulments_racing_confirmations_keep_the_counters_right(
    votacion: Any, make_user: Any, app: Flask
) -> None:
    from evaluacion.votacion import confirm_vote, sign_token, token_hash

    v = votacion()
    idea = v.ideas[0]
    old = [v.vote(idea, domain="bots.example") for _ in range(40)]
    now = utcnow()
    links = []
    for n in range(80):
        votante = Votante(convocatoria_id=v.convocatoria.id, rut_hash=f"{n:064d}", email_domain="gmail.com")
        db.session.add(votante)
        db.session.flush()
        raw = f"token-de-carrera-{n}"
        db.session.add(
            SolicitudVoto(
                convocatoria_id=v.convocatoria.id,
                preseleccion_id=idea.id,
                votante_id=votante.id,
                token_hash=token_hash(raw),
                network_hash="",
                created_at=now,
                expires_at=now + timedelta(hours=24),
            )
        )
        links.append(sign_token(raw))
    admin_id = make_user(Role.ADMIN).id
    db.session.commit()
    errors: list[BaseException] = []

    def confirm(chunk: list[str]) -> None:
        try:
            with app.app_context():
                for link in chunk:
                    confirm_vote(link)
                    db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    def annul(chunk: list[int]) -> None:
        try:
            with app.app_context(), app.test_request_context():
                admin = db.session.get(User, admin_id)
                for voto_id in chunk:
                    watch.annul_vote(admin, db.session.get(Voto, voto_id), "Carrera")
                    db.session.commit()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=confirm, args=(links[k::4],)) for k in range(4)]
    threads += [threading.Thread(target=annul, args=([o.id for o in old][k::2],)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    db.session.expire_all()
    assert db.session.get(Preseleccion, idea.id).vote_count == 80
    assert watch.counters_match(v.convocatoria.id)
