"""Folios under a deadline rush: many applicants sending at once all get a folio, with no gaps and no
refusals, and a double click on "Submit" sends a draft once and answers the second click kindly."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias import postulaciones
from convocatorias.models import (
    Convocatoria,
    Desafio,
    EstadoPostulacion,
    Organizacion,
    Postulacion,
    PostulacionVersion,
)
from idea.chile import utcnow
from idea.extensions import db
from idea.models import User
from tests.conftest import _password_hash, login, make_test_app
from tests.convocatorias.conftest import valid_rut
from tests.convocatorias.test_applicant import profile_form

on_postgres = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                 reason="row locks and concurrent writers need PostgreSQL")

PROCESSES = 8
SUBMISSIONS = 200


@pytest.fixture
def call(make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio]) -> Any:
    convocatoria = make_convocatoria(max_submissions_per_org=3)
    return convocatoria, make_desafio(convocatoria)


def _drafts(desafio: Desafio, n: int) -> list[tuple[int, int]]:
    """`n` applicants, each with an organisation and a complete draft: (user id, draft id) pairs."""
    users = [User(email=f"rush{i}@example.cl", name=f"Postulante {i}", password_hash=_password_hash(),
                  email_confirmed_at=utcnow()) for i in range(n)]
    db.session.add_all(users)
    db.session.flush()
    orgs = [Organizacion(owner_id=u.id, name=f"Org {i}", rut=valid_rut(60_000_000 + i), tipo="empresa",
                         region="13", comuna="Santiago") for i, u in enumerate(users)]
    db.session.add_all(orgs)
    db.session.flush()
    drafts = [Postulacion(convocatoria_id=desafio.convocatoria_id, desafio_id=desafio.id,
                          organizacion_id=o.id, created_by_id=o.owner_id, title=f"Idea {i}")
              for i, o in enumerate(orgs)]
    db.session.add_all(drafts)
    db.session.commit()
    return [(p.created_by_id, p.id) for p in drafts]


def _folio_numbers(convocatoria_id: int) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Postulacion.folio_number).where(
        Postulacion.convocatoria_id == convocatoria_id, Postulacion.folio_number.is_not(None))
        .order_by(Postulacion.folio_number)))


def _send_in_a_process(database_url: str, upload_dir: str, queue: str, jobs: list[tuple[int, int]],
                       form: dict[str, str], barrier: Any, results: Any) -> None:
    """A web worker of its own (own app, own connections) sending its share of drafts once all are ready."""
    app = make_test_app(database_url, Path(upload_dir), RQ_QUEUE=queue)
    statuses: list[tuple[int, int]] = []
    try:
        clients = []
        with app.app_context():
            for user_id, postulacion_id in jobs:
                client = app.test_client()
                login(client, db.session.get(User, user_id))
                clients.append((client, postulacion_id))
        barrier.wait(timeout=120)
        for client, postulacion_id in clients:
            response = client.post(f"/mis-postulaciones/{postulacion_id}/editar", data=form)
            statuses.append((postulacion_id, response.status_code))
    finally:
        results.put(statuses)
        with app.app_context():
            db.engine.dispose()


@on_postgres
def test_a_deadline_rush_of_200_submissions_from_8_processes_gets_200_gapless_folios(
        app: Flask, call: Any, tmp_path: Path) -> None:
    convocatoria, desafio = call
    drafts = _drafts(desafio, SUBMISSIONS)
    convocatoria_id, form = convocatoria.id, profile_form(desafio)
    url = db.engine.url.render_as_string(hide_password=False)
    # The children open their own connections; none of the parent's may cross the fork.
    db.session.remove()
    db.engine.dispose()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_send_in_a_process, args=(
        url, str(tmp_path), app.config["RQ_QUEUE"], drafts[i::PROCESSES], form, barrier, results))
        for i in range(PROCESSES)]
    for worker in workers:
        worker.start()
    statuses = [s for _ in workers for s in results.get(timeout=300)]
    for worker in workers:
        worker.join(timeout=60)

    assert len(statuses) == SUBMISSIONS
    assert {code for _id, code in statuses} == {302}  # every one sent, none refused with a 422
    assert _folio_numbers(convocatoria_id) == list(range(1, SUBMISSIONS + 1))
    folios = db.session.scalars(sa.select(Postulacion.folio).where(Postulacion.folio.is_not(None))).all()
    assert len(set(folios)) == SUBMISSIONS


def test_folios_continue_from_numbers_already_given_and_a_rolled_back_send_leaves_no_gap(
        app: Flask, call: Any, make_postulacion: Callable[..., Postulacion]) -> None:
    convocatoria, desafio = call
    earlier = make_postulacion(desafio, status=EstadoPostulacion.ENVIADA)
    earlier.folio_number, earlier.folio = 7, "IDEA-2026-0007"
    db.session.commit()
    drafts = [make_postulacion(desafio) for _ in range(2)]
    with app.test_request_context():
        first = db.session.get(Postulacion, drafts[0].id)
        owner = db.session.get(User, first.created_by_id)
        postulaciones.update_postulacion(owner, first, first.profile_data(), submit=True)
        assert first.folio == "IDEA-2026-0008"
        db.session.rollback()  # the request failed after taking the folio: the number goes back
        second = db.session.get(Postulacion, drafts[1].id)
        owner = db.session.get(User, second.created_by_id)
        postulaciones.update_postulacion(owner, second, second.profile_data(), submit=True)
        db.session.commit()
    assert _folio_numbers(convocatoria.id) == [7, 8]


def test_two_calls_of_the_same_year_never_give_the_same_folio(
        app: Flask, make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio],
        make_postulacion: Callable[..., Postulacion], login_as: Callable[..., Any]) -> None:
    # A national call and a regional one in 2026 share the prefix IDEA-2026-: before, each counted from 1
    # and the second call's first submission failed on the unique folio.
    folios = []
    for title in ("Fondo IDEA 2026", "Fondo IDEA 2026 · Llamado regional"):
        desafio = make_desafio(make_convocatoria(title=title))
        draft = make_postulacion(desafio)
        response = _owner_client(login_as, draft).post(f"/mis-postulaciones/{draft.id}/editar",
                                                       data=profile_form(desafio))
        assert response.status_code == 302
        db.session.expire_all()
        folios.append(db.session.get(Postulacion, draft.id).folio)
    assert folios == ["IDEA-2026-0001", "IDEA-2026-0002"]


# --- the same draft sent twice ---------------------------------------------------------------------------

def _owner_client(login_as: Callable[..., Any], draft: Postulacion) -> Any:
    return login_as(db.session.get(User, draft.created_by_id))


def _versions(draft_id: int) -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(PostulacionVersion.number)
                                   .where(PostulacionVersion.postulacion_id == draft_id)))


def test_a_replayed_submit_sends_the_draft_once(call: Any, make_postulacion: Callable[..., Postulacion],
                                                login_as: Callable[..., Any], outbox: Any) -> None:
    convocatoria, desafio = call
    draft = make_postulacion(desafio)
    client = _owner_client(login_as, draft)
    form = profile_form(desafio)
    first = client.post(f"/mis-postulaciones/{draft.id}/editar", data=form)
    again = client.post(f"/mis-postulaciones/{draft.id}/editar", data=form, follow_redirects=True)
    assert first.status_code == 302 and again.status_code == 200
    assert _folio_numbers(convocatoria.id) == [1] and _versions(draft.id) == [1]
    assert len(outbox.to(client.user.email)) == 1


def test_a_submit_that_arrives_after_another_request_sent_the_draft_is_answered_kindly(
        app: Flask, call: Any, make_postulacion: Callable[..., Postulacion]) -> None:
    """The second request loaded the draft before the first committed; once it holds the row it sees the
    draft was sent and says so, instead of writing version 1 again."""
    convocatoria, desafio = call
    draft = make_postulacion(desafio)
    with app.test_request_context():
        stale = db.session.get(Postulacion, draft.id)
        owner = db.session.get(User, stale.created_by_id)
        assert stale.status == EstadoPostulacion.BORRADOR
        with db.engine.begin() as other:  # the first click, committed meanwhile on its own connection
            other.execute(sa.update(Postulacion).where(Postulacion.id == draft.id).values(
                status=EstadoPostulacion.ENVIADA.value, folio="IDEA-2026-0001", folio_number=1, version=1))
        with pytest.raises(postulaciones.AlreadySent) as refused:
            postulaciones.update_postulacion(owner, stale, stale.profile_data(), submit=True)
        assert "IDEA-2026-0001" in refused.value.message
        db.session.rollback()


@on_postgres
def test_two_simultaneous_submit_clicks_send_the_draft_once(
        app: Flask, call: Any, make_postulacion: Callable[..., Postulacion], login_as: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    convocatoria, desafio = call
    draft = make_postulacion(desafio)
    clients = [_owner_client(login_as, draft) for _ in range(2)]
    form = profile_form(desafio)
    # Both requests have loaded the draft (still a draft) before either goes on: the worst interleaving.
    both_loaded = threading.Barrier(2, timeout=30)
    real_require_owner = postulaciones._require_owner

    def require_owner(actor: User, p: Postulacion) -> None:
        both_loaded.wait()
        real_require_owner(actor, p)

    monkeypatch.setattr(postulaciones, "_require_owner", require_owner)
    responses: list[Any] = [None, None]

    def click(i: int) -> None:
        responses[i] = clients[i].post(f"/mis-postulaciones/{draft.id}/editar", data=form,
                                       follow_redirects=True)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(r.status_code for r in responses) == [200, 200]
    pages = [r.get_data(as_text=True) for r in responses]
    assert sum("Tu idea fue enviada" in page for page in pages) == 1
    assert sum("ya había sido enviada" in page for page in pages) == 1
    assert _folio_numbers(convocatoria.id) == [1] and _versions(draft.id) == [1]
