"""Admissibility: the checklist, the lead's decisions in scope, reconsideration within 5 business days and
only once, the phase guard, the bulk action, e-mails in the recipient's language, query count."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError

from convocatorias import admisibilidad as adm
from convocatorias.admisibilidad_models import (
    DEFAULT_REQUISITOS,
    DecisionAdmisibilidad,
    Reconsideracion,
    add_default_requisitos,
)
from convocatorias.models import Convocatoria, Desafio, EstadoPostulacion, Fase, Organizacion, Postulacion
from idea import chile
from idea.extensions import db
from idea.models import EventoAuditoria, Role, User
from tests.convocatorias.test_lead import add_postulaciones

ENVIADA = EstadoPostulacion.ENVIADA
THURSDAY_NOON = chile.from_santiago(datetime(2026, 9, 17, 12, 0))


@pytest.fixture
def call(make_convocatoria: Callable[..., Convocatoria]) -> Convocatoria:
    now = chile.utcnow()
    convocatoria = make_convocatoria(title="Fondo IDEA 2026", fase=Fase.ADMISIBILIDAD,
                                     submissions_open_at=now - timedelta(days=40),
                                     submissions_close_at=now - timedelta(days=2))
    add_default_requisitos(convocatoria)
    db.session.commit()
    return convocatoria


@pytest.fixture
def desafio(call: Convocatoria, make_desafio: Callable[..., Desafio]) -> Desafio:
    return make_desafio(call)


@pytest.fixture
def sent(desafio: Desafio, make_organizacion: Callable[..., Organizacion],
         make_postulacion: Callable[..., Postulacion]) -> Callable[..., Postulacion]:
    """A sent submission of an organisation of `region` (owner with `locale`)."""

    def factory(region: str = "13", locale: str | None = None) -> Postulacion:
        organizacion = make_organizacion(region=region)
        if locale:
            organizacion.owner.locale = locale
            db.session.commit()
        return make_postulacion(desafio, organizacion, status=ENVIADA)

    return factory


def requisito_ids(call: Convocatoria) -> list[int]:
    return [r.id for r in adm.requisitos_of(call.id)]


def refuse_data(call: Convocatoria, **extra: Any) -> dict[str, Any]:
    return {"admissible": "no", "requisitos": [str(requisito_ids(call)[1])],
            "reason": "El monto pedido supera el máximo.", **extra}


def decide_url(p: Postulacion) -> str:
    return f"/gestion/admisibilidad/{p.id}/decidir"


def owner_of(p: Postulacion) -> User:
    return p.organizacion.owner


def fresh(p: Postulacion) -> Postulacion:
    db.session.expire_all()
    return db.session.get(Postulacion, p.id)


# --- checklist ----------------------------------------------------------------------------------------

def test_a_new_call_starts_with_the_default_checklist_editable_while_draft(login_as: Any) -> None:
    admin = login_as(Role.ADMIN)
    response = admin.post("/admin/convocatorias/nueva", data={
        "title": "Fondo IDEA 2027", "year": "2027", "total_budget": "650000000", "min_amount": "20000000",
        "max_amount": "30000000", "max_submissions_per_org": "1", "vote_weight": "10"})
    assert response.status_code == 302, response.text
    call = db.session.scalars(sa.select(Convocatoria).where(Convocatoria.title == "Fondo IDEA 2027")).one()
    assert [r.text for r in adm.requisitos_of(call.id)] == list(DEFAULT_REQUISITOS)

    url = f"/admin/convocatorias/{call.id}/requisitos"
    assert "Requisitos de admisibilidad" in admin.get(url).text
    response = admin.post(url, data={"requisitos": "Carta de apoyo firmada\n\n  RUT vigente  \n"})
    assert response.status_code == 302
    assert [r.text for r in adm.requisitos_of(call.id)] == ["Carta de apoyo firmada", "RUT vigente"]
    assert db.session.scalar(sa.select(EventoAuditoria).where(
        EventoAuditoria.action == "admisibilidad.requisitos_updated")) is not None

    response = admin.post(url, data={"requisitos": "  \n "})
    assert response.status_code == 422 and "Escribe al menos un requisito." in response.text
    assert len(adm.requisitos_of(call.id)) == 2


def test_the_checklist_of_a_published_call_cannot_change(login_as: Any, call: Convocatoria) -> None:
    response = login_as(Role.ADMIN).post(f"/admin/convocatorias/{call.id}/requisitos",
                                         data={"requisitos": "Otro"})
    assert response.status_code == 422
    assert [r.text for r in adm.requisitos_of(call.id)] == list(DEFAULT_REQUISITOS)


def test_only_admins_edit_the_checklist(login_as: Any, call: Convocatoria) -> None:
    response = login_as(Role.ENCARGADO_TECNICO).post(f"/admin/convocatorias/{call.id}/requisitos",
                                                     data={"requisitos": "Otro"})
    assert response.status_code == 403


# --- decisions and scope ------------------------------------------------------------------------------

def test_a_biobio_lead_sees_and_decides_only_biobio(login_as: Any, call: Convocatoria, sent: Any,
                                                    outbox: Any) -> None:
    biobio, santiago = sent("08"), sent("13")
    lead = login_as(Role.ENCARGADO_TECNICO, region="08")
    html = lead.get(f"/gestion/convocatorias/{call.id}/admisibilidad").text
    assert biobio.folio in html and santiago.folio not in html

    assert lead.get(f"/gestion/admisibilidad/{santiago.id}").status_code == 404
    assert lead.post(decide_url(santiago), data={"admissible": "si"}).status_code == 404
    assert fresh(santiago).status == ENVIADA

    assert lead.get(f"/gestion/admisibilidad/{biobio.id}").status_code == 200
    assert lead.post(decide_url(biobio), data={"admissible": "si"}).status_code == 302
    assert fresh(biobio).status == EstadoPostulacion.ADMISIBLE
    # Bulk "all filtered" never reaches outside the scope either.
    lead.post(f"/gestion/convocatorias/{call.id}/admisibilidad/admisibles", data={"todas": "1"})
    assert fresh(santiago).status == ENVIADA


def test_a_lead_of_another_call_gets_404(login_as: Any, call: Convocatoria, sent: Any,
                                         make_convocatoria: Any) -> None:
    p = sent("08")
    other = make_convocatoria()
    lead = login_as(Role.ENCARGADO_TECNICO, convocatoria_id=other.id)
    assert lead.get(f"/gestion/convocatorias/{call.id}/admisibilidad").status_code == 404
    assert lead.post(decide_url(p), data={"admissible": "si"}).status_code == 404


@pytest.mark.parametrize("role", [Role.POSTULANTE, Role.EVALUADOR, Role.COMITE])
def test_applicants_and_other_staff_cannot_decide(login_as: Any, sent: Any, role: Role) -> None:
    p = sent()
    assert login_as(role).post(decide_url(p), data={"admissible": "si"}).status_code == 403
    assert login_as(owner_of(p)).post(decide_url(p), data={"admissible": "si"}).status_code == 403
    assert fresh(p).status == ENVIADA
    assert db.session.scalar(sa.select(sa.func.count(DecisionAdmisibilidad.id))) == 0


def test_a_refusal_names_requirements_and_reason_and_notifies_in_spanish(
        login_as: Any, call: Convocatoria, sent: Any, outbox: Any) -> None:
    p = sent()
    lead = login_as(Role.ENCARGADO_TECNICO)
    assert lead.post(decide_url(p), data=refuse_data(call)).status_code == 302
    p = fresh(p)
    assert p.status == EstadoPostulacion.INADMISIBLE
    decision = adm.decision_of(p)
    assert [r.text for r in decision.incumplidos] == [DEFAULT_REQUISITOS[1]]
    assert decision.reason == "El monto pedido supera el máximo." and decision.decided_by_id == lead.user.id
    assert p.historial[-1].to_status == EstadoPostulacion.INADMISIBLE
    assert "El monto pedido supera el máximo." in p.historial[-1].note
    event = db.session.scalars(sa.select(EventoAuditoria).where(
        EventoAuditoria.action == "admisibilidad.decided")).one()
    assert event.actor_id == lead.user.id and event.after["admissible"] is False

    (message,) = outbox.to(owner_of(p).email)
    assert message.subject == f"Admisibilidad de tu idea {p.folio}"
    assert "no es admisible" in message.body and DEFAULT_REQUISITOS[1] in message.body
    assert "El monto pedido supera el máximo." in message.body
    assert f"/mis-postulaciones/{p.id}" in message.body and "http" in message.body
    # The applicant's page says it plainly, with the deadline and the form.
    html = login_as(owner_of(p)).get(f"/mis-postulaciones/{p.id}").text
    assert "No admisible." in html and "El monto pedido supera el máximo." in html
    assert "Pedir reconsideración" in html


def test_the_outcome_mail_is_in_the_applicants_language(login_as: Any, call: Convocatoria, sent: Any,
                                                        outbox: Any) -> None:
    p = sent(locale="en")
    login_as(Role.ENCARGADO_TECNICO).post(decide_url(p), data={"admissible": "si"})
    (message,) = outbox.to(owner_of(p).email)
    assert message.subject == f"Admissibility of your idea {p.folio}"
    assert "is admissible" in message.body


@pytest.mark.parametrize("data, message", [
    ({"admissible": "no", "requisitos": [], "reason": "Falta algo."},
     "Marca al menos un requisito no cumplido."),
    ({"admissible": "no", "reason": "  "}, "Escribe el motivo por el que no es admisible."),
    ({"admissible": "tal vez"}, ""),
    ({"admissible": "no", "requisitos": ["999999"], "reason": "x"}, ""),
    ({"admissible": "no", "requisitos": ["abc"], "reason": "x"}, ""),
])
def test_bad_decisions_are_refused_and_nothing_is_written(login_as: Any, call: Convocatoria, sent: Any,
                                                          outbox: Any, data: dict[str, Any],
                                                          message: str) -> None:
    p = sent()
    if data.get("requisitos") is None and data.get("admissible") == "no":
        data = {**data, "requisitos": [str(requisito_ids(call)[0])]}
    response = login_as(Role.ENCARGADO_TECNICO).post(decide_url(p), data=data)
    assert response.status_code == 422
    assert message in response.text
    assert fresh(p).status == ENVIADA
    assert db.session.scalar(sa.select(sa.func.count(DecisionAdmisibilidad.id))) == 0
    assert not outbox.to(owner_of(p).email)


def test_a_decision_is_made_once_and_only_in_the_admissibility_phase(
        login_as: Any, call: Convocatoria, sent: Any) -> None:
    p = sent()
    lead = login_as(Role.ENCARGADO_TECNICO)
    assert lead.post(decide_url(p), data={"admissible": "si"}).status_code == 302
    response = lead.post(decide_url(p), data=refuse_data(call))
    assert response.status_code == 422 and "ya tiene una decisión" in response.text
    assert fresh(p).status == EstadoPostulacion.ADMISIBLE

    q = sent()
    call.fase = Fase.EVALUACION
    db.session.commit()
    response = lead.post(decide_url(q), data={"admissible": "si"})
    assert response.status_code == 422 and "etapa de admisibilidad" in response.text


def test_the_database_keeps_one_decision_per_submission(call: Convocatoria, sent: Any) -> None:
    p = sent()
    db.session.add(DecisionAdmisibilidad(postulacion_id=p.id, admissible=True))
    db.session.commit()
    db.session.add(DecisionAdmisibilidad(postulacion_id=p.id, admissible=True))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(DecisionAdmisibilidad(postulacion_id=sent().id, admissible=False, reason=None))
    with pytest.raises(IntegrityError):  # a refusal without a reason
        db.session.commit()
    db.session.rollback()


# --- bulk ---------------------------------------------------------------------------------------------

def test_bulk_marks_the_selected_or_every_filtered_submission_admissible(
        login_as: Any, call: Convocatoria, sent: Any, outbox: Any) -> None:
    a, b, c = sent("13"), sent("13"), sent("08")
    lead = login_as(Role.ENCARGADO_TECNICO)
    url = f"/gestion/convocatorias/{call.id}/admisibilidad/admisibles"
    response = lead.post(url, data={})
    assert response.status_code == 422 and "Selecciona al menos una postulación." in response.text

    response = lead.post(url, data={"ids": ["²", "x", "9" * 40]})
    assert response.status_code == 422 and "Selecciona al menos una postulación." in response.text
    response = lead.post(url + "?convocatoria_id=7&region=08&pendientes=1", data={"ids": [str(a.id)]})
    assert response.status_code == 302  # a's region is not 08: nothing to do, and no 500 either
    assert fresh(a).status == ENVIADA
    assert lead.post(url, data={"ids": [str(a.id)]}).status_code == 302
    assert [fresh(x).status for x in (a, b, c)] == [EstadoPostulacion.ADMISIBLE, ENVIADA, ENVIADA]

    # "All filtered" with region=08 in the query string: only c.
    assert lead.post(url + "?region=08", data={"todas": "1"}).status_code == 302
    assert [fresh(x).status for x in (a, b, c)] == [EstadoPostulacion.ADMISIBLE, ENVIADA,
                                                     EstadoPostulacion.ADMISIBLE]
    assert len(outbox.to(owner_of(a).email)) == 1 and len(outbox.to(owner_of(c).email)) == 1
    assert not outbox.to(owner_of(b).email)


# --- reconsideration ------------------------------------------------------------------------------------

@pytest.fixture
def refused(app: Flask, call: Convocatoria, sent: Any, make_user: Any) -> Postulacion:
    """A submission refused on Thursday 17 September 2026 at noon, Chilean time."""
    p = sent()
    lead = make_user(Role.ENCARGADO_TECNICO)
    with app.test_request_context():
        adm.decide(lead, p, admissible=False, requisito_ids=requisito_ids(call)[:1], reason="Falta el RUT.",
                   now=THURSDAY_NOON)
    db.session.commit()
    return p


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(chile, "utcnow", lambda: moment)

    return set_now


def ask_url(p: Postulacion) -> str:
    return f"/mis-postulaciones/{p.id}/reconsideracion"


def test_the_deadline_is_five_chilean_business_days_after_the_notice(refused: Postulacion) -> None:
    # 18 and 19 September are public holidays (Fiestas Patrias), then a weekend.
    deadline = adm.reconsideration_deadline(adm.decision_of(refused))
    local = chile.to_santiago(deadline)
    assert (local.date().isoformat(), local.hour, local.minute) == ("2026-09-25", 23, 59)


def test_reconsideration_on_the_last_day_is_taken(login_as: Any, refused: Postulacion, clock: Any) -> None:
    clock(chile.from_santiago(datetime(2026, 9, 25, 23, 59)))
    owner = login_as(owner_of(refused))
    response = owner.post(ask_url(refused), data={"text": "Sí adjuntamos el RUT, página 2."})
    assert response.status_code == 302
    rec = adm.reconsideracion_of(fresh(refused))
    assert rec.text == "Sí adjuntamos el RUT, página 2." and rec.is_pending
    assert "Sí adjuntamos el RUT, página 2." in fresh(refused).historial[-1].note


def test_reconsideration_after_five_business_days_is_refused(login_as: Any, refused: Postulacion,
                                                             clock: Any) -> None:
    clock(chile.from_santiago(datetime(2026, 9, 26, 0, 0, 30)))
    owner = login_as(owner_of(refused))
    assert "Pedir reconsideración</button>" not in owner.get(f"/mis-postulaciones/{refused.id}").text
    response = owner.post(ask_url(refused), data={"text": "Por favor."})
    assert response.status_code == 422
    assert "El plazo para pedir reconsideración terminó el 25 de septiembre de 2026" in response.text
    assert db.session.scalar(sa.select(sa.func.count(Reconsideracion.id))) == 0


def test_reconsideration_is_asked_only_once(login_as: Any, refused: Postulacion, clock: Any) -> None:
    clock(chile.from_santiago(datetime(2026, 9, 21, 10, 0)))
    owner = login_as(owner_of(refused))
    assert owner.post(ask_url(refused), data={"text": "Primera vez."}).status_code == 302
    response = owner.post(ask_url(refused), data={"text": "Segunda vez."})
    assert response.status_code == 422 and "solo se puede pedir una vez" in response.text
    assert [r.text for r in db.session.scalars(sa.select(Reconsideracion))] == ["Primera vez."]
    # And the database holds "once" even past the operation.
    decision = adm.decision_of(refused)
    db.session.add(Reconsideracion(postulacion_id=refused.id, decision_id=decision.id, text="Otra"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_only_the_owner_asks_and_with_a_text(login_as: Any, refused: Postulacion, clock: Any) -> None:
    clock(chile.from_santiago(datetime(2026, 9, 21, 10, 0)))
    assert login_as(Role.POSTULANTE).post(ask_url(refused), data={"text": "x"}).status_code == 404
    response = login_as(owner_of(refused)).post(ask_url(refused), data={"text": "   "})
    assert response.status_code == 422 and "Escribe por qué se debería reconsiderar" in response.text
    assert db.session.scalar(sa.select(sa.func.count(Reconsideracion.id))) == 0


@pytest.mark.parametrize("accept", [True, False])
def test_the_lead_answers_and_the_applicant_is_told(login_as: Any, call: Convocatoria, refused: Postulacion,
                                                    clock: Any, outbox: Any, accept: bool) -> None:
    clock(chile.from_santiago(datetime(2026, 9, 21, 10, 0)))
    login_as(owner_of(refused)).post(ask_url(refused), data={"text": "El RUT está en la página 2."})
    lead = login_as(Role.ENCARGADO_TECNICO)
    url = f"/gestion/admisibilidad/{refused.id}/reconsideracion"
    response = lead.post(url, data={"accept": "si" if accept else "no", "answer": ""})
    assert response.status_code == 422 and "Escribe el motivo de tu respuesta." in response.text
    response = lead.post(url, data={"accept": "si" if accept else "no", "answer": "Revisado: correcto."})
    assert response.status_code == 302
    p = fresh(refused)
    assert p.status == (EstadoPostulacion.ADMISIBLE if accept else EstadoPostulacion.INADMISIBLE)
    notes = " ".join(c.note or "" for c in p.historial)
    assert "El RUT está en la página 2." in notes and "Revisado: correcto." in notes
    event = db.session.scalar(sa.select(EventoAuditoria).where(
        EventoAuditoria.action == "admisibilidad.reconsideration_answered"))
    assert event.after["answer"] == "Revisado: correcto."
    (message,) = [m for m in outbox.to(owner_of(p).email) if m.subject.startswith("Respuesta")]
    assert message.subject == f"Respuesta a tu recurso de reposición: {p.folio}"
    assert ("fue acogido" if accept else "fue rechazado") in message.body
    assert lead.post(url, data={"accept": "si", "answer": "Otra vez"}).status_code == 422


# --- phase guard ----------------------------------------------------------------------------------------

def test_the_call_cannot_leave_admissibility_with_pending_work(app: Flask, login_as: Any, call: Convocatoria,
                                                               sent: Any, refused: Postulacion,
                                                               clock: Any) -> None:
    sent(), sent()
    clock(chile.from_santiago(datetime(2026, 9, 21, 10, 0)))
    login_as(owner_of(refused)).post(ask_url(refused), data={"text": "Revisen por favor."})
    admin = login_as(Role.ADMIN)
    response = admin.post(f"/admin/convocatorias/{call.id}/fase", data={"target": "evaluacion"})
    assert response.status_code == 422
    assert "hay 2 postulación(es) enviada(s) sin decisión y 1 recurso(s) de reposición" in response.text
    link = f"http://localhost/gestion/convocatorias/{call.id}/admisibilidad?pendientes=1"
    assert f'href="{link}"' in response.text
    db.session.expire_all()
    assert db.session.get(Convocatoria, call.id).fase == Fase.ADMISIBILIDAD
    # The linked list shows exactly the pending ones.
    html = admin.get(f"/gestion/convocatorias/{call.id}/admisibilidad?pendientes=1").text
    assert "3 postulaciones coinciden" in html

    with app.test_request_context():
        for p in db.session.scalars(sa.select(Postulacion).where(Postulacion.status == ENVIADA)).all():
            adm.decide(admin.user, p, admissible=True)
        adm.answer_reconsideration(admin.user, adm.reconsideracion_of(refused), accept=False, answer="No.")
    db.session.commit()
    response = admin.post(f"/admin/convocatorias/{call.id}/fase", data={"target": "evaluacion"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Convocatoria, call.id).fase == Fase.EVALUACION


# --- performance ----------------------------------------------------------------------------------------

@pytest.fixture
def count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def counter(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", counter)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", counter)


def test_the_admissibility_list_query_count_does_not_grow(login_as: Any, call: Convocatoria, desafio: Desafio,
                                                          make_organizacion: Any, make_user: Any,
                                                          count_queries: list[str]) -> None:
    orgs = [make_organizacion(region=code) for code in ("13", "08")]
    lead_user = make_user(Role.ENCARGADO_TECNICO)

    def add(start: int, count: int) -> None:
        for i in range(start, start + count):
            (p,) = add_postulaciones(desafio, orgs[i % 2], 1, start=i)
            if i % 3 == 0:  # some decided, some with a pending reconsideration
                decision = DecisionAdmisibilidad(postulacion_id=p.id, admissible=False, reason="x",
                                                 decided_at=datetime.now(UTC))
                p.status = EstadoPostulacion.INADMISIBLE
                db.session.add(decision)
                db.session.flush()
                db.session.add(Reconsideracion(postulacion_id=p.id, decision_id=decision.id, text="y"))
        db.session.commit()

    add(1, 6)
    client = login_as(lead_user)
    url = f"/gestion/convocatorias/{call.id}/admisibilidad"
    client.get(url)

    def queries_for() -> int:
        count_queries.clear()
        assert client.get(url).status_code == 200
        return len(count_queries)

    small = queries_for()
    add(7, 60)
    assert queries_for() == small, count_queries


# --- who may decide, what the applicant reads -------------------------------------------------------------

@pytest.mark.parametrize("who, may", [
    ({"roles": [Role.ADMIN]}, True),
    ({"roles": [Role.ENCARGADO_TECNICO]}, True),
    ({"roles": [Role.ENCARGADO_TECNICO], "region": "13"}, True),
    ({"roles": [Role.ENCARGADO_TECNICO], "region": "08"}, False),
    ({"roles": [Role.ENCARGADO_TECNICO], "other_call": True}, False),
    ({"roles": [Role.EVALUADOR]}, False),
    ({"roles": [Role.COMITE]}, False),
    ({"owner": True}, False),
])
def test_can_decide(make_user: Any, make_convocatoria: Any, sent: Any, who: dict[str, Any],
                    may: bool) -> None:
    p = sent("13")
    if who.get("owner"):
        user = owner_of(p)
    else:
        call_id = make_convocatoria().id if who.get("other_call") else None
        user = make_user(*who["roles"], region=who.get("region"), convocatoria_id=call_id)
    assert adm.can_decide(user, p) is may


def test_the_applicant_reads_under_review_then_admissible(login_as: Any, sent: Any) -> None:
    p = sent()
    owner = login_as(owner_of(p))
    assert "En evaluación: el equipo técnico está revisando" in owner.get(f"/mis-postulaciones/{p.id}").text
    login_as(Role.ENCARGADO_TECNICO).post(decide_url(p), data={"admissible": "si"})
    html = owner.get(f"/mis-postulaciones/{p.id}").text
    assert "Admisible.</strong> Tu idea cumple los requisitos formales" in html
    assert "Pedir reconsideración" not in html


def test_the_reason_is_escaped_on_pages_and_in_the_mail(login_as: Any, call: Convocatoria, sent: Any,
                                                        outbox: Any) -> None:
    p = sent()
    data = refuse_data(call, reason="<script>alert(1)</script>")
    assert login_as(Role.ENCARGADO_TECNICO).post(decide_url(p), data=data).status_code == 302
    html = login_as(owner_of(p)).get(f"/mis-postulaciones/{p.id}").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    (message,) = outbox.to(owner_of(p).email)
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
