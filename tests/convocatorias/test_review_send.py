"""Sending an idea as GOV.UK would: "Revisa tu postulación" with a "Cambiar" link per answer, the send button
that POSTs through every rule of sending, the confirmation panel with the folio and the printable receipt;
files chosen in the form itself; the comuna chosen from the official list of its region."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from convocatorias.models import Adjunto, EstadoPostulacion, Organizacion, Postulacion
from idea import chile
from idea.extensions import db
from idea.models import Role, User
from tests.convocatorias.test_applicant import profile_form

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def applicant(login_as: Callable[..., Any], make_user: Callable[..., User],
              make_organizacion: Callable[..., Organizacion]) -> Any:
    user = make_user(Role.POSTULANTE)
    client = login_as(user)
    client.org = make_organizacion(user)
    return client


@pytest.fixture
def call(make_convocatoria: Callable[..., Any], make_desafio: Callable[..., Any]) -> Any:
    now = chile.utcnow()
    convocatoria = make_convocatoria(max_submissions_per_org=1,
                                     admissibility_end_at=now + timedelta(days=45),
                                     evaluation_end_at=now + timedelta(days=75),
                                     committee_at=now + timedelta(days=100))
    return convocatoria, make_desafio(convocatoria)


def _draft(client: Any, convocatoria: Any, desafio: Any, **fields: Any) -> Postulacion:
    response = client.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                           data=profile_form(desafio, button="review", **fields))
    assert response.status_code == 302, response.get_data(as_text=True)
    p = db.session.scalars(sa.select(Postulacion).order_by(Postulacion.id.desc())).first()
    assert response.headers["Location"] == f"/mis-postulaciones/{p.id}/revisar"
    return p


def test_save_and_review_keeps_a_draft_and_the_review_page_lists_every_answer_with_a_change_link(
        applicant: Any, call: Any, outbox: Any) -> None:
    convocatoria, desafio = call
    p = _draft(applicant, convocatoria, desafio)
    assert p.status == EstadoPostulacion.BORRADOR and p.folio is None
    assert outbox.to(applicant.user.email) == []

    detail = applicant.get(f"/mis-postulaciones/{p.id}").get_data(as_text=True)
    assert f'href="/mis-postulaciones/{p.id}/revisar">Revisar y enviar</a>' in detail

    html = applicant.get(f"/mis-postulaciones/{p.id}/revisar").get_data(as_text=True)
    assert "<h1>Revisa tu postulación</h1>" in html
    for text in ("Huertos comunitarios en la población", "Las familias no tienen acceso a verduras frescas.",
                 "La Pintana", "Metropolitana de Santiago", "$25.000.000", "Idea clara", "120",
                 desafio.title):
        assert text in html
    edit = f"/mis-postulaciones/{p.id}/editar"
    for anchor in ("desafio_id", "title", "problem", "solution", "beneficiaries", "beneficiaries_count",
                   "region", "comuna", "maturity-0", "coproduction", "requested_amount", "team"):
        assert f'href="{edit}#{anchor}"' in html
    assert html.count(">Cambiar<") == 12
    assert f'action="/mis-postulaciones/{p.id}/enviar"' in html and "Enviar postulación" in html
    assert "Error:" not in html.split("</title>")[0]

    # Every anchor is the id of a control on the edit page.
    form_html = applicant.get(edit).get_data(as_text=True)
    for anchor in re.findall(rf'href="{edit}#([\w-]+)"', html):
        assert f'id="{anchor}"' in form_html, anchor


def test_send_from_the_review_page_gives_the_folio_panel_next_steps_and_a_printable_receipt(
        applicant: Any, call: Any, outbox: Any) -> None:
    convocatoria, desafio = call
    p = _draft(applicant, convocatoria, desafio)
    response = applicant.post(f"/mis-postulaciones/{p.id}/enviar")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/mis-postulaciones/{p.id}/enviada"
    db.session.expire_all()
    p = db.session.get(Postulacion, p.id)
    assert p.status == EstadoPostulacion.ENVIADA and p.folio == "IDEA-2026-0001"
    assert len([m for m in outbox.to(applicant.user.email) if p.folio in m.subject]) == 1

    html = applicant.get(f"/mis-postulaciones/{p.id}/enviada").get_data(as_text=True)
    panel = re.search(r'<div class="panel-confirmation">(.*?)</div>', html, re.S).group(1)
    assert "Postulación enviada" in panel and "IDEA-2026-0001" in panel
    assert "Qué pasa ahora" in html
    assert chile.format_datetime_es(convocatoria.submissions_close_at) in html
    for at in (convocatoria.submissions_close_at, convocatoria.admissibility_end_at,
               convocatoria.evaluation_end_at, convocatoria.committee_at):
        assert chile.format_date_es(at) in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">', html)  # no microseconds
    assert 'data-print' in html and "Imprimir comprobante" in html and "<script>" not in html
    assert "Huertos comunitarios en la población" in html

    # A second click on the send button is not a second sending.
    again = applicant.post(f"/mis-postulaciones/{p.id}/enviar")
    assert again.status_code == 302 and again.headers["Location"].endswith("/enviada")
    assert len([m for m in outbox.to(applicant.user.email) if p.folio in m.subject]) == 1


def test_the_review_page_lists_what_is_missing_and_the_send_post_still_refuses_it(
        applicant: Any, call: Any, outbox: Any) -> None:
    convocatoria, desafio = call
    p = _draft(applicant, convocatoria, desafio, team="", requested_amount="")
    html = applicant.get(f"/mis-postulaciones/{p.id}/revisar").get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert 'role="alert"' in summary and "Hay un problema" in summary
    # The review page has no fields: each problem links to its control on the form.
    edit = f"/mis-postulaciones/{p.id}/editar"
    assert f'href="{edit}#requested_amount"' in summary and f'href="{edit}#team"' in summary
    assert html.split("<title>")[1].startswith("Error:")
    assert "/enviar" not in html  # no send button while something is missing

    # Posting the send button anyway (an old tab, a crafted request) is refused by the same rules.
    refused = applicant.post(f"/mis-postulaciones/{p.id}/enviar")
    assert refused.status_code == 422
    assert "Hay un problema" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Postulacion, p.id).status == EstadoPostulacion.BORRADOR
    assert outbox.to(applicant.user.email) == []


def test_only_the_owner_can_review_or_send(applicant: Any, call: Any, login_as: Callable[..., Any]) -> None:
    convocatoria, desafio = call
    p = _draft(applicant, convocatoria, desafio)
    other = login_as(Role.POSTULANTE)
    assert other.get(f"/mis-postulaciones/{p.id}/revisar").status_code == 404
    assert other.post(f"/mis-postulaciones/{p.id}/enviar").status_code == 404
    assert other.get(f"/mis-postulaciones/{p.id}/enviada").status_code == 404
    db.session.expire_all()
    assert db.session.get(Postulacion, p.id).status == EstadoPostulacion.BORRADOR


def test_files_chosen_in_the_form_are_attached_when_the_draft_is_first_saved(applicant: Any,
                                                                           call: Any) -> None:
    convocatoria, desafio = call
    data: dict[str, Any] = profile_form(desafio, button="save_draft")
    data["archivo"] = [(io.BytesIO(PDF), "carta.pdf"), (io.BytesIO(PDF), "presupuesto.pdf")]
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}", data=data,
                              content_type="multipart/form-data")
    assert response.status_code == 302
    p = db.session.scalars(sa.select(Postulacion)).one()
    assert sorted(a.original_name for a in p.adjuntos) == ["carta.pdf", "presupuesto.pdf"]
    review = applicant.get(f"/mis-postulaciones/{p.id}/revisar").get_data(as_text=True)
    assert "carta.pdf" in review and "presupuesto.pdf" in review


def test_a_refused_file_in_the_form_saves_nothing(applicant: Any, call: Any) -> None:
    convocatoria, desafio = call
    data: dict[str, Any] = profile_form(desafio, button="save_draft")
    data["archivo"] = [(io.BytesIO(b"MZ not a pdf at all"), "virus.pdf")]
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}", data=data,
                              content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#archivo"' in html and "PDF, PNG" in html
    assert db.session.scalar(sa.select(sa.func.count(Postulacion.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Adjunto.id))) == 0


def test_files_added_while_editing_a_draft(applicant: Any, call: Any) -> None:
    convocatoria, desafio = call
    p = _draft(applicant, convocatoria, desafio)
    data: dict[str, Any] = profile_form(desafio, button="review")
    data["archivo"] = [(io.BytesIO(PDF), "anexo.pdf")]
    response = applicant.post(f"/mis-postulaciones/{p.id}/editar", data=data,
                              content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("/revisar")
    db.session.expire_all()
    assert [a.original_name for a in db.session.get(Postulacion, p.id).adjuntos] == ["anexo.pdf"]


# --- comunas -----------------------------------------------------------------------------------------

def test_a_comuna_outside_the_chosen_region_is_refused(applicant: Any, call: Any) -> None:
    convocatoria, desafio = call
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data=profile_form(desafio, button="save_draft", region="13",
                                                comuna="Concepción"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#comuna"' in html and "Concepción no está en la región Metropolitana" in html
    assert db.session.scalar(sa.select(sa.func.count(Postulacion.id))) == 0


def test_a_comuna_not_in_the_official_list_is_refused(applicant: Any, call: Any) -> None:
    convocatoria, desafio = call
    response = applicant.post(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}",
                              data=profile_form(desafio, button="save_draft", comuna="Gotham"))
    assert response.status_code == 422
    assert "Elige una comuna de la lista" in response.get_data(as_text=True)


def test_the_comuna_is_a_select_grouped_by_region(applicant: Any, call: Any) -> None:
    convocatoria, _desafio = call
    html = applicant.get(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="comuna".*?</select>', html, re.S).group(0)
    assert select.count("<optgroup") == 16
    assert select.count("<option") == 347  # the 346 comunas and "Elige una comuna"
    assert '<optgroup label="Ñuble">' in select
    # The organisation's comuna is preselected.
    assert re.search(r'<option selected value="Santiago">|<option value="Santiago" selected>', select)


def test_the_organisation_form_checks_the_comuna_against_the_region(login_as: Callable[..., Any]) -> None:
    client = login_as(Role.POSTULANTE)
    data = {"name": "Junta de Vecinos", "rut": "65.123.456-5",
            "tipo": "sin_fines_de_lucro", "region": "08", "comuna": "Temuco", "submit": "1"}
    refused = client.post("/mi-organizacion", data=data)
    assert refused.status_code == 422
    assert "Temuco no está en la región Biobío" in refused.get_data(as_text=True)
    data["comuna"] = "Concepcion"  # without the accent: stored under the official name
    assert client.post("/mi-organizacion", data=data).status_code == 302
    assert db.session.scalars(sa.select(Organizacion.comuna)).one() == "Concepción"


def test_a_stored_comuna_from_before_the_list_is_shown_under_its_official_name(
        applicant: Any, call: Any, make_postulacion: Callable[..., Any]) -> None:
    convocatoria, desafio = call
    p = make_postulacion(desafio, applicant.org, region="12", comuna="Puerto Natales")
    html = applicant.get(f"/mis-postulaciones/{p.id}/editar").get_data(as_text=True)
    assert re.search(r'<option selected value="Natales">|<option value="Natales" selected>', html)


def test_a_stored_comuna_outside_the_list_stays_visible_and_must_be_chosen_again(
        applicant: Any, call: Any, make_postulacion: Callable[..., Any]) -> None:
    convocatoria, desafio = call
    p = make_postulacion(desafio, applicant.org, region="13", comuna="Villa Los Héroes")
    html = applicant.get(f"/mis-postulaciones/{p.id}/editar").get_data(as_text=True)
    assert re.search(r'<option selected value="Villa Los Héroes">', html)
    response = applicant.post(f"/mis-postulaciones/{p.id}/editar",
                              data=profile_form(desafio, button="save_draft", comuna="Villa Los Héroes"))
    assert response.status_code == 422 and "Elige una comuna de la lista" in response.get_data(as_text=True)


def test_sending_from_the_review_page_after_the_deadline_is_refused(applicant: Any, call: Any,
                                                                    outbox: Any) -> None:
    convocatoria, desafio = call
    p = _draft(applicant, convocatoria, desafio)
    convocatoria.submissions_close_at = chile.utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = applicant.post(f"/mis-postulaciones/{p.id}/enviar")
    assert response.status_code == 422
    assert "plazo" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Postulacion, p.id).folio is None and outbox.to(applicant.user.email) == []


def test_sending_from_the_review_page_keeps_the_cap_of_the_call(applicant: Any, call: Any,
                                                              make_postulacion: Callable[..., Any]) -> None:
    convocatoria, desafio = call  # one submission per organisation
    make_postulacion(desafio, applicant.org, status=EstadoPostulacion.ENVIADA)
    p = _draft(applicant, convocatoria, desafio)
    response = applicant.post(f"/mis-postulaciones/{p.id}/enviar")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Hay un problema" in html and "(1)" in html
    db.session.expire_all()
    assert db.session.get(Postulacion, p.id).status == EstadoPostulacion.BORRADOR


def test_the_receipt_prints_without_the_site_menus() -> None:
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "idea" / "static" / "css" / "idea.css").read_text()
    printed = css[css.index("@media print"):]
    for selector in (".site-header", ".site-footer", ".actions", ".no-print"):
        assert selector in printed.split("}")[0]
