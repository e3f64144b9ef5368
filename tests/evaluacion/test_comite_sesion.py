"""The committee session as its users and an attacker see it: who reaches it, quorum, recusal, decisions that
cannot change once closed, the solver's reproducible document, the acta (PDF, XLSX) and waitlist promotion."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from convocatorias.models import Convocatoria, Fase, Postulacion
from evaluacion import comite, seleccion
from evaluacion.comite_models import (
    CorridaSolver,
    Decision,
    EstadoSesion,
    ReglasSeleccion,
    Resultado,
    SesionComite,
)
from evaluacion.models import Conflicto, TipoConflicto
from idea.extensions import db
from idea.models import EventoAuditoria, Role, User
from tests.evaluacion.conftest import Escenario
from tests.evaluacion.test_comite_ranking import give_score

MM = 1_000_000


@dataclass
class Comite:
    convocatoria: Convocatoria
    postulaciones: list[Postulacion]  # by score, best first
    members: list[User]


@pytest.fixture(autouse=True)
def request_context(app: Any) -> Any:
    """The operations speak to the user (translated messages): they run inside a request, as in the app."""
    with app.test_request_context():
        yield


@pytest.fixture
def comite_call(escenario: Callable[..., Escenario], make_user: Callable[..., User]) -> Comite:
    """Six ideas over three regions, internal scores 7, 6.5, 6, 5.5, 5 and 3 (the last below the minimum 4),
    $25 MM each, a budget of $75 MM (three fit), no popular vote; three committee members, quorum 2."""
    e = escenario(n=6, reviewers=1, regions=("08", "13", "05"))
    c = e.convocatoria
    c.fase = Fase.COMITE
    c.vote_weight = 0
    c.total_budget = 75 * MM
    scores = (7, 6.5, 6, 5.5, 5, 3)
    # give_score puts the same value on every criterion: a half point is given as two reviewers.
    other = make_user(Role.EVALUADOR, convocatoria_id=c.id)
    for p, s in zip(e.postulaciones, scores, strict=True):
        if s == int(s):
            give_score(e.reviewers[0], p, e.rubrica, int(s))
            give_score(other, p, e.rubrica, int(s))
        else:
            give_score(e.reviewers[0], p, e.rubrica, int(s))
            give_score(other, p, e.rubrica, int(s) + 1)
        p.requested_amount = 25 * MM
    db.session.add(ReglasSeleccion(convocatoria_id=c.id, quorum=2))
    members = [make_user(Role.COMITE, name=f"Miembro {i}", convocatoria_id=c.id) for i in range(3)]
    db.session.commit()
    return Comite(c, e.postulaciones, members)


def base(c: Comite) -> str:
    return f"/comite/convocatorias/{c.convocatoria.id}/sesiones"


def csrf(client: FlaskClient, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, html[:500]
    return match.group(1)


def open_with_quorum(c: Comite, actor: User | None = None) -> SesionComite:
    actor = actor or c.members[0]
    sesion = comite.open_session(actor, c.convocatoria)
    comite.set_attendance(actor, sesion, [m.id for m in c.members[:2]])
    db.session.commit()
    return sesion


def decide_all(c: Comite, sesion: SesionComite, actor: User | None = None) -> None:
    runs = comite.run_solver(actor or c.members[0], sesion, "rank")
    comite.apply_proposal(actor or c.members[0], sesion, runs[-1])
    db.session.commit()


def outcomes(sesion: SesionComite) -> dict[int, Resultado]:
    return {pid: d.outcome for pid, d in comite.decisions_of(sesion.id).items()}


# --- who reaches the pages -----------------------------------------------------------------------------


def test_only_committee_and_admin_reach_the_pages(
    comite_call: Comite, login_as: Callable[..., FlaskClient], make_user: Callable[..., User]
) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    url = f"{base(c)}/{sesion.id}"
    assert login_as(c.members[0]).get(url).status_code == 200
    assert login_as(Role.ADMIN).get(url).status_code == 200
    for who in (Role.POSTULANTE, Role.EVALUADOR, Role.MENTOR, Role.JURADO):
        assert login_as(who).get(url).status_code == 403, who
        assert login_as(who).get(f"{url}/acta.pdf").status_code == 403, who
    # A committee member of another call is refused too.
    stranger = make_user(Role.COMITE, convocatoria_id=c.convocatoria.id + 1000)
    assert login_as(stranger).get(url).status_code == 403
    # Anonymous: sent to log in.
    assert login_as().get(url).status_code in (302, 401, 403)


def test_lead_reads_but_cannot_change(comite_call: Comite, login_as: Callable[..., FlaskClient]) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    lead = login_as(Role.ENCARGADO_TECNICO)
    url = f"{base(c)}/{sesion.id}"
    html = lead.get(url).get_data(as_text=True)
    assert "Cerrar la sesión" not in html
    token = csrf(lead, url)
    response = lead.post(f"{url}/solver", data={"csrf_token": token, "objective": "rank"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(CorridaSolver.id))) == 0


def test_attendance_only_of_committee_members(comite_call: Comite, make_user: Callable[..., User]) -> None:
    c = comite_call
    sesion = comite.open_session(c.members[0], c.convocatoria)
    outsider = make_user(Role.EVALUADOR)
    with pytest.raises(comite.ComiteError):
        comite.set_attendance(c.members[0], sesion, [outsider.id])


# --- quorum, recusal, reasons ------------------------------------------------------------------------------


def test_deciding_requires_quorum(comite_call: Comite, login_as: Callable[..., FlaskClient]) -> None:
    c = comite_call
    sesion = comite.open_session(c.members[0], c.convocatoria)
    comite.set_attendance(c.members[0], sesion, [c.members[0].id])  # one present, two needed
    db.session.commit()
    client = login_as(c.members[0])
    url = f"{base(c)}/{sesion.id}"
    p = c.postulaciones[0]
    response = client.post(
        f"{url}/decisiones/{p.id}",
        data={"csrf_token": csrf(client, url), "outcome": "seleccionada", "reason": "La mejor"},
    )
    assert response.status_code == 409
    assert "quórum" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Decision.id))) == 0
    with pytest.raises(comite.ComiteError):
        comite.close_session(c.members[0], sesion)


def test_recused_member_cannot_decide_that_submission(
    comite_call: Comite, login_as: Callable[..., FlaskClient]
) -> None:
    c = comite_call
    p = c.postulaciones[0]
    member = c.members[1]
    db.session.add(
        Conflicto(
            user_id=member.id,
            convocatoria_id=c.convocatoria.id,
            tipo=TipoConflicto.POSTULACION,
            postulacion_id=p.id,
        )
    )
    db.session.commit()
    sesion = open_with_quorum(c)
    client = login_as(member)
    url = f"{base(c)}/{sesion.id}"
    html = client.get(url).get_data(as_text=True)
    assert f'/decisiones/{p.id}"' not in html  # no decision form for the submission it is recused from
    assert f'/decisiones/{c.postulaciones[1].id}"' in html
    response = client.post(
        f"{url}/decisiones/{p.id}",
        data={"csrf_token": csrf(client, url), "outcome": "seleccionada", "reason": "Me gusta"},
    )
    assert response.status_code == 409
    assert comite.decisions_of(sesion.id) == {}
    # Another submission: fine.
    other = c.postulaciones[1]
    response = client.post(
        f"{url}/decisiones/{other.id}",
        data={"csrf_token": csrf(client, url), "outcome": "seleccionada", "reason": "Buena"},
    )
    assert response.status_code == 302
    # Applying a proposal as the recused member leaves that submission to the others.
    runs = comite.run_solver(member, sesion, "rank")
    applied = comite.apply_proposal(member, sesion, runs[-1])
    assert p.folio in applied.skipped_recused
    assert p.id not in comite.decisions_of(sesion.id)
    # And the recusal is in the acta.
    html = client.get(f"{url}/acta").get_data(as_text=True)
    assert member.name in html and p.folio in html


def test_decision_needs_a_reason(comite_call: Comite) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    with pytest.raises(comite.ComiteError):
        comite.decide(c.members[0], sesion, c.postulaciones[0], "seleccionada", "   ")
    with pytest.raises(comite.ComiteError):
        comite.add_override(c.members[0], sesion, c.postulaciones[0], "incluir", "")


# --- proposal, close and lock ------------------------------------------------------------------------------


def test_apply_proposal_fills_every_decision(comite_call: Comite) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    runs = comite.run_solver(c.members[0], sesion, "total")
    assert [r.objective.value for r in runs] == ["rank", "total"]  # the chosen objective last: the proposal
    comite.apply_proposal(c.members[0], sesion, runs[-1])
    got = comite.decisions_of(sesion.id)
    assert len(got) == 6
    a, b, cc, d, e, low = c.postulaciones
    # Regions 08, 13, 05 in turn: a (08), b (13), cc (05) are the three best and cover every region.
    assert [got[p.id].outcome for p in (a, b, cc)] == [Resultado.SELECCIONADA] * 3
    assert got[d.id].outcome == got[e.id].outcome == Resultado.LISTA_ESPERA
    assert "Lista de espera, lugar 1" in got[d.id].reason and "lugar 2" in got[e.id].reason
    assert got[low.id].outcome == Resultado.NO_SELECCIONADA
    assert "Bajo el puntaje mínimo" in got[low.id].reason
    assert got[a.id].awarded_amount == 25 * MM and got[d.id].awarded_amount is None


def test_close_refused_with_undecided_submissions(
    comite_call: Comite, login_as: Callable[..., FlaskClient]
) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    comite.decide(c.members[0], sesion, c.postulaciones[0], "seleccionada", "La mejor")
    db.session.commit()
    client = login_as(c.members[0])
    url = f"{base(c)}/{sesion.id}"
    response = client.post(f"{url}/cerrar", data={"csrf_token": csrf(client, url), "confirm": "y"})
    assert response.status_code == 409
    assert "5 postulaciones" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SesionComite, sesion.id).status == EstadoSesion.ABIERTA


def test_decisions_cannot_change_after_close(
    comite_call: Comite, login_as: Callable[..., FlaskClient]
) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    client = login_as(c.members[0])
    url = f"{base(c)}/{sesion.id}"
    token = csrf(client, url)
    decide_all(c, sesion)
    p = c.postulaciones[3]
    change = {"csrf_token": token, "outcome": "seleccionada", "reason": "Cambio"}
    # The committee can change a decision with a reason while open ...
    assert client.post(f"{url}/decisiones/{p.id}", data=change).status_code == 302
    assert comite.decisions_of(sesion.id)[p.id].outcome == Resultado.SELECCIONADA
    back = {"csrf_token": token, "outcome": "lista_espera", "reason": "Vuelve a la lista"}
    assert client.post(f"{url}/decisiones/{p.id}", data=back).status_code == 302
    response = client.post(f"{url}/cerrar", data={"csrf_token": token, "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    before = {pid: (d.outcome, d.reason) for pid, d in comite.decisions_of(sesion.id).items()}
    events = db.session.scalar(sa.select(sa.func.count(EventoAuditoria.id)))
    # ... and after closing every change is refused, a replayed POST included, and nothing is written.
    for path, data in (
        (f"/decisiones/{p.id}", change),
        (f"/decisiones/{p.id}", back),
        ("/solver", {"csrf_token": token, "objective": "rank"}),
        ("/overrides", {"csrf_token": token, "folio": p.folio, "kind": "incluir", "reason": "X"}),
        ("/asistentes", {"csrf_token": token, "present": [str(c.members[2].id)]}),
        ("/cerrar", {"csrf_token": token, "confirm": "y"}),
    ):
        response = client.post(url + path, data=data)
        assert response.status_code == 409, path
        assert "está cerrada" in response.get_data(as_text=True), path
    db.session.expire_all()
    assert {pid: (d.outcome, d.reason) for pid, d in comite.decisions_of(sesion.id).items()} == before
    assert db.session.scalar(sa.select(sa.func.count(EventoAuditoria.id))) == events
    assert db.session.scalar(sa.select(sa.func.count(CorridaSolver.id))) == 2
    # The page shows no form any more.
    html = client.get(url).get_data(as_text=True)
    assert 'action="' + url + "/decisiones" not in html


def test_only_one_open_session(comite_call: Comite) -> None:
    c = comite_call
    comite.open_session(c.members[0], c.convocatoria)
    with pytest.raises(comite.ComiteError):
        comite.open_session(c.members[0], c.convocatoria)


# --- the solver's document -----------------------------------------------------------------------------


def test_solver_document_reproducible(comite_call: Comite, login_as: Callable[..., FlaskClient]) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    comite.add_override(c.members[0], sesion, c.postulaciones[4], "incluir", "Territorio prioritario")
    runs = comite.run_solver(c.members[0], sesion, "rank")
    db.session.commit()
    client = login_as(c.members[0])
    for run in runs:
        response = client.get(f"{base(c)}/{sesion.id}/corridas/{run.id}.json")
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert "attachment" in response.headers["Content-Disposition"]
        doc = json.loads(response.get_data())
        for key in (
            "budget",
            "objective",
            "min_score",
            "max_per_challenge",
            "max_count",
            "candidates",
            "must_include",
            "must_exclude",
            "selected",
            "objective_value",
            "input_sha256",
        ):
            assert key in doc
        assert doc["must_include"] == [c.postulaciones[4].id]
        # Anyone can re-solve it from the document alone: same hash, same selection.
        problem = seleccion.SelectionProblem(
            candidates=tuple(seleccion.Candidate(**cand) for cand in doc["candidates"]),
            budget=doc["budget"],
            objective=doc["objective"],
            min_score=doc["min_score"],
            max_per_challenge=doc["max_per_challenge"],
            max_count=doc["max_count"],
            must_include=frozenset(doc["must_include"]),
            must_exclude=frozenset(doc["must_exclude"]),
        )
        again = seleccion.selection_document(problem, seleccion.solve_selection(problem))
        assert again["input_sha256"] == doc["input_sha256"] == run.input_sha256
        assert again["selected"] == doc["selected"]
        assert c.postulaciones[4].id in doc["selected"]


def test_both_objectives_side_by_side(comite_call: Comite, login_as: Callable[..., FlaskClient]) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    comite.run_solver(c.members[0], sesion, "rank")
    db.session.commit()
    html = login_as(c.members[0]).get(f"{base(c)}/{sesion.id}").get_data(as_text=True)
    assert "Orden del ranking" in html and "Mayor puntaje total" in html
    assert "$75.000.000" in html  # total amount of each proposal
    assert "3 / 3" in html  # regions covered


def test_infeasible_rules_are_explained(comite_call: Comite, login_as: Callable[..., FlaskClient]) -> None:
    c = comite_call
    c.convocatoria.total_budget = 50 * MM  # three regions, two projects' worth of money
    db.session.commit()
    sesion = open_with_quorum(c)
    runs = comite.run_solver(c.members[0], sesion, "rank")
    db.session.commit()
    assert not runs[-1].feasible
    html = login_as(c.members[0]).get(f"{base(c)}/{sesion.id}").get_data(as_text=True)
    assert "Ninguna selección cumple todas las reglas" in html
    assert "presupuesto" in html
    with pytest.raises(comite.ComiteError):
        comite.apply_proposal(c.members[0], sesion, runs[-1])


# --- the acta ------------------------------------------------------------------------------------------


def test_acta_pdf_and_xlsx(comite_call: Comite, login_as: Callable[..., FlaskClient]) -> None:
    from openpyxl import load_workbook

    c = comite_call
    sesion = open_with_quorum(c)
    decide_all(c, sesion)
    comite.close_session(c.members[0], sesion)
    db.session.commit()
    client = login_as(c.members[0])
    url = f"{base(c)}/{sesion.id}"
    html = client.get(f"{url}/acta").get_data(as_text=True)
    assert "BORRADOR" not in html
    assert c.members[0].name in html and c.postulaciones[0].folio in html
    pdf = client.get(f"{url}/acta.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF")
    xlsx = client.get(f"{url}/acta.xlsx")
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.get_data()))
    sheet = wb["Decisiones"]
    rows = list(sheet.iter_rows(values_only=True))
    by_folio = {r[1]: r for r in rows[1:]}
    assert len(by_folio) == 6
    assert by_folio[c.postulaciones[0].folio][10] == "Seleccionada"
    assert "Bajo el puntaje mínimo" in by_folio[c.postulaciones[5].folio][11]
    solver_rows = list(wb["Solver"].iter_rows(values_only=True))
    assert any(sesion_run.input_sha256 in r for r in solver_rows for sesion_run in comite.runs_of(sesion.id))
    assert [r[0] for r in wb["Miembros"].iter_rows(values_only=True)][1:3] == [m.name for m in c.members[:2]]


def test_acta_is_a_draft_while_open(comite_call: Comite, login_as: Callable[..., FlaskClient]) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    html = login_as(c.members[0]).get(f"{base(c)}/{sesion.id}/acta").get_data(as_text=True)
    assert "BORRADOR" in html


def test_pdf_fetches_nothing_from_the_network(app: Any) -> None:
    from evaluacion.comite_acta import pdf_bytes

    data = pdf_bytes(
        '<img src="http://example.invalid/x.png"><link rel="stylesheet" href="https://example.invalid/a.css"><p>Hola</p>'
    )
    assert data.startswith(b"%PDF")


# --- waitlist promotion ------------------------------------------------------------------------------------


def test_waitlist_promotion(comite_call: Comite, login_as: Callable[..., FlaskClient]) -> None:
    c = comite_call
    a, b, cc, d, e, low = c.postulaciones
    first = open_with_quorum(c)
    decide_all(c, first)
    comite.close_session(c.members[0], first)
    db.session.commit()
    # A selected team declines: a second session starts from the closed decisions.
    second = open_with_quorum(c)
    assert outcomes(second) == outcomes(first)
    client = login_as(c.members[0])
    url = f"{base(c)}/{second.id}"
    token = csrf(client, url)
    response = client.post(
        f"{url}/decisiones/{b.id}",
        data={"csrf_token": token, "outcome": "declinada", "reason": "El equipo renunció"},
    )
    assert response.status_code == 302
    # Declining is only for a team selected in a closed session.
    response = client.post(
        f"{url}/decisiones/{d.id}", data={"csrf_token": token, "outcome": "declinada", "reason": "No"}
    )
    assert response.status_code == 409
    runs = comite.run_solver(c.members[0], second, "rank")
    doc = runs[-1].document
    assert set(doc["must_include"]) == {a.id, cc.id}
    assert b.id in doc["must_exclude"] and low.id not in doc["selected"]
    # b was the only idea of region 13 besides e: the regional rule brings e in ahead of d.
    assert set(doc["selected"]) == {a.id, cc.id, e.id}
    comite.apply_proposal(c.members[0], second, runs[-1])
    comite.close_session(c.members[0], second)
    db.session.commit()
    got = outcomes(second)
    assert got[b.id] == Resultado.DECLINADA
    assert got[e.id] == Resultado.SELECCIONADA
    assert got[d.id] == Resultado.LISTA_ESPERA
    assert got[a.id] == got[cc.id] == Resultado.SELECCIONADA
    # The closed selections stand with their reasons; the promoted one says why.
    assert comite.decisions_of(second.id)[a.id].reason == comite.decisions_of(first.id)[a.id].reason
    assert "Seleccionada por el solver" in comite.decisions_of(second.id)[e.id].reason
    # The first session is untouched.
    assert outcomes(first)[b.id] == Resultado.SELECCIONADA


def test_audit_events_for_everything(comite_call: Comite) -> None:
    c = comite_call
    sesion = open_with_quorum(c)
    comite.add_override(c.members[0], sesion, c.postulaciones[4], "incluir", "Prioridad")
    decide_all(c, sesion)
    comite.close_session(c.members[0], sesion)
    db.session.commit()
    actions = set(db.session.scalars(sa.select(EventoAuditoria.action)))
    assert {
        "comite.session_opened",
        "comite.attendance_recorded",
        "comite.override_set",
        "comite.solver_run",
        "comite.proposal_applied",
        "comite.session_closed",
    } <= actions


def test_pdf_fetcher_serves_only_local_static_files(app: Any) -> None:
    import os

    from evaluacion.comite_acta import _local_fetcher

    static = os.path.realpath(app.static_folder)
    fetcher = _local_fetcher(static)
    assert fetcher.fetch(f"file://{static}/css/comite.css").read()
    for url in (
        "http://example.invalid/a.css",
        "https://example.invalid/x.png",
        "file:///etc/passwd",
        f"file://{static}/../__init__.py",
        "data:text/plain,hola",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_session_pages_query_count_does_not_grow(
    comite_call: Comite,
    login_as: Callable[..., FlaskClient],
    make_postulacion: Callable[..., Any],
    make_organizacion: Callable[..., Any],
    make_user: Callable[..., User],
) -> None:
    from convocatorias.models import EstadoPostulacion
    from evaluacion.models import Rubrica
    from tests.evaluacion.test_pages import _count_queries

    c = comite_call
    client = login_as(c.members[0])
    reviewer = make_user(Role.EVALUADOR, convocatoria_id=c.convocatoria.id)
    rubrica = db.session.scalar(sa.select(Rubrica).where(Rubrica.convocatoria_id == c.convocatoria.id))

    def measure() -> list[int]:
        db.session.query(SesionComite).delete()
        db.session.commit()
        sesion = open_with_quorum(c)
        decide_all(c, sesion)
        url = f"{base(c)}/{sesion.id}"
        return [_count_queries(client, url + suffix) for suffix in ("", "/acta")]

    small = measure()
    desafio = c.postulaciones[0].desafio
    for i in range(12):
        p = make_postulacion(
            desafio,
            make_organizacion(region=("08", "13", "05")[i % 3]),
            status=EstadoPostulacion.ADMISIBLE,
            requested_amount=25 * MM,
        )
        give_score(reviewer, p, rubrica, 5)
    db.session.commit()
    assert measure() == small
