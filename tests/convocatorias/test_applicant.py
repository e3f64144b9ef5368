"""The applicant area as an applicant (and an attacker) sees it: organisation, drafts, sending, editing,
withdrawing, the rules of the call, who may see what, and escaping of what applicants type."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from convocatorias import permissions
from convocatorias.models import (
    CambioEstado,
    Convocatoria,
    Desafio,
    EstadoPostulacion,
    Fase,
    Madurez,
    Organizacion,
    Postulacion,
    PostulacionVersion,
    TipoOrganizacion,
)
from idea import chile
from idea.extensions import db
from idea.models import EventoAuditoria, Role, User
from tests.convocatorias.conftest import valid_rut


def profile_form(desafio: Desafio, *, button: str = "submit", **fields: Any) -> dict[str, str]:
    """The simple-profile form as a person fills it in, pressing `button` ("submit" or "save_draft")."""
    data = {
        "desafio_id": str(desafio.id),
        "title": "Huertos comunitarios en la población",
        "problem": "Las familias no tienen acceso a verduras frescas.",
        "solution": "Huertos manejados por las vecinas y vecinos.",
        "beneficiaries": "Familias del barrio",
        "beneficiaries_count": "120",
        "region": "13",
        "comuna": "La Pintana",
        "maturity": Madurez.IDEA_CLARA.value,
        "coproduction": "Las familias diseñan los huertos en talleres.",
        "requested_amount": "$25.000.000",
        "team": "Dos profesionales y una dirigenta vecinal.",
        button: "1",
    }
    data.update({k: str(v) for k, v in fields.items()})
    return data


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def errors_of(html: str, field: str) -> str:
    """The text of the error list shown under `field` ('' when there is none)."""
    match = re.search(rf'<ul class="errors" id="{field}-error"[^>]*>(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def applicant(login_as: Callable[..., Any], make_user: Callable[..., User],
              make_organizacion: Callable[..., Organizacion]) -> Any:
    """A logged-in applicant with an organisation (client.user, client.org)."""
    user = make_user(Role.POSTULANTE)
    client = login_as(user)
    client.org = make_organizacion(user)
    return client


@pytest.fixture
def call(make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio]) -> Any:
    convocatoria = make_convocatoria(max_submissions_per_org=1)
    desafio = make_desafio(convocatoria)
    return convocatoria, desafio


# --- organisation ---------------------------------------------------------------------------------------

def test_organisation_is_created_with_a_canonical_rut_then_edited(login_as: Callable[..., Any]) -> None:
    client = login_as(Role.POSTULANTE)
    assert client.get("/mi-organizacion").status_code == 200
    data = {"name": "Junta de Vecinos Villa Esperanza", "rut": chile.format_rut(65123456),
            "tipo": TipoOrganizacion.SIN_FINES_DE_LUCRO.value, "region": "08", "comuna": "Lota",
            "contact_name": "Rosa Pérez", "contact_email": "rosa@example.cl",
            "contact_phone": "+56 9 1234 5678"}
    response = client.post("/mi-organizacion", data=data)
    assert response.status_code == 302
    org = db.session.scalars(sa.select(Organizacion)).one()
    assert org.rut == f"65123456-{chile.compute_check_digit(65123456)}"
    assert org.owner_id == client.user.id and org.tipo == TipoOrganizacion.SIN_FINES_DE_LUCRO

    page = client.get("/mi-organizacion").get_data(as_text=True)
    assert "65.123.456-" in page  # shown formatted
    response = client.post("/mi-organizacion", data={**data, "comuna": "Coronel"})
    assert response.status_code == 302
    assert count(Organizacion) == 1
    assert db.session.scalars(sa.select(Organizacion)).one().comuna == "Coronel"
    actions = db.session.scalars(sa.select(EventoAuditoria.action)).all()
    assert "organizacion.created" in actions and "organizacion.updated" in actions


def test_organisation_refuses_a_bad_rut_and_one_registered_by_another_account(
        login_as: Callable[..., Any], make_organizacion: Callable[..., Organizacion]) -> None:
    other = make_organizacion(rut=valid_rut(76_543_210))
    client = login_as(Role.POSTULANTE)
    wrong_digit = "1" if other.rut.endswith("-0") else "0"
    data = {"name": "Mi fundación", "rut": f"76.543.210-{wrong_digit}", "tipo": "sin_fines_de_lucro",
            "region": "13", "comuna": "Santiago"}
    bad_dv = client.post("/mi-organizacion", data=data)
    assert bad_dv.status_code == 422
    assert "RUT no es válido" in errors_of(bad_dv.get_data(as_text=True), "rut")

    # The same RUT another account registered, typed in another format.
    dotted = chile.format_rut(other.rut)
    taken = client.post("/mi-organizacion", data={**data, "rut": dotted})
    assert taken.status_code == 422
    assert "ya está registrado por otra cuenta" in errors_of(taken.get_data(as_text=True), "rut")
    assert count(Organizacion) == 1


def test_organisation_requires_its_fields(login_as: Callable[..., Any]) -> None:
    client = login_as(Role.POSTULANTE)
    response = client.post("/mi-organizacion", data={"name": "", "rut": "", "tipo": "", "region": "",
                                                     "comuna": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for name in ("name", "rut", "tipo", "region", "comuna"):
        assert errors_of(html, name), name
    assert count(Organizacion) == 0


# --- starting a submission ------------------------------------------------------------------------------

def test_new_submission_without_an_organisation_goes_to_create_it_and_comes_back(
        login_as: Callable[..., Any], call: Any) -> None:
    convocatoria, desafio = call
    client = login_as(Role.POSTULANTE)
    response = client.get(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/mi-organizacion?next=")
    response = client.post(location, data={"name": "Grupo Informal Lota", "rut": valid_rut(12_345_678),
                                           "tipo": "grupo_informal", "region": "08", "comuna": "Lota"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert desafio.title in html
    assert '<option selected value="08">' in html  # region taken from the organisation


def test_new_submission_without_a_call_lets_the_user_pick_an_open_one(
        applicant: Any, make_convocatoria: Callable[..., Convocatoria]) -> None:
    open_call = make_convocatoria(title="Convocatoria abierta")
    closed = make_convocatoria(title="Convocatoria cerrada", fase=Fase.ADMISIBILIDAD)
    html = applicant.get("/mis-postulaciones/nueva").get_data(as_text=True)
    assert "Convocatoria abierta" in html and f"convocatoria={open_call.id}" in html
    assert "Convocatoria cerrada" not in html
    assert applicant.get(f"/mis-postulaciones/nueva?convocatoria={closed.id}").status_code == 200
    unpublished = make_convocatoria(published_at=None)
    assert applicant.get(f"/mis-postulaciones/nueva?convocatoria={unpublished.id}").status_code == 404
    assert applicant.get("/mis-postulaciones/nueva?convocatoria=999999").status_code == 404


def test_draft_needs_only_title_and_challenge(applicant: Any, call: Any) -> None:
    convocatoria, desafio = call
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data={"desafio_id": str(desafio.id), "title": "Una idea a medias",
                                    "save_draft": "1"})
    assert response.status_code == 302
    p = db.session.scalars(sa.select(Postulacion)).one()
    assert p.status == EstadoPostulacion.BORRADOR and p.folio is None and p.version == 0
    assert p.requested_amount is None and p.problem == ""
    assert [c.to_status for c in p.historial] == [EstadoPostulacion.BORRADOR]
    assert count(PostulacionVersion) == 0

    missing = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                             data={"desafio_id": "", "title": "", "save_draft": "1"})
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert "obligatorio" in errors_of(html, "title") and "obligatorio" in errors_of(html, "desafio_id")
    assert count(Postulacion) == 1


def test_submit_gives_a_folio_version_history_audit_and_a_receipt(applicant: Any, call: Any,
                                                                   outbox: Any) -> None:
    convocatoria, desafio = call
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data=profile_form(desafio))
    assert response.status_code == 302
    p = db.session.scalars(sa.select(Postulacion)).one()
    assert p.status == EstadoPostulacion.ENVIADA
    assert p.folio == "IDEA-2026-0001" and p.folio_number == 1
    assert p.requested_amount == 25_000_000 and p.maturity == Madurez.IDEA_CLARA
    assert p.submitted_at is not None and p.version == 1
    assert [v.number for v in p.versiones] == [1]
    assert p.versiones[0].data == p.profile_data()
    assert [(c.from_status, c.to_status) for c in p.historial] == [
        (None, EstadoPostulacion.BORRADOR), (EstadoPostulacion.BORRADOR, EstadoPostulacion.ENVIADA)]
    assert "postulacion.submitted" in db.session.scalars(sa.select(EventoAuditoria.action)).all()

    [mail] = outbox.to(applicant.user.email)
    assert "IDEA-2026-0001" in mail.subject
    for text in (mail.body, mail.html):
        assert "IDEA-2026-0001" in text and "Huertos comunitarios" in text
        assert desafio.title in text and "$25.000.000" in text and "Metropolitana" in text
        assert chile.format_datetime_es(p.submitted_at) in text
        assert f"/mis-postulaciones/{p.id}" in text

    detail = applicant.get(f"/mis-postulaciones/{p.id}").get_data(as_text=True)
    assert "IDEA-2026-0001" in detail


def test_folios_are_sequential_per_year_prefix(applicant: Any, make_convocatoria: Callable[..., Convocatoria],
                                        make_desafio: Callable[..., Desafio],
                                        make_postulacion: Callable[..., Postulacion]) -> None:
    convocatoria = make_convocatoria(max_submissions_per_org=5)
    desafio = make_desafio(convocatoria)
    earlier = make_postulacion(desafio, status=EstadoPostulacion.ENVIADA)
    earlier.folio_number, earlier.folio = 41, "IDEA-2026-0041"
    other = make_postulacion(make_desafio(make_convocatoria(year=2025)), status=EstadoPostulacion.ENVIADA)
    other.folio_number, other.folio = 99, "IDEA-2025-0099"  # another year's prefix: its numbers do not count
    db.session.commit()
    for _ in range(2):
        response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                                  data=profile_form(desafio))
        assert response.status_code == 302
    db.session.expire_all()
    folios = db.session.scalars(sa.select(Postulacion.folio).where(
        Postulacion.organizacion_id == applicant.org.id).order_by(Postulacion.id)).all()
    assert folios == ["IDEA-2026-0042", "IDEA-2026-0043"]


# --- the rules of the call: 422, a message next to the field, nothing saved ---------------------------------

@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"requested_amount": "$19.999.999"}, "requested_amount", "entre $20.000.000 y $30.000.000"),
    ({"requested_amount": "30.000.001"}, "requested_amount", "entre $20.000.000 y $30.000.000"),
    ({"requested_amount": "veinte millones"}, "requested_amount", "en pesos, sin decimales"),
    ({"region": "01"}, "region", "solo recibe ideas para estas regiones"),
    ({"problem": ""}, "problem", "obligatorio"),
    ({"maturity": ""}, "maturity", "obligatorio"),
    ({"beneficiaries_count": ""}, "beneficiaries_count", "obligatorio"),
    ({"requested_amount": ""}, "requested_amount", "obligatorio"),
])
def test_refusals_show_a_message_next_to_the_field_and_save_nothing(
        applicant: Any, make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio],
        fields: dict[str, str], field: str, message: str) -> None:
    convocatoria = make_convocatoria()
    desafio = make_desafio(convocatoria, regions=["13", "08"])
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data=profile_form(desafio, **fields))
    assert response.status_code == 422
    assert message in errors_of(response.get_data(as_text=True), field)
    assert count(Postulacion) == 0 and count(CambioEstado) == 0 and count(EventoAuditoria) == 0


def test_all_missing_fields_are_named_at_once(applicant: Any, call: Any) -> None:
    convocatoria, desafio = call
    blank = {name: "" for name in ("problem", "solution", "beneficiaries", "beneficiaries_count", "region",
                                   "comuna", "maturity", "coproduction", "requested_amount", "team")}
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data=profile_form(desafio, **blank))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for name in blank:
        assert "obligatorio" in errors_of(html, name), name
    assert count(Postulacion) == 0


def test_a_challenge_of_another_call_is_refused(applicant: Any, call: Any,
                                                make_desafio: Callable[..., Desafio]) -> None:
    convocatoria, _desafio = call
    foreign = make_desafio()
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data=profile_form(foreign))
    assert response.status_code == 422
    assert errors_of(response.get_data(as_text=True), "desafio_id")
    assert count(Postulacion) == 0


def test_the_organisation_cap_per_call_counts_sent_submissions_only(
        applicant: Any, call: Any, make_postulacion: Callable[..., Postulacion]) -> None:
    convocatoria, desafio = call  # max_submissions_per_org=1
    make_postulacion(desafio, applicant.org, status=EstadoPostulacion.RETIRADA)
    make_postulacion(desafio, applicant.org)  # a draft
    make_postulacion(desafio, applicant.org, status=EstadoPostulacion.ENVIADA)
    before = count(Postulacion)
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data=profile_form(desafio))
    assert response.status_code == 422
    assert "todas las postulaciones que acepta esta convocatoria (1)" in response.get_data(as_text=True)
    assert count(Postulacion) == before
    # A draft can still be saved: the cap is about sending.
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data=profile_form(desafio, button="save_draft"))
    assert response.status_code == 302


def test_the_cap_also_applies_when_sending_a_draft(applicant: Any, call: Any,
                                                   make_postulacion: Callable[..., Postulacion]) -> None:
    _convocatoria, desafio = call
    make_postulacion(desafio, applicant.org, status=EstadoPostulacion.ENVIADA)
    draft = make_postulacion(desafio, applicant.org)
    response = applicant.post(f"/mis-postulaciones/{draft.id}/editar", data=profile_form(desafio))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Postulacion, draft.id).status == EstadoPostulacion.BORRADOR
    assert count(PostulacionVersion) == 0


# --- editing, versions, withdrawing, deleting --------------------------------------------------------------

def test_every_edit_of_a_sent_submission_keeps_a_version(applicant: Any, call: Any) -> None:
    convocatoria, desafio = call
    applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}", data=profile_form(desafio))
    p = db.session.scalars(sa.select(Postulacion)).one()
    for n, title in enumerate(["Huertos comunitarios 2", "Huertos comunitarios 3"], start=2):
        page = applicant.get(f"/mis-postulaciones/{p.id}/editar")
        assert page.status_code == 200
        assert f'value="{chile.format_clp(p.requested_amount)}"' in page.get_data(as_text=True)
        response = applicant.post(f"/mis-postulaciones/{p.id}/editar",
                                  data=profile_form(desafio, title=title, requested_amount="26000000"))
        assert response.status_code == 302
        db.session.expire_all()
        p = db.session.get(Postulacion, p.id)
        assert p.status == EstadoPostulacion.ENVIADA and p.folio == "IDEA-2026-0001"
        assert p.version == n and [v.number for v in p.versiones] == list(range(1, n + 1))
        assert p.versiones[-1].data["title"] == title
    assert p.versiones[0].data["title"] == "Huertos comunitarios en la población"
    edits = db.session.scalars(sa.select(EventoAuditoria)
                               .where(EventoAuditoria.action == "postulacion.edited")
                               .order_by(EventoAuditoria.id)).all()
    assert len(edits) == 2
    assert edits[0].before == {"title": "Huertos comunitarios en la población",
                               "requested_amount": 25_000_000}
    assert edits[0].after == {"version": 2, "title": "Huertos comunitarios 2", "requested_amount": 26_000_000}
    # Editing a sent submission requires every field, whichever button is sent.
    response = applicant.post(f"/mis-postulaciones/{p.id}/editar",
                              data=profile_form(desafio, button="save_draft", team=""))
    assert response.status_code == 422
    assert count(PostulacionVersion) == 3


def test_withdraw_asks_for_confirmation_then_withdraws_before_the_deadline(
        applicant: Any, call: Any, make_postulacion: Callable[..., Postulacion]) -> None:
    _convocatoria, desafio = call
    p = make_postulacion(desafio, applicant.org, status=EstadoPostulacion.ENVIADA)
    page = applicant.get(f"/mis-postulaciones/{p.id}/retirar")
    assert page.status_code == 200 and 'method="post"' in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Postulacion, p.id).status == EstadoPostulacion.ENVIADA  # a GET changes nothing
    assert applicant.post(f"/mis-postulaciones/{p.id}/retirar").status_code == 302
    db.session.expire_all()
    p = db.session.get(Postulacion, p.id)
    assert p.status == EstadoPostulacion.RETIRADA and p.withdrawn_at is not None
    assert [(c.from_status, c.to_status) for c in p.historial] == [
        (EstadoPostulacion.ENVIADA, EstadoPostulacion.RETIRADA)]
    assert "postulacion.withdrawn" in db.session.scalars(sa.select(EventoAuditoria.action)).all()
    # A withdrawn submission can be neither withdrawn again nor edited.
    assert applicant.post(f"/mis-postulaciones/{p.id}/retirar").status_code == 422
    assert applicant.post(f"/mis-postulaciones/{p.id}/editar", data=profile_form(desafio)).status_code == 422


def test_withdraw_is_refused_after_the_deadline(
        applicant: Any, make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio],
        make_postulacion: Callable[..., Postulacion], monkeypatch: pytest.MonkeyPatch) -> None:
    convocatoria = make_convocatoria()
    p = make_postulacion(make_desafio(convocatoria), applicant.org, status=EstadoPostulacion.ENVIADA)
    later = convocatoria.submissions_close_at + timedelta(seconds=1)
    monkeypatch.setattr("idea.chile.utcnow", lambda: later)
    response = applicant.post(f"/mis-postulaciones/{p.id}/retirar")
    assert response.status_code == 422
    assert "plazo de esta convocatoria ya venció" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Postulacion, p.id).status == EstadoPostulacion.ENVIADA
    assert count(CambioEstado) == 0
    # The page does not offer it either.
    html = applicant.get(f"/mis-postulaciones/{p.id}").get_data(as_text=True)
    assert f"/mis-postulaciones/{p.id}/retirar" not in html and "plazo de esta convocatoria ya venció" in html


def test_a_draft_can_be_deleted_but_a_sent_submission_cannot(
        applicant: Any, call: Any, make_postulacion: Callable[..., Postulacion]) -> None:
    _convocatoria, desafio = call
    draft = make_postulacion(desafio, applicant.org).id
    sent = make_postulacion(desafio, applicant.org, status=EstadoPostulacion.ENVIADA).id
    assert applicant.get(f"/mis-postulaciones/{draft}/eliminar").status_code == 200
    assert applicant.post(f"/mis-postulaciones/{draft}/eliminar").status_code == 302
    assert applicant.post(f"/mis-postulaciones/{sent}/eliminar").status_code == 422
    db.session.expire_all()
    assert db.session.get(Postulacion, draft) is None
    assert db.session.get(Postulacion, sent) is not None
    assert "postulacion.draft_deleted" in db.session.scalars(sa.select(EventoAuditoria.action)).all()


# --- Mis postulaciones and the detail page -----------------------------------------------------------------

def test_my_submissions_lists_only_mine_with_status_and_actions_when_allowed(
        applicant: Any, call: Any, make_postulacion: Callable[..., Postulacion]) -> None:
    convocatoria, desafio = call
    mine = make_postulacion(desafio, applicant.org, status=EstadoPostulacion.ENVIADA, title="Mi idea enviada")
    draft = make_postulacion(desafio, applicant.org, title="Mi borrador")
    make_postulacion(desafio, title="Idea de otra organización", status=EstadoPostulacion.ENVIADA)
    html = applicant.get("/mis-postulaciones").get_data(as_text=True)
    assert "Mi idea enviada" in html and "Mi borrador" in html and mine.folio in html
    assert "Idea de otra organización" not in html
    assert convocatoria.title in html and "badge" in html

    sent_page = applicant.get(f"/mis-postulaciones/{mine.id}").get_data(as_text=True)
    assert f"/mis-postulaciones/{mine.id}/editar" in sent_page
    assert f"/mis-postulaciones/{mine.id}/retirar" in sent_page
    assert f"/mis-postulaciones/{mine.id}/eliminar" not in sent_page
    draft_page = applicant.get(f"/mis-postulaciones/{draft.id}").get_data(as_text=True)
    assert f"/mis-postulaciones/{draft.id}/eliminar" in draft_page
    assert f"/mis-postulaciones/{draft.id}/retirar" not in draft_page


def test_the_menu_links_to_my_submissions_for_logged_in_users(applicant: Any, client: Any) -> None:
    assert 'href="/mis-postulaciones"' in applicant.get("/").get_data(as_text=True)
    assert 'href="/mis-postulaciones"' not in client.get("/").get_data(as_text=True)


def test_what_applicants_type_is_escaped(applicant: Any, call: Any) -> None:
    convocatoria, desafio = call
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data=profile_form(desafio, title=evil, team=evil, button="save_draft"))
    assert response.status_code == 302
    p = db.session.scalars(sa.select(Postulacion)).one()
    for url in ("/mis-postulaciones", f"/mis-postulaciones/{p.id}", f"/mis-postulaciones/{p.id}/editar"):
        html = applicant.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


# --- who may see and change what -----------------------------------------------------------------------

@pytest.fixture
def victim(make_postulacion: Callable[..., Postulacion], call: Any, tmp_path: Any) -> Postulacion:
    from convocatorias.models import Adjunto

    _convocatoria, desafio = call
    p = make_postulacion(desafio, status=EstadoPostulacion.ENVIADA, region="08")
    p.adjuntos.append(Adjunto(original_name="plan.pdf", stored_name="a" * 32, content_type="application/pdf",
                              size=10, sha256="0" * 64))
    db.session.commit()
    return p


def _attacker_urls(p: Postulacion) -> list[tuple[str, str]]:
    adjunto = p.adjuntos[0].id
    return [
        ("GET", f"/mis-postulaciones/{p.id}"),
        ("GET", f"/mis-postulaciones/{p.id}/editar"),
        ("POST", f"/mis-postulaciones/{p.id}/editar"),
        ("GET", f"/mis-postulaciones/{p.id}/retirar"),
        ("POST", f"/mis-postulaciones/{p.id}/retirar"),
        ("POST", f"/mis-postulaciones/{p.id}/eliminar"),
        ("POST", f"/mis-postulaciones/{p.id}/adjuntos"),
        ("GET", f"/mis-postulaciones/adjuntos/{adjunto}"),
        ("POST", f"/mis-postulaciones/adjuntos/{adjunto}/eliminar"),
    ]


def test_another_applicant_gets_404_for_everything_of_mine(applicant: Any, victim: Postulacion) -> None:
    for method, url in _attacker_urls(victim):
        data = profile_form(victim.desafio) if url.endswith("editar") else {}
        response = applicant.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url, response.status_code)
    db.session.expire_all()
    p = db.session.get(Postulacion, victim.id)
    assert p.status == EstadoPostulacion.ENVIADA and p.version == 1 and len(p.adjuntos) == 1


def test_anonymous_visitors_are_sent_to_log_in(client: Any, victim: Postulacion) -> None:
    for method, url in [*_attacker_urls(victim), ("GET", "/mis-postulaciones"), ("GET", "/mi-organizacion"),
                        ("GET", "/mis-postulaciones/nueva")]:
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert "/cuenta/ingresar" in response.headers["Location"]


def test_the_admin_does_not_open_an_applicants_draft(login_as: Callable[..., Any],
                                                     victim: Postulacion) -> None:
    victim.status = EstadoPostulacion.BORRADOR
    db.session.commit()
    admin = login_as(Role.ADMIN)
    for url in (f"/mis-postulaciones/{victim.id}", f"/mis-postulaciones/adjuntos/{victim.adjuntos[0].id}"):
        assert admin.get(url).status_code == 404, url
    # Once sent, the admin sees it.
    victim.status = EstadoPostulacion.ENVIADA
    db.session.commit()
    assert admin.get(f"/mis-postulaciones/{victim.id}").status_code == 200


def test_staff_in_scope_may_look_but_not_change(login_as: Callable[..., Any], victim: Postulacion) -> None:
    lead = login_as(Role.ENCARGADO_TECNICO, region="08", convocatoria_id=victim.convocatoria_id)
    assert lead.get(f"/mis-postulaciones/{victim.id}").status_code == 200
    assert lead.post(f"/mis-postulaciones/{victim.id}/retirar").status_code == 403
    assert lead.post(f"/mis-postulaciones/{victim.id}/editar",
                     data=profile_form(victim.desafio)).status_code == 403
    other_region = login_as(Role.ENCARGADO_TECNICO, region="13")
    assert other_region.get(f"/mis-postulaciones/{victim.id}").status_code == 404
    reviewer = login_as(Role.EVALUADOR)
    assert reviewer.get(f"/mis-postulaciones/{victim.id}").status_code == 404


@pytest.mark.parametrize(("who", "status", "view", "edit"), [
    ("owner", EstadoPostulacion.BORRADOR, True, True),
    ("owner", EstadoPostulacion.ENVIADA, True, True),
    ("owner", EstadoPostulacion.RETIRADA, True, False),
    ("owner", EstadoPostulacion.ADMISIBLE, True, False),
    ("stranger", EstadoPostulacion.ENVIADA, False, False),
    ("admin", EstadoPostulacion.BORRADOR, False, False),
    ("admin", EstadoPostulacion.ENVIADA, True, False),
    ("lead_in_scope", EstadoPostulacion.ENVIADA, True, False),
    ("lead_in_scope", EstadoPostulacion.BORRADOR, False, False),
    ("lead_other_region", EstadoPostulacion.ENVIADA, False, False),
    ("lead_other_call", EstadoPostulacion.ENVIADA, False, False),
    ("reviewer", EstadoPostulacion.ENVIADA, False, False),
    ("anonymous", EstadoPostulacion.ENVIADA, False, False),
])
def test_permission_rules(make_user: Callable[..., User], make_postulacion: Callable[..., Postulacion],
                          call: Any, who: str, status: EstadoPostulacion, view: bool, edit: bool) -> None:
    from flask_login import AnonymousUserMixin

    _convocatoria, desafio = call
    p = make_postulacion(desafio, status=status, region="08")
    users: dict[str, Any] = {
        "owner": lambda: p.organizacion.owner,
        "stranger": lambda: make_user(Role.POSTULANTE),
        "admin": lambda: make_user(Role.ADMIN),
        "lead_in_scope": lambda: make_user(Role.ENCARGADO_TECNICO, region="08",
                                           convocatoria_id=p.convocatoria_id),
        "lead_other_region": lambda: make_user(Role.ENCARGADO_TECNICO, region="09"),
        "lead_other_call": lambda: make_user(Role.ENCARGADO_TECNICO,
                                             convocatoria_id=p.convocatoria_id + 1000),
        "reviewer": lambda: make_user(Role.EVALUADOR),
        "anonymous": AnonymousUserMixin,
    }
    user = users[who]()
    now = chile.utcnow()
    assert permissions.can_view_postulacion(user, p) is view
    assert permissions.can_edit_postulacion(user, p, now) is edit
    after_deadline = p.convocatoria.submissions_close_at + timedelta(seconds=1)
    assert permissions.can_edit_postulacion(user, p, after_deadline) is False
    if p.adjuntos:
        assert permissions.can_download_adjunto(user, p.adjuntos[0]) is view


def test_my_submissions_takes_the_same_number_of_queries_for_many_submissions(
        applicant: Any, make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio],
        make_postulacion: Callable[..., Postulacion]) -> None:
    def queries_for_index() -> int:
        statements: list[str] = []

        def counter(*args: Any) -> None:
            statements.append(args[2])

        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert applicant.get("/mis-postulaciones").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)
        return len(statements)

    make_postulacion(make_desafio(make_convocatoria()), applicant.org)
    few = queries_for_index()
    for _ in range(6):
        make_postulacion(make_desafio(make_convocatoria()), applicant.org, status=EstadoPostulacion.ENVIADA)
    assert queries_for_index() == few
