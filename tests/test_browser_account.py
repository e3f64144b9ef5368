"""In a real browser: register, get the confirmation e-mail, confirm, log in, see one's profile in Spanish."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import PASSWORD


def test_register_confirm_login_and_see_profile(live_server: str, page: Any, outbox: Any) -> None:
    page.goto(f"{live_server}/cuenta/registro")
    assert page.locator("html").get_attribute("lang") == "es"
    page.fill("#name", "Violeta Parra")
    page.fill("#email", "violeta@example.cl")
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cuenta/revisa-tu-correo$"))

    [message] = outbox.to("violeta@example.cl")
    link = re.search(r"http://[^\s]+/cuenta/confirmar/\S+", message.body).group(0)
    page.goto(link)
    page.click("#submit")  # the confirmation is a POST button, not the GET of the link
    page.wait_for_url(re.compile(r"/cuenta/ingresar$"))

    page.fill("#email", "violeta@example.cl")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/mis-postulaciones$"))  # an applicant lands on their submissions
    page.goto(f"{live_server}/cuenta/perfil")
    body = page.locator("main").inner_text()
    assert "violeta@example.cl" in body
    assert page.locator("h1").inner_text() == "Mi perfil"


def test_the_skip_link_reaches_the_content(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/cuenta/ingresar")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#contenido"
