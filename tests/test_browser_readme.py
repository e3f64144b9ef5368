"""The README's "Try it" as a newcomer meets it, in a phone-width browser: `flask seed-demo`, `flask run`
(development: SQLite in the instance folder, no mail server, no Redis), register, open the confirmation link
that the server printed, confirm, register the organisation, draft an idea, review it, send it, and read the
folio on the confirmation panel."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convocatorias import seed
from idea import chile
from tests.conftest import PASSWORD
from tests.test_dev_mail import README_ENV

ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).parent / "flask")
EMAIL = "violeta@example.cl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def readme_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The README's two commands, each as its own process; yields the address and the server's output."""
    env = {k: v for k, v in os.environ.items() if k not in README_ENV}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), FLASK_APP="wsgi")
    seeded = subprocess.run([FLASK, "seed-demo"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    port = _free_port()
    output = tmp_path / "flask-run.log"
    with output.open("w") as sink:
        server = subprocess.Popen([FLASK, "run", "--port", str(port)], cwd=ROOT, env=env, stdout=sink,
                                  stderr=subprocess.STDOUT)
    try:
        address = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield address, output
    finally:
        server.terminate()
        server.wait(timeout=10)


def _printed_link(output: Path, pattern: str) -> str:
    """The path of the first link matching `pattern` that the server printed (mail is printed, not sent)."""
    for _ in range(100):
        found = re.search(rf"http://127\.0\.0\.1:5000({pattern}\S*)", output.read_text())
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError("no printed link in the server's output:\n" + output.read_text()[-3000:])


def test_a_newcomer_registers_confirms_and_sends_an_idea_with_the_readme_setup(
        readme_server: tuple[str, Path], page: Any) -> None:
    address, output = readme_server
    page.goto(f"{address}/cuenta/registro")
    page.fill("#name", "Violeta Parra")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cuenta/revisa-tu-correo$"))

    # The printed mail carries the link (to the README's address, port 5000); the page shows a POST button.
    page.goto(address + _printed_link(output, "/cuenta/confirmar/"))
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cuenta/ingresar$"))
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/mis-postulaciones$"))

    # From the demo call's public page to its submission form, through the organisation form.
    page.goto(f"{address}/convocatorias/{seed.DEMO_CALL_SLUG}")
    page.locator("main a[href*='/mis-postulaciones/nueva']").first.click()
    page.wait_for_url(re.compile(r"/mi-organizacion\?next="))
    page.fill("#name", "Junta de Vecinos Villa Alegre")
    page.fill("#rut", chile.format_rut(65_432_109))
    page.select_option("#tipo", "grupo_informal")
    page.select_option("#region", "07")
    page.select_option("#comuna", "Talca")
    page.fill("#contact_email", EMAIL)
    page.click("#submit")
    page.wait_for_url(re.compile(r"/mis-postulaciones/nueva\?convocatoria=\d+"))

    page.select_option("#desafio_id", index=1)
    page.fill("#title", "Huertos comunitarios para adultos mayores")
    page.fill("#problem", "Las personas mayores viven solas y comen mal.")
    page.fill("#solution", "Huertos en sedes vecinales, cuidados por las mismas personas mayores.")
    page.fill("#beneficiaries", "Personas mayores de la villa")
    page.fill("#beneficiaries_count", "60")
    page.check("#maturity-1")
    page.fill("#coproduction", "Las personas mayores deciden qué plantar y cómo turnarse.")
    page.fill("#requested_amount", "$22.000.000")
    page.fill("#team", "Dirigentas vecinales y una agrónoma.")
    page.click("#review")

    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+/revisar$"))
    assert "Huertos comunitarios para adultos mayores" in page.locator("main").inner_text()
    page.click("#send")

    page.wait_for_url(re.compile(r"/mis-postulaciones/\d+/enviada$"))
    panel = page.locator(".panel-confirmation").inner_text()
    folio = re.search(r"IDEA-\d{4}-\d{4}", panel)
    assert folio, panel
    # The receipt was printed too, with the same folio.
    assert _printed_link(output, "/mis-postulaciones/")
    assert folio.group(0) in output.read_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
