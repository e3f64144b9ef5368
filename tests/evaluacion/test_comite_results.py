"""The committee's published results: publication only of a closed session, nothing public before, no
personal data on the public page or in other applicants' e-mails, anonymous feedback only when the call
shares it, and e-mails sent once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias.models import Fase, Postulacion
from evaluacion import comite_results as results
from evaluacion.comite_models import (
    Decision,
    EstadoSesion,
    ReglasSeleccion,
    Resultado,
    SesionComite,
)
from evaluacion.models import EstadoAsignacion, Puntaje
from idea.chile import format_rut, utcnow
from idea.extensions import db
from idea.jobs import commit
from idea.models import EventoAuditoria, Role, User
from tests.evaluacion.conftest import Escenario, assign

OUTCOMES = [Resultado.SELECCIONADA, Resultado.LISTA_ESPERA, Resultado.NO_SELECCIONADA, Resultado.SELECCIONADA]


@dataclass
class Comite:
    e: Escenario
    sesion: SesionComite
    member: User

    @property
    def convocatoria(self) -> Any:
        return self.e.convocatoria

    @property
    def postulaciones(self) -> list[Postulacion]:
        return self.e.postulaciones


def _score(reviewer: User, p: Postulacion, e: Escenario, value: int) -> None:
    a = assign(reviewer, p)
    a.puntajes = [
        Puntaje(criterio_id=c.id, value=value, comment=f"Comentario {value} sobre {c.name}")
        for c in e.rubrica.criterios
    ]
    a.overall_comment = f"Opinión general {value}"
    a.status = EstadoAsignacion.ENVIADA
    a.submitted_at = utcnow()
    db.session.commit()


@pytest.fixture
def comite(escenario: Callable[..., Escenario], make_user: Callable[..., User]) -> Callable[..., Comite]:
    """A call in `comite` with four scored submissions, a closed session with a decision on each."""

    def factory(*, closed: bool = True, share_feedback: bool = True, n: int = 4) -> Comite:
        e = escenario(n=n, reviewers=2, regions=("08", "13", "05"))
        e.convocatoria.fase = Fase.COMITE
        for i, p in enumerate(e.postulaciones):
            p.created_by.name = f"Postulante Apellido{'xyzw'[i % 4]}{i}"
            p.organizacion.contact_phone = f"+5691234567{i}"
        for p in e.postulaciones:
            for i, reviewer in enumerate(e.reviewers):
                _score(reviewer, p, e, 5 + i)
        member = make_user(Role.COMITE, name="Carmen Comité", convocatoria_id=e.convocatoria.id)
        db.session.add(ReglasSeleccion(convocatoria_id=e.convocatoria.id, share_feedback=share_feedback))
        now = utcnow()
        sesion = SesionComite(
            convocatoria_id=e.convocatoria.id,
            number=1,
            opened_by_id=member.id,
            opened_at=now - timedelta(hours=2),
        )
        if closed:
            sesion.status, sesion.closed_at, sesion.closed_by_id = EstadoSesion.CERRADA, now, member.id
        db.session.add(sesion)
        db.session.flush()
        for i, p in enumerate(e.postulaciones):
            outcome = OUTCOMES[i % len(OUTCOMES)]
            db.session.add(
                Decision(
                    sesion_id=sesion.id,
                    convocatoria_id=e.convocatoria.id,
                    postulacion_id=p.id,
                    outcome=outcome,
                    reason=f"Motivo {i}",
                    final_score=6.4 - i * 0.1,
                    rank=i + 1,
                    awarded_amount=p.requested_amount if outcome == Resultado.SELECCIONADA else None,
                )
            )
        db.session.commit()
        return Comite(e, sesion, member)

    return factory


def _url(c: Comite) -> str:
    return f"/convocatorias/{c.convocatoria.slug}/resultados"


def _publish_url(c: Comite) -> str:
    return f"/gestion/comite/sesiones/{c.sesion.id}/publicar"


# --- publication ---------------------------------------------------------------------------------------


def test_an_open_session_cannot_be_published(
    comite: Callable[..., Comite], login_as: Any, outbox: Any
) -> None:
    c = comite(closed=False)
    with pytest.raises(results.ResultadosError):
        results.publish_results(c.member, c.sesion)
    db.session.rollback()
    client = login_as(c.member)
    page = client.get(_publish_url(c))
    assert page.status_code == 200
    assert "La sesión sigue abierta" in page.text
    response = client.post(_publish_url(c))
    assert response.status_code == 409
    assert "Solo se pueden publicar los resultados de una sesión cerrada" in response.text
    db.session.expire_all()
    assert db.session.get(SesionComite, c.sesion.id).results_published_at is None
    assert len(outbox) == 0


def test_the_committee_publishes_once_with_an_audit_event(
    comite: Callable[..., Comite], login_as: Any, outbox: Any
) -> None:
    c = comite()
    client = login_as(c.member)
    response = client.post(_publish_url(c))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(c))
    db.session.expire_all()
    assert db.session.get(SesionComite, c.sesion.id).results_published_at is not None
    event = db.session.scalar(
        sa.select(EventoAuditoria).where(EventoAuditoria.action == "comite.results_published")
    )
    assert event is not None and event.actor_id == c.member.id
    assert event.after["count_seleccionada"] == 2
    again = client.post(_publish_url(c))
    assert again.status_code == 409
    assert "ya están publicados" in again.text


@pytest.mark.parametrize("role", [Role.POSTULANTE, Role.EVALUADOR, Role.ENCARGADO_TECNICO])
def test_only_the_committee_may_publish(comite: Callable[..., Comite], login_as: Any, role: Role) -> None:
    c = comite()
    client = login_as(role)
    assert client.get(_publish_url(c)).status_code == 403
    assert client.post(_publish_url(c)).status_code == 403
    db.session.expire_all()
    assert db.session.get(SesionComite, c.sesion.id).results_published_at is None


def test_a_member_of_another_calls_committee_or_of_one_region_cannot_publish(
    comite: Callable[..., Comite], login_as: Any, make_convocatoria: Any
) -> None:
    c = comite()
    other = make_convocatoria()
    assert login_as(Role.COMITE, convocatoria_id=other.id).post(_publish_url(c)).status_code == 404
    assert login_as(Role.COMITE, region="08").post(_publish_url(c)).status_code == 404
    assert login_as(Role.ADMIN).get(_publish_url(c)).status_code == 200
    db.session.expire_all()
    assert db.session.get(SesionComite, c.sesion.id).results_published_at is None


# --- the public page -----------------------------------------------------------------------------------


def test_nothing_is_public_before_publication(
    comite: Callable[..., Comite], client: Any, login_as: Any
) -> None:
    c = comite()
    page = client.get(_url(c))
    assert page.status_code == 200
    assert "Los resultados de esta convocatoria aún no se han publicado" in page.text
    for p in c.postulaciones:
        assert p.title not in page.text
        assert p.folio not in page.text
    assert "/resultados" not in client.get(f"/convocatorias/{c.convocatoria.slug}").text
    assert results.public_results(c.convocatoria) is None

    results.publish_results(c.member, c.sesion)
    commit()
    page = client.get(_url(c))
    assert "aún no se han publicado" not in page.text
    for p in c.postulaciones:
        assert p.title in page.text  # every admissible idea is in the ranked repository
    call_page = client.get(f"/convocatorias/{c.convocatoria.slug}").text
    assert _url(c) in call_page


def test_the_public_page_shows_the_selection_by_region_and_challenge_with_bands(
    comite: Callable[..., Comite], client: Any
) -> None:
    c = comite()
    results.publish_results(c.member, c.sesion)
    commit()
    data = results.public_results(c.convocatoria)
    assert data is not None
    selected = {c.postulaciones[0].folio, c.postulaciones[3].folio}
    assert {f.folio for f in data.selected} == selected
    assert [f.rank for f in data.repository] == [1, 2, 3, 4]
    assert data.repository[0].band == "6,0–7,0"  # 6.4 on the 1–7 scale
    assert results.score_band(7.0, 1, 7) == "6,0–7,0" and results.score_band(4.0, 1, 7) == "4,0–5,0"
    assert data.total_awarded == 50_000_000
    page = client.get(_url(c)).text
    assert "Ideas seleccionadas por región" in page and "Ideas seleccionadas por desafío" in page
    assert "Biobío" in page
    assert "$50.000.000" in page
    assert "6,0–7,0" in page
    assert "6,4" not in page  # the band, never the exact score


def test_the_public_page_and_the_mails_hold_no_personal_data(
    comite: Callable[..., Comite], client: Any, outbox: Any
) -> None:
    c = comite()
    results.publish_results(c.member, c.sesion)
    commit()
    page = client.get(_url(c)).text
    personal = []
    for p in c.postulaciones:
        org, owner = p.organizacion, p.created_by
        personal += [org.name, org.rut, format_rut(org.rut), owner.name, owner.email]
        personal += [v for v in (org.contact_name, org.contact_email, org.contact_phone) if v]
    personal += [r.name for r in c.e.reviewers] + [r.email for r in c.e.reviewers]
    personal += [c.member.name, c.member.email]
    for value in personal:
        assert value not in page, value
    # Each applicant's e-mail names only their own idea: nothing of the others, no reviewer.
    for p in c.postulaciones:
        (message,) = outbox.to(p.created_by.email)
        body = message.body + (message.html or "")
        others = [q for q in c.postulaciones if q.id != p.id]
        for q in others:
            assert q.title not in body
            assert q.created_by.email not in body and q.created_by.name not in body
            assert q.organizacion.name not in body
        for r in c.e.reviewers:
            assert r.name not in body and r.email not in body
        assert c.member.name not in body


# --- the e-mails ---------------------------------------------------------------------------------------


def test_every_applicant_gets_their_outcome_with_anonymous_feedback(
    comite: Callable[..., Comite], outbox: Any
) -> None:
    c = comite(share_feedback=True)
    results.publish_results(c.member, c.sesion)
    commit()
    assert len(outbox) == 4
    expected = {0: "Seleccionada", 1: "Lista de espera", 2: "No seleccionada", 3: "Seleccionada"}
    for i, p in enumerate(c.postulaciones):
        (message,) = outbox.to(p.created_by.email)
        assert p.folio in message.subject
        assert f"Resultado: {expected[i]}." in message.body
        assert f"Motivo {i}" in message.body
        assert "Evaluador/a 1" in message.body and "Evaluador/a 2" in message.body
        assert "Evaluador/a 1" in message.html
        criterio = c.e.rubrica.criterios[0].name
        assert f"- {criterio}: 5" in message.body and f"- {criterio}: 6" in message.body
        assert "Opinión general 5" in message.body and "Comentario 6 sobre" in message.body
        assert f"/mis-postulaciones/{p.id}" in message.body
    assert "$25.000.000" in outbox.to(c.postulaciones[0].created_by.email)[0].body


def test_no_feedback_when_the_call_does_not_share_it(comite: Callable[..., Comite], outbox: Any) -> None:
    c = comite(share_feedback=False)
    results.publish_results(c.member, c.sesion)
    commit()
    assert len(outbox) == 4
    for message in outbox:
        assert "Evaluador/a" not in message.body and "Evaluador/a" not in message.html
        assert "Comentario 5" not in message.body and "Opinión general" not in message.body


def test_mails_are_sent_once(comite: Callable[..., Comite], outbox: Any) -> None:
    c = comite()
    results.publish_results(c.member, c.sesion)
    commit()
    assert len(outbox) == 4
    assert results.notify_outcomes(c.convocatoria.id) == 0  # a re-run (or a retried job) sends nothing
    assert len(outbox) == 4
    assert all(d.notified_at is not None for d in db.session.scalars(sa.select(Decision)))


def test_a_later_session_tells_only_the_changed_outcomes(comite: Callable[..., Comite], outbox: Any) -> None:
    c = comite()
    results.publish_results(c.member, c.sesion)
    commit()
    assert len(outbox) == 4
    # The first selected declines; the waitlisted idea is promoted in a second session.
    now = utcnow()
    second = SesionComite(
        convocatoria_id=c.convocatoria.id,
        number=2,
        status=EstadoSesion.CERRADA,
        opened_at=now,
        closed_at=now + timedelta(minutes=5),
    )
    db.session.add(second)
    db.session.flush()
    first, waiting, rejected = c.postulaciones[0], c.postulaciones[1], c.postulaciones[2]
    db.session.add_all(
        [
            Decision(
                sesion_id=second.id,
                convocatoria_id=c.convocatoria.id,
                postulacion_id=first.id,
                outcome=Resultado.DECLINADA,
                reason="El equipo declinó",
                rank=1,
            ),
            Decision(
                sesion_id=second.id,
                convocatoria_id=c.convocatoria.id,
                postulacion_id=waiting.id,
                outcome=Resultado.SELECCIONADA,
                reason="Sube desde la lista de espera",
                rank=2,
                awarded_amount=20_000_000,
            ),
            Decision(
                sesion_id=second.id,
                convocatoria_id=c.convocatoria.id,
                postulacion_id=rejected.id,
                outcome=Resultado.NO_SELECCIONADA,
                reason="Motivo 2",
                rank=3,
            ),
        ]
    )
    db.session.commit()
    # Closed but not yet published: the public page still shows the first session's selection.
    assert results.current_outcomes(c.convocatoria)[waiting.id].outcome == Resultado.SELECCIONADA
    data = results.public_results(c.convocatoria)
    assert data is not None and waiting.folio not in {f.folio for f in data.selected}
    with pytest.raises(results.ResultadosError):
        results.publish_results(c.member, c.sesion)  # the older one is published already
    results.publish_results(c.member, second)
    commit()
    data = results.public_results(c.convocatoria)
    assert data is not None
    assert {f.folio for f in data.selected} == {waiting.folio, c.postulaciones[3].folio}
    # The declined and promoted teams hear again; the unchanged refusal is not sent twice.
    assert len(outbox.to(first.created_by.email)) == 2
    assert len(outbox.to(waiting.created_by.email)) == 2
    assert len(outbox.to(rejected.created_by.email)) == 1
    assert len(outbox) == 6


# --- performance ---------------------------------------------------------------------------------------


@pytest.fixture
def count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def counter(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", counter)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", counter)


def test_the_public_page_query_count_does_not_grow_with_ideas(
    comite: Callable[..., Comite], client: Any, count_queries: list[str], make_postulacion: Any
) -> None:
    c = comite(n=4)
    results.publish_results(c.member, c.sesion)
    commit()
    client.get(_url(c))

    def queries() -> int:
        count_queries.clear()
        assert client.get(_url(c)).status_code == 200
        return len(count_queries)

    small = queries()
    first = list(count_queries)
    desafio = c.postulaciones[0].desafio
    for i in range(20):
        p = make_postulacion(desafio, c.postulaciones[i % 4].organizacion, status=c.postulaciones[0].status)
        db.session.add(
            Decision(
                sesion_id=c.sesion.id,
                convocatoria_id=c.convocatoria.id,
                postulacion_id=p.id,
                outcome=Resultado.SELECCIONADA if i % 3 == 0 else Resultado.NO_SELECCIONADA,
                final_score=4.5,
                rank=10 + i,
                awarded_amount=20_000_000,
            )
        )
    db.session.commit()
    queries()
    big = queries()
    assert big == small, "\n".join(q[:150] for q in count_queries + ["----"] + first)


def test_the_applicant_sees_the_outcome_on_their_page_only_once_published(
    comite: Callable[..., Comite], login_as: Any
) -> None:
    c = comite()
    p = c.postulaciones[1]
    client = login_as(p.created_by)
    url = f"/mis-postulaciones/{p.id}"
    page = client.get(url)
    assert page.status_code == 200
    assert "Decisión del comité" not in page.text and "Lista de espera" not in page.text
    results.publish_results(c.member, c.sesion)
    commit()
    page = client.get(url).text
    assert "Decisión del comité" in page
    assert "Resultado: Lista de espera." in page and "Motivo 1" in page
    assert _url(c) in page


def test_the_demo_data_has_a_second_committee_member_once() -> None:
    results.seed_demo_second_member()
    results.seed_demo_second_member()
    db.session.commit()
    members = db.session.scalars(sa.select(User).where(User.email == results.DEMO_SECOND_MEMBER[0])).all()
    assert len(members) == 1
    assert members[0].has_role(Role.COMITE) and members[0].password_hash
