"""In a real browser, as an applicant would: register, confirm, log in, register the organisation, draft an
idea, attach a PDF, send it, get the receipt with the folio and see it as sent in "Mis postulaciones"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from convocatorias.models import Convocatoria, Desafio
from idea import chile
from tests.conftest import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EMAIL = "gabriela@example.cl"


def test_an_applicant_sends_an_idea_from_registration_to_receipt(
        live_server: str, page: Any, outbox: Any, make_convocatoria: Callable[..., Convocatoria],
        make_desafio: Callable[..., Desafio]) -> None:
    convocatoria = make_convocatoria(title="Fondo IDEA 2026")
    desafio = make_desafio(convocatoria, title="Cuidados para personas con dependencia")

    # Register and confirm the e-mail (the link shows a POST button).
    page.goto(f"{live_server}/cuenta/registro")
    page.fill("#name", "Gabriela Mistral")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cuenta/revisa-tu-correo$"))
    [confirmation] = outbox.to(EMAIL)
    page.goto(re.search(r"http://\S+/cuenta/confirmar/\S+", confirmation.body).group(0))
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cuenta/ingresar$"))

    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/mis-postulaciones$"))  # an applicant lands on their submissions

    # Starting an idea without an organisation leads to the organisation form, then back.
    page.goto(f"{live_server}/mis-postulaciones/nueva?convocatoria={convocatoria.id}")
    page.wait_for_url(re.compile(r"/mi-organizacion\?next="))
    page.fill("#name", "Agrupación Cuidadoras de Vicuña")
    page.fill("#rut", chile.format_rut(65_432_109))
    page.select_option("#tipo", "grupo_informal")
    page.select_option("#region", "04")
    page.fill("#comuna", "Vicuña")
    page.fill("#contact_email", EMAIL)
    page.click("#submit")
    page.wait_for_url(re.compile(rf"/mis-postulaciones/nueva\?convocatoria={convocatoria.id}$"))
    assert page.input_value("#region") == "04"  # taken from the organisation

    # Draft the simple profile.
    page.select_option("#desafio_id", str(desafio.id))
    page.fill("#title", "Red de respiro para cuidadoras")
    page.fill("#problem", "Las cuidadoras no tienen descanso.")
    page.fill("#solution", "Turnos de respiro organizados por la comunidad.")
    page.fill("#beneficiaries", "Cuidadoras de personas con dependencia severa")
    page.fill("#beneficiaries_count", "80")
    page.fill("#comuna", "Vicuña")
    page.select_option("#maturity", "idea_clara")
    page.fill("#coproduction", "Las cuidadoras diseñan los turnos en asambleas.")
    page.fill("#requested_amount", "$25.000.000")
    page.fill("#team", "Una enfermera, una trabajadora social y dos cuidadoras.")
    page.click("#save_draft")
    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+$"))
    assert page.locator("h1").inner_text() == "Red de respiro para cuidadoras"

    # Attach a small PDF (a separate little form on the page, no JavaScript needed).
    page.set_input_files("#archivo", files=[{"name": "carta-apoyo.pdf", "mimeType": "application/pdf",
                                             "buffer": PDF}])
    page.click("#upload")
    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+#adjuntos$"))
    assert page.get_by_role("link", name="carta-apoyo.pdf").is_visible()

    # Send it from the edit page.
    page.locator("main a[href$='/editar']").first.click()
    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+/editar$"))
    assert page.input_value("#requested_amount") == "$25.000.000"
    page.click("#submit")
    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+$"))
    assert "IDEA-2026-0001" in page.locator("main").inner_text()

    receipts = [m for m in outbox.to(EMAIL) if "IDEA-2026-0001" in m.subject]
    assert len(receipts) == 1
    assert "IDEA-2026-0001" in receipts[0].body and "Red de respiro para cuidadoras" in receipts[0].body
    assert "$25.000.000" in receipts[0].body

    # "Mis postulaciones" shows it as sent, reached from the menu.
    page.get_by_role("navigation").locator("a[href='/mis-postulaciones']").click()
    page.wait_for_url(re.compile(r"/mis-postulaciones$"))
    row = page.locator("tbody tr", has_text="IDEA-2026-0001")
    assert re.search(r"Enviada|Sent", row.inner_text())
    assert "Red de respiro para cuidadoras" in row.inner_text()
