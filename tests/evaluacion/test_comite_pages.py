"""The committee's pages: who reaches them, recusal, filters and order, the vote line, and query counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from convocatorias.models import EstadoPostulacion, Fase, Postulacion
from evaluacion.comite_models import ReglasSeleccion
from evaluacion.comite_permissions import can_see_postulacion, recusals
from evaluacion.models import Asignacion, Conflicto, EstadoAsignacion, Puntaje, TipoConflicto
from evaluacion.votacion_models import Preseleccion
from idea.chile import utcnow
from idea.extensions import db
from idea.models import EventoAuditoria, Role, User
from tests.evaluacion.conftest import Escenario
from tests.evaluacion.test_comite_ranking import give_score, set_votes


@pytest.fixture
def call(escenario: Callable[..., Escenario]) -> Escenario:
    """A call in `comite`: four scored submissions in two regions, B the most voted."""
    e = escenario(n=4, reviewers=2, regions=("08", "13"))
    e.convocatoria.fase = Fase.COMITE
    for p, value in zip(e.postulaciones, (7, 6, 5, 2), strict=True):
        give_score(e.reviewers[0], p, e.rubrica, value)
    set_votes(e.postulaciones[1], 50)
    db.session.commit()
    return e


def url(e: Escenario, tail: str = "ranking") -> str:
    return f"/comite/convocatorias/{e.convocatoria.id}/{tail}"


def detail_url(e: Escenario, p: Postulacion) -> str:
    return url(e, f"postulaciones/{p.id}")


def member(make_user: Callable[..., User], e: Escenario, **kw: Any) -> User:
    return make_user(Role.COMITE, convocatoria_id=e.convocatoria.id, **kw)


def test_committee_admin_and_lead_reach_the_pages(call: Escenario, login_as: Any, make_user: Any) -> None:
    for who in (member(make_user, call), Role.ADMIN, Role.ENCARGADO_TECNICO):
        client = login_as(who)
        assert client.get("/comite/").status_code == 200
        page = client.get(url(call))
        assert page.status_code == 200, who
        assert call.postulaciones[0].title in page.get_data(as_text=True)
        assert client.get(detail_url(call, call.postulaciones[0])).status_code == 200


@pytest.mark.parametrize("role", [Role.EVALUADOR, Role.POSTULANTE, None])
def test_others_are_refused(call: Escenario, login_as: Any, role: Role | None) -> None:
    client = login_as(role)
    for target in ("/comite/", url(call), detail_url(call, call.postulaciones[0]), url(call, "conflictos")):
        assert client.get(target).status_code == 403, target


def test_anonymous_is_sent_to_login(call: Escenario, client: Any) -> None:
    response = client.get(url(call))
    assert response.status_code in (302, 401)
    assert "/ingresar" in response.headers.get("Location", "/ingresar")


def test_a_member_of_another_call_does_not_see_this_one(
    call: Escenario, login_as: Any, make_user: Any, make_convocatoria: Any
) -> None:
    other = make_user(Role.COMITE, convocatoria_id=make_convocatoria().id)
    assert login_as(other).get(url(call)).status_code == 404


def test_a_call_before_the_vote_has_no_committee_pages(call: Escenario, login_as: Any) -> None:
    call.convocatoria.fase = Fase.EVALUACION
    db.session.commit()
    assert login_as(Role.ADMIN).get(url(call)).status_code == 404


def test_a_recused_member_cannot_open_the_detail(call: Escenario, login_as: Any, make_user: Any) -> None:
    a, b, c, _d = call.postulaciones
    person = member(make_user, call, name="Consejera Uno")
    client = login_as(person)
    page = client.post(
        url(call, "conflictos"), data={"tipo": "postulacion", "value": a.folio.lower(), "note": "Asesoré"}
    )
    assert page.status_code == 302
    client.post(url(call, "conflictos"), data={"tipo": "organizacion", "value": c.organizacion.rut})
    assert client.get(detail_url(call, a)).status_code == 403
    assert client.get(detail_url(call, c)).status_code == 403
    assert client.get(detail_url(call, b)).status_code == 200
    text = client.get(url(call)).get_data(as_text=True)
    assert "Inhabilitado/a" in text
    assert f'postulaciones/{a.id}"' not in text and f'postulaciones/{b.id}"' in text
    assert not can_see_postulacion(person, a) and can_see_postulacion(person, b)
    assert [(u.name, p.id) for u, p in recusals(call.convocatoria)] == [
        ("Consejera Uno", a.id),
        ("Consejera Uno", c.id),
    ]
    # Declaring it twice is refused with a message, and recorded once in the audit log.
    again = client.post(url(call, "conflictos"), data={"tipo": "postulacion", "value": a.folio})
    assert again.status_code == 422 and "Ya declaraste" in again.get_data(as_text=True)
    events = db.session.scalars(
        sa.select(EventoAuditoria).where(EventoAuditoria.action == "comite.conflict_declared")
    ).all()
    assert len(events) == 2


def test_an_unknown_folio_is_refused(call: Escenario, login_as: Any, make_user: Any) -> None:
    client = login_as(member(make_user, call))
    page = client.post(url(call, "conflictos"), data={"tipo": "postulacion", "value": "IDEA-1999-99999"})
    assert page.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Conflicto.id))) == 0


def test_reviewer_conflicts_of_other_users_do_not_recuse(
    call: Escenario, login_as: Any, make_user: Any
) -> None:
    a = call.postulaciones[0]
    db.session.add(
        Conflicto(
            user_id=call.reviewers[0].id,
            convocatoria_id=call.convocatoria.id,
            tipo=TipoConflicto.POSTULACION,
            postulacion_id=a.id,
        )
    )
    db.session.commit()
    assert login_as(member(make_user, call)).get(detail_url(call, a)).status_code == 200
    assert recusals(call.convocatoria) == []


def test_filters_and_order(call: Escenario, login_as: Any) -> None:
    a, b, c, d = call.postulaciones  # regions 08, 13, 08, 13
    client = login_as(Role.ADMIN)

    def titles(query: str) -> list[str]:
        text = client.get(url(call) + query).get_data(as_text=True)
        table = text.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in text else ""
        return [p.title for p in call.postulaciones if p.title in table]

    def order(query: str) -> list[str]:
        text = client.get(url(call) + query).get_data(as_text=True)
        return sorted(titles(query), key=text.index)

    assert set(titles("?region=08")) == {a.title, c.title}
    assert set(titles("?region=13")) == {b.title, d.title}
    assert set(titles(f"?desafio={a.desafio_id}")) == {a.title, b.title, c.title, d.title}
    assert set(titles("?elegibles=y")) == {a.title, b.title, c.title}  # D: 2 -> 1.9 < 4
    assert order("?orden=votos")[0] == b.title
    assert order("?orden=interno") == [a.title, b.title, c.title, d.title]
    # A bad value is ignored, never an error.
    assert client.get(url(call) + "?region=99&orden=x&desafio=abc").status_code == 200


def test_the_vote_changed_line_names_the_ideas_moved(call: Escenario, login_as: Any) -> None:
    a, b, c, d = call.postulaciones
    # Budget for one idea per region only (two regions): scores alone pick A (08) and B (13).
    call.convocatoria.total_budget = 50_000_000
    call.convocatoria.vote_weight = 0
    db.session.commit()
    client = login_as(Role.ADMIN)
    assert "no entra en el puntaje final" in client.get(url(call)).get_data(as_text=True)
    # With w = 100 % and all the votes on C (08), C replaces A: the line names both.
    db.session.execute(sa.delete(Preseleccion))
    set_votes(c, 40)
    set_votes(a, 1)
    call.convocatoria.vote_weight = 100
    call.rubrica.min_final_score = 1.0
    db.session.commit()
    text = client.get(url(call)).get_data(as_text=True)
    line = text.split('id="vote-effect"')[1].split("</ul>")[0]
    assert "cambió la selección" in line
    assert f"Entra: {c.folio} · {c.title}" in line and f"Sale: {a.folio} · {a.title}" in line
    # Same weight, votes that agree with the scores: no change.
    db.session.execute(sa.delete(Preseleccion))
    set_votes(a, 40)
    set_votes(b, 30)
    db.session.commit()
    assert "no cambió la selección" in client.get(url(call)).get_data(as_text=True)


def test_rules_form_saves_the_rules_and_the_minimum(call: Escenario, login_as: Any, make_user: Any) -> None:
    assert login_as(member(make_user, call)).get(url(call, "reglas")).status_code == 403
    regional = make_user(Role.ENCARGADO_TECNICO, region="08")
    assert login_as(regional).get(url(call, "reglas")).status_code == 403
    client = login_as(Role.ENCARGADO_TECNICO)
    assert client.get(url(call, "reglas")).status_code == 200
    data = {
        "objective": "total",
        "max_per_challenge": "3",
        "max_count": "",
        "quorum": "3",
        "min_final_score": "4,5",
        "share_feedback": "y",
    }
    bad = client.post(url(call, "reglas"), data={**data, "min_final_score": "9"})
    assert bad.status_code == 422
    assert client.post(url(call, "reglas"), data=data).status_code == 302
    rules = db.session.scalar(sa.select(ReglasSeleccion))
    assert (rules.objective, rules.max_per_challenge, rules.max_count, rules.quorum) == ("total", 3, None, 3)
    db.session.refresh(call.rubrica)
    assert call.rubrica.min_final_score == 4.5


def test_detail_shows_reviews_anonymously_with_every_score(call: Escenario, login_as: Any) -> None:
    a = call.postulaciones[0]
    give_score(call.reviewers[1], a, call.rubrica, 6)
    db.session.commit()
    text = login_as(Role.ADMIN).get(detail_url(call, a)).get_data(as_text=True)
    assert "Evaluador/a 1" in text and "Evaluador/a 2" in text
    assert "Evaluadora 0" not in text and "Evaluadora 1" not in text  # names of the reviewers
    for criterio in call.rubrica.criterios:
        assert criterio.name in text
    assert "6,50" in text  # internal score (7 + 6) / 2


def bulk_call(escenario: Callable[..., Escenario], n: int) -> Escenario:
    """A call in `comite` with `n` scored, admissible submissions (bulk: one organisation)."""
    e = escenario(n=1, reviewers=1)
    e.convocatoria.fase = Fase.COMITE
    first = e.postulaciones[0]
    for i in range(n - 1):
        p = Postulacion(
            convocatoria_id=first.convocatoria_id,
            desafio_id=first.desafio_id,
            organizacion_id=first.organizacion_id,
            created_by_id=first.created_by_id,
            status=EstadoPostulacion.ADMISIBLE,
            folio_number=900_000 + i,  # far above the factory's numbers
            folio=f"IDEA-2026-B{first.convocatoria_id}-{i}",
            title=f"Idea masiva {i}",
            region=("08", "13", "05")[i % 3],
            requested_amount=20_000_000 + (i % 10) * 1_000_000,
        )
        a = Asignacion(
            convocatoria_id=first.convocatoria_id,
            user_id=e.reviewers[0].id,
            postulacion=p,
            status=EstadoAsignacion.ENVIADA,
            submitted_at=utcnow(),
            overall_comment="",
        )
        a.puntajes = [Puntaje(criterio_id=c.id, value=3 + i % 5, comment="") for c in e.rubrica.criterios]
        db.session.add(a)
        if i % 2:
            db.session.add(Preseleccion(convocatoria_id=first.convocatoria_id, postulacion=p, vote_count=i))
    db.session.commit()
    return e


def test_query_count_does_not_grow_with_the_candidates(
    escenario: Callable[..., Escenario], login_as: Any, make_user: Any
) -> None:
    from tests.evaluacion.test_pages import _count_queries

    counts = []
    for n in (30, 300):
        e = bulk_call(escenario, n)
        someone = member(make_user, e)
        db.session.add(
            Conflicto(
                user_id=someone.id,
                convocatoria_id=e.convocatoria.id,
                tipo=TipoConflicto.POSTULACION,
                postulacion_id=e.postulaciones[0].id,
            )
        )
        db.session.commit()
        client = login_as(someone)
        client.get(url(e))
        counts.append([_count_queries(client, url(e) + q) for q in ("", "?page=2", "?region=08&orden=votos")])
        assert len(recusals(e.convocatoria)) == 1
    assert counts[0] == counts[1]


def test_a_lead_reads_but_declares_nothing_and_sees_only_their_regions(
    call: Escenario, login_as: Any, make_user: Any
) -> None:
    a, b, _c, _d = call.postulaciones  # a in 08, b in 13
    lead = login_as(make_user(Role.ENCARGADO_TECNICO, region="08"))
    assert lead.get(url(call, "conflictos")).status_code == 403
    assert lead.get(url(call, "reglas")).status_code == 403
    assert lead.get(detail_url(call, a)).status_code == 200
    assert lead.get(detail_url(call, b)).status_code == 404
    table = lead.get(url(call)).get_data(as_text=True).split("<tbody>")[1]
    assert a.title in table and b.title not in table


def test_a_committee_member_starts_at_the_committee_pages(login_as: Any, make_user: Any) -> None:
    client = login_as(make_user(Role.COMITE))
    start = client.get("/inicio")  # one card: straight to it
    assert start.status_code == 302 and start.headers["Location"] == "/comite/"
    page = client.get("/comite/").get_data(as_text=True)
    assert 'href="/comite/"' in page  # the menu link
    both = login_as(make_user(Role.COMITE, Role.MENTOR)).get("/inicio").get_data(as_text=True)
    assert "Comité de selección" in both and "Cuando sesione el comité" not in both
