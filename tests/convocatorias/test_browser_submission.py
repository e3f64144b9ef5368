"""In a real browser at phone width, as an applicant would: register, confirm, log in, register the
organisation (a refused try shows the error summary, focused), draft an idea attaching a PDF in the same form,
review it ("Revisa tu postulación"), send it, see the confirmation panel with the folio, get the receipt and
see it as sent in "Mis postulaciones"."""

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
    # A first try without the type or the comuna: the summary at the top, focused, links to the fields.
    page.fill("#name", "Agrupación Cuidadoras de Vicuña")
    page.fill("#rut", chile.format_rut(65_432_109))
    page.select_option("#region", "04")
    page.click("#submit")
    summary = page.locator("[data-error-summary]")
    assert summary.get_attribute("role") == "alert"
    assert "Hay un problema" in summary.inner_text()
    assert page.title().startswith("Error:")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    summary.locator("a[href='#comuna']").click()
    assert page.evaluate("document.activeElement.id") == "comuna"

    # With the region chosen, the comuna list shows that region's comunas only.
    assert page.locator("#comuna optgroup").count() == 1
    assert page.locator("#comuna optgroup").get_attribute("label") == "Coquimbo"
    assert page.locator("#comuna option").count() == 16  # "Elige una comuna" and the 15 of Coquimbo
    page.select_option("#tipo", "grupo_informal")
    page.select_option("#comuna", "Vicuña")
    page.fill("#contact_email", EMAIL)
    page.click("#submit")
    page.wait_for_url(re.compile(rf"/mis-postulaciones/nueva\?convocatoria={convocatoria.id}$"))
    assert page.input_value("#region") == "04"  # taken from the organisation
    assert page.input_value("#comuna") == "Vicuña"

    # Draft the simple profile, attaching a small PDF in the same form.
    page.select_option("#desafio_id", str(desafio.id))
    page.fill("#title", "Red de respiro para cuidadoras")
    page.fill("#problem", "Las cuidadoras no tienen descanso.")
    page.fill("#solution", "Turnos de respiro organizados por la comunidad.")
    page.fill("#beneficiaries", "Cuidadoras de personas con dependencia severa")
    page.fill("#beneficiaries_count", "80")
    page.check("#maturity-1")
    page.fill("#coproduction", "Las cuidadoras diseñan los turnos en asambleas.")
    page.fill("#requested_amount", "$25.000.000")
    page.fill("#team", "Una enfermera, una trabajadora social y dos cuidadoras.")
    page.set_input_files("#archivo", files=[{"name": "carta-apoyo.pdf", "mimeType": "application/pdf",
                                             "buffer": PDF}])
    page.click("#review")

    # "Revisa tu postulación": every answer, a way back to each field, the attachment, the send button.
    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+/revisar$"))
    assert page.locator("h1").inner_text() == "Revisa tu postulación"
    main = page.locator("main").inner_text()
    for text in ("Red de respiro para cuidadoras", "Vicuña", "Coquimbo", "$25.000.000", "Idea clara",
                 "carta-apoyo.pdf"):
        assert text in main
    assert page.locator("main a", has_text="Cambiar").count() == 12
    page.locator("main a[href$='#title']").click()
    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+/editar#title$"))
    assert page.input_value("#requested_amount") == "$25.000.000"
    page.click("#review")
    # A browser keeps the fragment across the redirect that has none.
    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+/revisar(#title)?$"))
    page.click("#send")

    # The confirmation panel with the folio, what happens next, the receipt to print.
    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+/enviada$"))
    panel = page.locator(".panel-confirmation")
    assert "Postulación enviada" in panel.inner_text() and "IDEA-2026-0001" in panel.inner_text()
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("link", name="Imprimir comprobante").click()
    assert page.evaluate("window.printed === true")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

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
