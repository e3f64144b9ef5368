"""In a real browser at 390 px: from a closed pilot, the team writes and sends its systematization sheet, the
lead publishes it, and a visitor finds it with a filter in the public learning repository and downloads the
printable sheet (PDF)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idea.extensions import db
from idea.models import Role
from pilotos.aprendizaje_models import EstadoSistematizacion, Sistematizacion
from tests.browser import assert_accessible, assert_fits_width
from tests.conftest import PASSWORD
from tests.pilotos.conftest import Formacion
from tests.pilotos.test_aprendizaje import make_piloto, member_of


def test_from_closed_pilot_to_a_published_sheet_found_by_a_filter(
    live_server: str, browser: Any, formacion: Callable[..., Formacion], make_user: Any
) -> None:
    f = formacion(regions=("13", "08"), rejected=0)
    piloto, other = (make_piloto(e) for e in f.equipos)
    owner = member_of(piloto.equipo)
    lead = make_user(Role.ENCARGADO_TECNICO, name="Tomás Encargado", password=PASSWORD)

    def new_page(email: str | None) -> Any:
        context = browser.new_context(
            locale="es-CL",
            timezone_id="America/Santiago",
            viewport={"width": 390, "height": 844},
            accept_downloads=True,
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        if email:
            page.goto(f"{live_server}/cuenta/ingresar")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.click("#submit")
            page.wait_for_load_state()
        return page

    # The team finds its pilot and writes the sheet on a phone.
    team = new_page(owner.email)
    team.goto(f"{live_server}/equipo/sistematizacion/")
    assert_accessible(team)
    assert_fits_width(team)
    team.get_by_role("link", name=piloto.equipo.postulacion.title).click()
    team.wait_for_load_state()
    team.fill("#problem", "Niñas y niños de la comuna dejaron la escuela.")
    team.fill("#solution", "Tutorías de barrio con visitas a las familias.")
    team.fill("#results", "La asistencia subió de 60 % a 75 %.")
    team.fill("#learnings", "La primera visita en la casa abre la puerta.")
    team.fill("#scaling_conditions", "Coordinación con las escuelas y la municipalidad.")
    team.select_option("#adopter", "mineduc")
    team.check("input[name=groups][value=ninez]")
    team.check("input[name=outcome][value=escalar]")
    assert_accessible(team)
    assert_fits_width(team)
    team.click("#send")
    team.wait_for_load_state()
    sheet = db.session.query(Sistematizacion).one()
    assert sheet.status == EstadoSistematizacion.ENVIADA

    # The lead reviews and publishes it.
    boss = new_page(lead.email)
    boss.goto(f"{live_server}/gestion/aprendizaje/")
    boss.get_by_role("link", name=sheet.title).click()
    boss.wait_for_load_state()
    assert "Tutorías de barrio" in boss.locator("main").inner_text()
    assert_accessible(boss)
    assert_fits_width(boss)
    boss.click("#publish")
    boss.wait_for_load_state()
    db.session.expire_all()
    assert sheet.status == EstadoSistematizacion.PUBLICADA

    # A visitor filters the repository by the group and finds it, with its charts, and downloads the PDF.
    visitor = new_page(None)
    visitor.goto(f"{live_server}/aprendizaje/")
    visitor.select_option("#f-grupo", "ninez")
    visitor.locator("form[role=search] button[type=submit]").click()
    visitor.wait_for_load_state()
    assert "grupo=ninez" in visitor.url
    assert_accessible(visitor)
    assert_fits_width(visitor)
    visitor.get_by_role("link", name=sheet.title).click()
    visitor.wait_for_load_state()
    main = visitor.locator("main")
    assert "La primera visita en la casa" in main.inner_text()
    assert main.locator("figure.indicator-chart svg").count() >= 1
    assert "ejecución presupuestaria = monto ejecutado / monto adjudicado" in main.inner_text()
    assert_accessible(visitor)
    assert_fits_width(visitor)
    with visitor.expect_download() as download_info:
        visitor.locator(f"a[href$='/aprendizaje/{sheet.id}/ficha.pdf']").click()
    download = download_info.value
    path = download.path()
    assert download.suggested_filename.endswith(".pdf")
    with open(path, "rb") as handle:
        assert handle.read(4) == b"%PDF"
    # The other team's pilot has no sheet: nothing else is listed.
    assert other.equipo.postulacion.title not in visitor.content()
