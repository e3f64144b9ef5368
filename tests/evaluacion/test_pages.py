"""The evaluation pages as reviewers and leads use them, and as an attacker would try them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from convocatorias.models import Fase
from convocatorias.operations import ConvocatoriaError, change_fase
from evaluacion.models import Asignacion, Capacitacion, EstadoAsignacion, Puntaje
from idea.chile import utcnow
from idea.extensions import db
from idea.models import EventoAuditoria, Role
from tests.evaluacion.conftest import assign, score_data, train


def test_a_reviewer_is_sent_to_training_before_scoring(escenario: Callable[..., Any], login_as: Any) -> None:
    e = escenario()
    a = assign(e.reviewers[0], e.postulaciones[0])
    client = login_as(e.reviewers[0])
    page = client.get(f"/evaluacion/asignaciones/{a.id}")
    assert page.status_code == 403
    assert f"/evaluacion/convocatorias/{e.convocatoria.id}/capacitacion" in page.get_data(as_text=True)
    assert client.post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, 5)).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Puntaje.id))) == 0


def test_training_records_the_date_and_shows_the_distance_to_the_reference(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario()
    client = login_as(e.reviewers[0])
    data = {f"score_{c.id}": "3" for c in e.rubrica.criterios} | {"send": "1"}
    page = client.post(f"/evaluacion/convocatorias/{e.convocatoria.id}/capacitacion", data=data)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "-2" in text  # 3 against the reference 5
    training = db.session.scalar(sa.select(Capacitacion).where(Capacitacion.user_id == e.reviewers[0].id))
    assert training is not None and training.completed_at is not None


def test_a_reviewer_cannot_read_or_post_an_unassigned_submission(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario()
    theirs = assign(e.reviewers[1], e.postulaciones[0])
    train(e.reviewers[0], e.rubrica)
    client = login_as(e.reviewers[0])
    assert client.get(f"/evaluacion/asignaciones/{theirs.id}").status_code == 404
    assert (
        client.post(f"/evaluacion/asignaciones/{theirs.id}", data=score_data(e.rubrica, 7)).status_code == 404
    )
    assert db.session.scalar(sa.select(sa.func.count(Puntaje.id))) == 0


def test_a_reviewer_scores_saves_a_draft_and_submits(escenario: Callable[..., Any], login_as: Any) -> None:
    e = escenario()
    a = assign(e.reviewers[0], e.postulaciones[0])
    train(e.reviewers[0], e.rubrica)
    client = login_as(e.reviewers[0])
    page = client.get(f"/evaluacion/asignaciones/{a.id}")
    assert page.status_code == 200
    assert "Cumple de manera sobresaliente" in page.get_data(as_text=True)  # level descriptions beside
    assert (
        client.post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, 5, send=False)).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(Asignacion, a.id).status == EstadoAsignacion.BORRADOR
    assert client.post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, 6)).status_code == 302
    db.session.expire_all()
    a = db.session.get(Asignacion, a.id)
    assert a.status == EstadoAsignacion.ENVIADA
    assert {p.value for p in a.puntajes} == {6}
    assert db.session.get(type(e.rubrica), e.rubrica.id).locked


def test_a_submitted_score_cannot_be_changed_by_a_replayed_post(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario()
    a = assign(e.reviewers[0], e.postulaciones[0])
    train(e.reviewers[0], e.rubrica)
    client = login_as(e.reviewers[0])
    client.post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, 6))
    replay = client.post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, 1))
    assert replay.status_code == 409
    db.session.expire_all()
    assert {p.value for p in db.session.get(Asignacion, a.id).puntajes} == {6}


def test_a_reviewer_never_sees_a_co_reviewers_scores(escenario: Callable[..., Any], login_as: Any) -> None:
    e = escenario()
    mine = assign(e.reviewers[0], e.postulaciones[0])
    other = assign(e.reviewers[1], e.postulaciones[0])
    for r in e.reviewers[:2]:
        train(r, e.rubrica)
    data = score_data(e.rubrica, 2)
    data |= {f"comment_{c.id}": "OPINION-SECRETA" for c in e.rubrica.criterios}
    login_as(e.reviewers[1]).post(f"/evaluacion/asignaciones/{other.id}", data=data)
    client = login_as(e.reviewers[0])
    assert "OPINION-SECRETA" not in client.get(f"/evaluacion/asignaciones/{mine.id}").get_data(as_text=True)
    assert client.get(f"/evaluacion/asignaciones/{other.id}").status_code == 404
    assert "OPINION-SECRETA" not in client.get("/evaluacion/").get_data(as_text=True)


def test_a_lead_cannot_change_a_reviewers_scores(escenario: Callable[..., Any], login_as: Any) -> None:
    e = escenario()
    a = assign(e.reviewers[0], e.postulaciones[0])
    train(e.reviewers[0], e.rubrica)
    login_as(e.reviewers[0]).post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, 6))
    lead = login_as(Role.ENCARGADO_TECNICO)
    assert lead.post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, 1)).status_code == 403
    # The lead may reopen with a reason, but the scores stay the reviewer's.
    assert (
        lead.post(f"/gestion/evaluacion/asignaciones/{a.id}/reabrir", data={"reason": "Revisar"}).status_code
        == 302
    )
    assert lead.post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, 1)).status_code == 403
    db.session.expire_all()
    a = db.session.get(Asignacion, a.id)
    assert a.status == EstadoAsignacion.BORRADOR and {p.value for p in a.puntajes} == {6}
    assert db.session.scalar(
        sa.select(EventoAuditoria).where(EventoAuditoria.action == "evaluacion.reopened")
    )


def test_automatic_assignment_gives_each_submission_k_reviewers(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario(n=6, reviewers=3)
    lead = login_as(Role.ENCARGADO_TECNICO)
    assert lead.post(f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/asignar").status_code == 302
    rows = db.session.execute(
        sa.select(Asignacion.postulacion_id, sa.func.count()).group_by(Asignacion.postulacion_id)
    ).all()
    assert len(rows) == 6 and {count for _pid, count in rows} == {2}


def test_impossible_assignment_says_why_and_assigns_nothing(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario(n=2, reviewers=1)
    lead = login_as(Role.ENCARGADO_TECNICO)
    page = lead.post(f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/asignar")
    assert page.status_code == 409
    assert "necesita 2 evaluadores" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Asignacion.id))) == 0


def test_declaring_a_conflict_on_an_item_reassigns_it(escenario: Callable[..., Any], login_as: Any) -> None:
    e = escenario(n=1, reviewers=3)
    a = assign(e.reviewers[0], e.postulaciones[0])
    assign(e.reviewers[1], e.postulaciones[0])
    client = login_as(e.reviewers[0])
    assert (
        client.post(
            f"/evaluacion/asignaciones/{a.id}/conflicto", data={"note": "Conozco al equipo"}
        ).status_code
        == 302
    )
    active = db.session.scalars(
        sa.select(Asignacion.user_id).where(Asignacion.status != EstadoAsignacion.RETIRADA)
    ).all()
    assert sorted(active) == sorted([e.reviewers[1].id, e.reviewers[2].id])


def test_a_biobio_lead_sees_only_biobio(escenario: Callable[..., Any], login_as: Any) -> None:
    e = escenario(n=2, reviewers=2, regions=("08", "13"))
    biobio, santiago = e.postulaciones
    assign(e.reviewers[0], biobio)
    other = assign(e.reviewers[1], santiago)
    lead = login_as(Role.ENCARGADO_TECNICO, region="08")
    text = lead.get(f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}").get_data(as_text=True)
    assert biobio.folio in text and santiago.folio not in text
    assert lead.post(f"/gestion/evaluacion/asignaciones/{other.id}/quitar").status_code == 404
    assert lead.post(f"/gestion/evaluacion/postulaciones/{santiago.id}/agregar-evaluador").status_code == 404
    assert lead.post(f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/asignar").status_code == 404
    export = lead.get(f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/puntajes.csv")
    assert export.status_code == 200 and santiago.folio.encode() not in export.data


def test_the_call_cannot_leave_evaluacion_with_unscored_assignments(
    escenario: Callable[..., Any], login_as: Any, make_user: Any, app: Any
) -> None:
    e = escenario(n=1)
    a = assign(e.reviewers[0], e.postulaciones[0])
    admin = make_user(Role.ADMIN)
    with app.test_request_context(), pytest.raises(ConvocatoriaError) as refused:
        change_fase(admin, e.convocatoria, Fase.VOTACION)
    # Every guard's problem is listed, in no fixed order (blinker keeps receivers in a set).
    assert any("1 evaluaciones asignadas" in p.message for p in refused.value.problems)
    lead = login_as(Role.ENCARGADO_TECNICO)
    lead.post(f"/gestion/evaluacion/asignaciones/{a.id}/liberar", data={"reason": "Licencia médica"})
    db.session.expire_all()
    with app.test_request_context():
        _publish_vote(admin, e.convocatoria)  # the vote's own guard (tests/evaluacion/test_votacion.py)
        change_fase(admin, e.convocatoria, Fase.VOTACION)
    assert e.convocatoria.fase == Fase.VOTACION


def _publish_vote(admin: Any, convocatoria: Any) -> None:
    from datetime import timedelta

    from evaluacion import votacion

    opens = convocatoria.evaluation_end_at + timedelta(days=1)
    dates = votacion.VotacionData(vote_open_at=opens, vote_close_at=opens + timedelta(days=5))
    votacion.update_settings(admin, convocatoria, dates)
    votacion.publish_shortlist(admin, convocatoria)


def test_the_dashboard_shows_outliers_and_adds_a_reviewer(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario(n=2, reviewers=3)
    p = e.postulaciones[0]
    for reviewer, value in zip(e.reviewers[:2], (1, 7), strict=True):
        a = assign(reviewer, p)
        train(reviewer, e.rubrica)
        login_as(reviewer).post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, value))
    lead = login_as(Role.ENCARGADO_TECNICO)
    text = lead.get(f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}").get_data(as_text=True)
    assert "agregar-evaluador" in text and "<svg" in text
    assert lead.post(f"/gestion/evaluacion/postulaciones/{p.id}/agregar-evaluador").status_code == 302
    assert db.session.scalar(sa.select(Asignacion).where(Asignacion.user_id == e.reviewers[2].id))


def _count_queries(client: Any, url: str) -> int:
    from sqlalchemy import event

    count = 0

    def before(*_args: Any) -> None:
        nonlocal count
        count += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


def _scored(e: Any, *, values: Callable[[int, int], int] = lambda i, _j: 4 + i % 3) -> None:
    """Two submitted evaluations per submission of the scenario, scored `values(submission, reviewer)`."""
    for i, p in enumerate(e.postulaciones):
        for j, reviewer in enumerate((e.reviewers[i % 3], e.reviewers[(i + 1) % 3])):
            a = assign(reviewer, p)
            a.submitted_at = utcnow()
            a.status = EstadoAsignacion.ENVIADA
            a.puntajes = [
                Puntaje(criterio_id=c.id, value=values(i, j), comment="") for c in e.rubrica.criterios
            ]
    db.session.commit()


def test_the_dashboard_query_count_does_not_grow_with_the_data(
    escenario: Callable[..., Any], login_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evaluacion import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 3)  # so that the larger call has several pages
    counts = []
    for n in (2, 8):
        e = escenario(n=n, reviewers=3)
        _scored(e)
        lead = login_as(Role.ENCARGADO_TECNICO)
        base = f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}"
        urls = [base, f"{base}?page=2", f"{base}/ranking", f"{base}/ranking?orden=normalizado&page=2",
                f"{base}/ranking?orden=discrepancia"]
        lead.get(base)
        counts.append([_count_queries(lead, url) for url in urls])
    assert counts[0] == counts[1]


def test_the_dashboard_shows_one_page_of_assignments_and_links_the_whole_ranking(
    escenario: Callable[..., Any], login_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evaluacion import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 4)
    monkeypatch.setattr(queries, "PREVIEW", 2)
    e = escenario(n=6, reviewers=3)
    _scored(e, values=lambda i, j: 7 - i if j == 0 else 1)  # every submission an outlier but the last
    lead = login_as(Role.ENCARGADO_TECNICO)
    base = f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}"
    folios = [p.folio for p in e.postulaciones]
    first = lead.get(base).get_data(as_text=True)
    assert "12 asignaciones activas" in first and "Página 1 de 3" in first
    assert first.count("/reabrir") == 4 and folios[0] in first
    assert f"{base}/ranking?orden=discrepancia" in first and f"{base}/ranking?orden=normalizado" in first
    last = lead.get(f"{base}?page=3").get_data(as_text=True)
    assert last.count("/reabrir") == 4 and "Página 3 de 3" in last
    # The ranking, four a page, best first: submission 0 scored highest by its first reviewer.
    ranking = lead.get(f"{base}/ranking").get_data(as_text=True)
    assert "6 postulaciones con puntaje" in ranking and "Página 1 de 2" in ranking
    assert folios[0] in ranking and folios[5] not in ranking
    assert folios[5] in lead.get(f"{base}/ranking?page=2").get_data(as_text=True)
    outliers = lead.get(f"{base}/ranking?orden=discrepancia").get_data(as_text=True)
    assert outliers.count("/agregar-evaluador") == 4 and folios[5] not in outliers
    # A page or an order it does not know is the first page by internal score, never an error.
    assert lead.get(f"{base}/ranking?orden=otro&page=x").get_data(as_text=True) == ranking


def test_the_dashboard_figures_equal_the_aggregation_of_every_criterion(
    escenario: Callable[..., Any], make_user: Any
) -> None:
    from evaluacion import aggregation, queries

    e = escenario(n=5, reviewers=3)
    _scored(e, values=lambda i, j: 1 + (i * 3 + j * 5) % 7)
    lead = make_user(Role.ENCARGADO_TECNICO)
    names = {c.id: c.name for c in e.rubrica.criterios}
    raw = [
        aggregation.Score(a.user_id, a.postulacion_id, names[p.criterio_id], p.value)
        for a in db.session.scalars(sa.select(Asignacion))
        for p in a.puntajes
    ]
    rubric = aggregation.Rubric(
        tuple(aggregation.Criterion(c.name, c.weight) for c in e.rubrica.criterios),
        aggregation.Scale(e.rubrica.scale_min, e.rubrica.scale_max, e.rubrica.pass_mark),
    )
    expected = aggregation.aggregate(rubric, raw, outlier_threshold=e.rubrica.outlier_threshold)
    assert queries.scores(lead, e.convocatoria, e.rubrica).aggregation == expected


def test_the_rubric_editor_refuses_weights_not_adding_to_100_and_locks(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario(n=1)
    admin = login_as(Role.ADMIN)
    url = f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/rubrica"
    assert admin.get(url).status_code == 200
    data = {
        "scale_min": "1",
        "scale_max": "7",
        "pass_mark": "4",
        "min_final_score": "4.5",
        "reviewers_per_submission": "2",
        "outlier_threshold": "2",
        "guide": "Guía",
        "criterios-0-name": "Pertinencia",
        "criterios-0-weight": "60",
        "criterios-0-levels": "1: nada\n7: todo",
        "criterios-1-name": "Innovación",
        "criterios-1-weight": "30",
    }
    bad = admin.post(url, data=data)
    assert bad.status_code == 422 and "suman 90" in bad.get_data(as_text=True)
    assert admin.post(url, data=data | {"criterios-1-weight": "40"}).status_code == 302
    db.session.expire_all()
    rubrica = db.session.get(type(e.rubrica), e.rubrica.id)
    assert [(c.name, c.weight) for c in rubrica.criterios] == [("Pertinencia", 60), ("Innovación", 40)]
    assert rubrica.criterios[0].level_descriptions == {"1": "nada", "7": "todo"}
    rubrica.locked = True
    db.session.commit()
    assert admin.post(url, data=data | {"criterios-1-weight": "40"}).status_code == 422
    assert login_as(Role.ENCARGADO_TECNICO).get(url).status_code == 403


def test_leads_and_reviewers_find_their_pages_from_the_menu(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario(n=1)
    lead = login_as(Role.ENCARGADO_TECNICO)
    home = lead.get("/gestion/evaluacion/").get_data(as_text=True)
    assert f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}" in home and "Evaluación" in home
    reviewer = login_as(e.reviewers[0]).get("/evaluacion/").get_data(as_text=True)
    assert "Mis evaluaciones" in reviewer and "Capacitación pendiente" in reviewer


def test_the_demo_data_has_a_call_in_evaluation_with_a_harsh_reviewer_and_outliers(
    app: Any, monkeypatch: pytest.MonkeyPatch, login_as: Any
) -> None:
    from convocatorias.models import Convocatoria
    from evaluacion import queries
    from evaluacion.seed import EVAL_CALL_SLUG
    from idea.models import User

    monkeypatch.setattr("idea.cli.upgrade", lambda: None)
    for _ in range(2):  # a rerun adds nothing
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    db.session.expire_all()
    (call,) = db.session.scalars(sa.select(Convocatoria).where(Convocatoria.slug == EVAL_CALL_SLUG)).all()
    lead = db.session.scalars(sa.select(User).where(User.email == "encargado@demo.fondoidea.cl")).one()
    data = queries.dashboard(lead, call, queries.rubrica_of(call.id))
    assert data.aggregation.outliers
    harsh = db.session.scalars(
        sa.select(User).where(User.email == "evaluadora.estricta@demo.fondoidea.cl")
    ).one()
    assert data.aggregation.reviewers[harsh.id].deviation < -1
    assert any(p.submitted < p.total for p in data.by_reviewer)
    assert login_as(lead).get(f"/gestion/evaluacion/convocatorias/{call.id}").status_code == 200


def test_a_call_entering_admisibilidad_gets_the_default_rubric(
    make_convocatoria: Any, make_user: Any, app: Any
) -> None:
    from datetime import timedelta

    from convocatorias.models import Fase as F
    from evaluacion import queries

    convocatoria = make_convocatoria(submissions_close_at=utcnow() - timedelta(hours=1))
    with app.test_request_context():
        change_fase(make_user(Role.ADMIN), convocatoria, F.ADMISIBILIDAD)
    rubrica = queries.rubrica_of(convocatoria.id)
    assert [c.weight for c in rubrica.criterios] == [25, 20, 20, 20, 15]
    assert rubrica.criterios[0].name == "Pertinencia con el desafío"
    assert (rubrica.scale_min, rubrica.scale_max, rubrica.pass_mark, rubrica.min_final_score) == (
        1,
        7,
        4.0,
        4.0,
    )


def test_a_conflict_with_an_organisation_withdraws_and_reassigns_its_submissions(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario(n=1, reviewers=3)
    p = e.postulaciones[0]
    a = assign(e.reviewers[0], p)
    assign(e.reviewers[1], p)
    client = login_as(e.reviewers[0])
    url = f"/evaluacion/convocatorias/{e.convocatoria.id}/conflictos"
    bad = client.post(url, data={"tipo": "organizacion", "rut": "12.345.678-0"})
    assert bad.status_code == 422 and "RUT" in bad.get_data(as_text=True)
    assert client.post(url, data={"tipo": "organizacion", "rut": p.organizacion.rut}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Asignacion, a.id).status == EstadoAsignacion.RETIRADA
    assert db.session.scalar(sa.select(Asignacion).where(Asignacion.user_id == e.reviewers[2].id))
    assert "Organización" in client.get(url).get_data(as_text=True)


def test_the_score_export_is_safe_against_formulas(escenario: Callable[..., Any], login_as: Any) -> None:
    e = escenario(n=1)
    a = assign(e.reviewers[0], e.postulaciones[0])
    train(e.reviewers[0], e.rubrica)
    data = score_data(e.rubrica, 5) | {f"comment_{e.rubrica.criterios[0].id}": '=HYPERLINK("http://x")'}
    login_as(e.reviewers[0]).post(f"/evaluacion/asignaciones/{a.id}", data=data)
    lead = login_as(Role.ENCARGADO_TECNICO)
    csv = lead.get(f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/puntajes.csv")
    assert csv.status_code == 200 and csv.headers["Cache-Control"] == "no-store"
    text = csv.data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text
    assert e.postulaciones[0].folio in text
    xlsx = lead.get(f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/puntajes.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_unlocking_the_rubric_needs_a_reason_and_is_audited(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    e = escenario(n=1)
    e.rubrica.locked = True
    db.session.commit()
    admin = login_as(Role.ADMIN)
    url = f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/rubrica/desbloquear"
    admin.post(url, data={"reason": ""})
    db.session.expire_all()
    assert db.session.get(type(e.rubrica), e.rubrica.id).locked
    admin.post(url, data={"reason": "Faltaba un criterio"})
    db.session.expire_all()
    assert not db.session.get(type(e.rubrica), e.rubrica.id).locked
    event = db.session.scalar(sa.select(EventoAuditoria).where(EventoAuditoria.action == "rubrica.unlocked"))
    assert event.after["reason"] == "Faltaba un criterio"


def test_the_lead_assigns_by_hand_but_never_against_a_declared_conflict(
    escenario: Callable[..., Any], login_as: Any
) -> None:
    from evaluacion.models import Conflicto, TipoConflicto

    e = escenario(n=1, reviewers=2)
    p = e.postulaciones[0]
    db.session.add(
        Conflicto(
            user_id=e.reviewers[1].id,
            convocatoria_id=e.convocatoria.id,
            tipo=TipoConflicto.POSTULACION,
            postulacion_id=p.id,
            note="",
        )
    )
    db.session.commit()
    lead = login_as(Role.ENCARGADO_TECNICO)
    url = f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/asignaciones"
    refused = lead.post(
        url, data={"reviewer": e.reviewers[1].id, "postulacion": p.folio}, follow_redirects=True
    )
    assert "declaró conflicto de interés con la postulación" in refused.get_data(as_text=True)
    unknown = lead.post(url, data={"reviewer": e.reviewers[0].id, "postulacion": "IDEA-1999-00001"},
                        follow_redirects=True)
    assert "ninguna postulación de esta convocatoria tiene el folio idea-1999-00001" in unknown.get_data(
        as_text=True
    ).lower()
    assert db.session.scalar(sa.select(sa.func.count(Asignacion.id))) == 0
    by_folio = {"reviewer": e.reviewers[0].id, "postulacion": f" {p.folio.lower()} "}
    assert lead.post(url, data=by_folio).status_code == 302
    (a,) = db.session.scalars(sa.select(Asignacion)).all()
    assert a.user_id == e.reviewers[0].id
    assert lead.post(f"/gestion/evaluacion/asignaciones/{a.id}/quitar").status_code == 302
    db.session.expire_all()
    assert db.session.get(Asignacion, a.id).status == EstadoAsignacion.RETIRADA
    # A removed pair is not brought back by the automatic assignment.
    lead.post(f"/gestion/evaluacion/convocatorias/{e.convocatoria.id}/asignar")
    db.session.expire_all()
    assert db.session.get(Asignacion, a.id).status == EstadoAsignacion.RETIRADA


def test_scoring_closes_when_the_call_leaves_evaluacion(escenario: Callable[..., Any], login_as: Any) -> None:
    e = escenario(n=1)
    a = assign(e.reviewers[0], e.postulaciones[0])
    train(e.reviewers[0], e.rubrica)
    e.convocatoria.fase = Fase.VOTACION
    db.session.commit()
    page = login_as(e.reviewers[0]).post(f"/evaluacion/asignaciones/{a.id}", data=score_data(e.rubrica, 5))
    assert page.status_code == 422 and "ya no está en evaluación" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Puntaje.id))) == 0
