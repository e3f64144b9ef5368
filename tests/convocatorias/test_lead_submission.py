"""The technical lead's page of one submission: who may open it, what it shows, attachments, query count."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias import uploads
from convocatorias.models import Adjunto, Convocatoria, EstadoPostulacion, Postulacion, PostulacionVersion
from idea import audit
from idea.extensions import db
from idea.models import EventoAuditoria, Role

ENVIADA = EstadoPostulacion.ENVIADA


def url(p: Postulacion) -> str:
    return f"/gestion/postulaciones/{p.id}"


@pytest.fixture
def biobio(make_desafio: Any, make_organizacion: Any, make_postulacion: Any) -> Postulacion:
    org = make_organizacion(region="08", comuna="Concepción", contact_email="contacto@ong.cl")
    return make_postulacion(make_desafio(), org, status=ENVIADA, title="Huertas en Lota",
                            problem="Inseguridad alimentaria en campamentos.")


def attach(p: Postulacion, content: bytes = b"%PDF-1.4 prueba") -> Adjunto:
    stored = secrets.token_hex(16)
    uploads.path_for(stored).write_bytes(content)
    adjunto = Adjunto(postulacion_id=p.id, original_name="carta-apoyo.pdf", stored_name=stored,
                      content_type="application/pdf", size=len(content), sha256="0" * 64)
    db.session.add(adjunto)
    db.session.commit()
    return adjunto


def fetch(client: Any, address: str) -> Any:
    """GET and close (a streamed file stays open until the response is closed)."""
    response = client.get(address)
    response.get_data()
    response.close()
    return response


def test_the_list_links_each_title_to_its_page(login_as: Any, biobio: Postulacion) -> None:
    html = login_as(Role.ENCARGADO_TECNICO).get(
        f"/gestion/convocatorias/{biobio.convocatoria_id}/postulaciones").text
    assert f'href="/gestion/postulaciones/{biobio.id}"' in html


def test_a_lead_in_scope_reads_the_profile_organisation_and_attachments(
        login_as: Any, biobio: Postulacion) -> None:
    adjunto = attach(biobio)
    client = login_as(Role.ENCARGADO_TECNICO, region="08")
    response = client.get(url(biobio))
    assert response.status_code == 200
    html = response.text
    for text in ("Huertas en Lota", "Inseguridad alimentaria en campamentos.", biobio.folio,
                 biobio.organizacion.name, "contacto@ong.cl", "carta-apoyo.pdf"):
        assert text in html
    download = fetch(client, f"/gestion/adjuntos/{adjunto.id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 prueba"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "no-store" in download.headers["Cache-Control"]
    event = db.session.scalars(
        sa.select(EventoAuditoria).where(EventoAuditoria.action == "adjunto.downloaded")).one()
    assert event.actor_id == client.user.id and event.object_id == str(adjunto.id)


def test_versions_say_which_fields_changed(login_as: Any, biobio: Postulacion) -> None:
    first = biobio.profile_data()
    db.session.add_all([
        PostulacionVersion(postulacion_id=biobio.id, number=1, data=first),
        PostulacionVersion(postulacion_id=biobio.id, number=2, data={**first, "title": "Huertas en Coronel"}),
    ])
    db.session.commit()
    html = login_as(Role.ENCARGADO_TECNICO).get(url(biobio)).text
    assert "Versión 2" in html and "Cambió: Título" in html and "Primera versión enviada." in html


def test_activity_shows_readable_actions(login_as: Any, biobio: Postulacion) -> None:
    audit.record(biobio.organizacion.owner, "postulacion.submitted", biobio)
    db.session.commit()
    html = login_as(Role.ENCARGADO_TECNICO).get(url(biobio)).text
    assert "Envió la postulación" in html
    assert "postulacion.submitted" not in html


@pytest.mark.parametrize("scope", [{"region": "13"}, {"convocatoria_id": -1}])
def test_a_lead_out_of_scope_gets_404_for_the_page_and_the_files(
        login_as: Any, biobio: Postulacion, scope: dict[str, Any], make_convocatoria: Any) -> None:
    if "convocatoria_id" in scope:
        scope = {"convocatoria_id": make_convocatoria().id}
    adjunto = attach(biobio)
    client = login_as(Role.ENCARGADO_TECNICO, **scope)
    assert client.get(url(biobio)).status_code == 404
    assert fetch(client, f"/gestion/adjuntos/{adjunto.id}").status_code == 404


def test_a_draft_stays_private_even_for_the_admin(login_as: Any, make_postulacion: Any) -> None:
    draft = make_postulacion()
    adjunto = attach(draft)
    for role in (Role.ENCARGADO_TECNICO, Role.ADMIN):
        client = login_as(role)
        assert client.get(url(draft)).status_code == 404
        assert fetch(client, f"/gestion/adjuntos/{adjunto.id}").status_code == 404


@pytest.mark.parametrize("role", [Role.POSTULANTE, Role.EVALUADOR, None])
def test_other_roles_are_refused(login_as: Any, biobio: Postulacion, role: Role | None) -> None:
    assert login_as(role).get(url(biobio)).status_code == 403
    # Not even the owner reads it here: their page is under "Mis postulaciones".
    owner = login_as(biobio.organizacion.owner)
    assert owner.get(url(biobio)).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client: Any, biobio: Postulacion) -> None:
    response = client.get(url(biobio))
    assert response.status_code == 302 and "/cuenta/ingresar" in response.headers["Location"]


def test_a_missing_submission_is_404(login_as: Any) -> None:
    assert login_as(Role.ADMIN).get("/gestion/postulaciones/999999").status_code == 404


@pytest.fixture
def count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def counter(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", counter)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", counter)


def test_query_count_does_not_grow_with_attachments_versions_and_events(
        login_as: Any, biobio: Postulacion, count_queries: list[str],
        make_user: Callable[..., Any]) -> None:
    client = login_as(Role.ENCARGADO_TECNICO)

    def add(n: int) -> None:
        for i in range(n):
            attach(biobio)
            db.session.add(PostulacionVersion(postulacion_id=biobio.id, number=len(biobio.versiones) + i + 1,
                                              data=biobio.profile_data()))
            audit.record(make_user(), "postulacion.edited", biobio,
                         before={"title": "a"}, after={"title": "b"})
        db.session.commit()
        db.session.expire_all()

    address = url(biobio)
    add(1)
    client.get(address)  # warm up

    def queries() -> int:
        count_queries.clear()
        assert client.get(address).status_code == 200
        return len(count_queries)

    few = queries()
    add(5)
    assert queries() == few, count_queries


def test_the_region_binding_is_the_same_rule_as_the_list(
        app: Flask, make_user: Any, biobio: Postulacion, make_convocatoria: Any) -> None:
    from convocatorias import lead_queries

    other: Convocatoria = make_convocatoria()
    cases = [({}, True), ({"region": "08"}, True), ({"region": "13"}, False),
             ({"convocatoria_id": biobio.convocatoria_id, "region": "08"}, True),
             ({"convocatoria_id": other.id}, False)]
    for scope, expected in cases:
        user = make_user(Role.ENCARGADO_TECNICO, **scope)
        listed = db.session.scalars(sa.select(Postulacion.id).where(lead_queries.scope_clause(user))).all()
        assert lead_queries.can_view_submission(user, biobio) is expected
        assert (biobio.id in listed) is expected
