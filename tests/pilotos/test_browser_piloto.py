"""In a real browser at 390 px, an awarded team's pilot from its first report to a published learning sheet:
the team sends report 1, the lead sends it back with a comment, the team corrects and resends it, the lead
approves it; report 2 is sent and approved; the final report is sent and approved, and the pilot shows as
closed. The team then writes and sends its systematization sheet, the lead publishes it, and a visitor finds
it with a filter in the public learning repository and downloads the printable sheet (PDF)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from idea.extensions import db
from idea.models import Role, User
from pilotos import ejecucion as eops
from pilotos.aprendizaje_models import EstadoSistematizacion, Sistematizacion
from pilotos.ejecucion_models import EstadoPiloto, Piloto
from tests.browser import assert_accessible, assert_fits_width
from tests.conftest import PASSWORD
from tests.pilotos.conftest import Formacion
from tests.pilotos.ejecucion_fixtures import START, award


def test_from_first_report_to_a_published_sheet_found_by_a_filter(
    live_server: str, browser: Any, formacion: Callable[..., Formacion], make_user: Any
) -> None:
    a = award(formacion(regions=("13", "08", "08", "13"), rejected=0))
    admin = make_user(Role.ADMIN)
    eops.start_pilots(admin, a.convocatoria, today=START)
    db.session.commit()
    piloto = db.session.scalars(sa.select(Piloto).where(Piloto.equipo_id == a.equipos[0].id)).one()
    owner = db.session.get(User, a.equipos[0].miembros[0].user_id)
    owner.password_hash = make_user(password=PASSWORD).password_hash
    make_user(Role.ENCARGADO_TECNICO, email="lead@example.cl", password=PASSWORD)
    db.session.commit()
    reports = [r.id for r in piloto.reportes]
    others = [e.postulacion.title for e in a.equipos[1:]]

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

    team = new_page(owner.email)
    boss = new_page("lead@example.cl")

    def fill_report(number: int, executed: tuple[str, str], *, final: bool = False) -> None:
        team.goto(f"{live_server}/mi-piloto/{piloto.id}")
        team.get_by_role("link", name=f"Informe {'final' if final else 'de avance'} {number}").click()
        team.wait_for_load_state()
        team.fill("#ind-0", "40")
        team.fill("#ind-1", str(number * 2))
        team.fill("#total", "20")
        team.fill("#mujeres", "12")
        team.fill("#hombres", "8")
        team.fill("#otro", "0")
        team.fill("#gasto-0", executed[0])
        team.fill("#gasto-1", executed[1])
        team.check("input[name=act-0-done]")
        team.fill("#worked", "Las visitas domiciliarias.")
        team.fill("#failed", "Los talleres de los sábados.")
        team.fill("#surprised", "La red de vecinas.")
        if final:
            team.fill("#summary", "Sesenta familias usan hoy un programa social.")
            team.fill("#continuity", "El municipio mantiene los talleres.")
        assert_fits_width(team)
        team.get_by_role("button", name="Enviar al encargado").click()
        team.wait_for_load_state()
        assert "Informe enviado al encargado." in team.locator("main").inner_text()

    def review(number: int, *, comment: str | None = None) -> None:
        boss.goto(f"{live_server}/gestion/ejecucion/reportes/{reports[number - 1]}")
        if comment:
            boss.fill("#comment", comment)
            boss.get_by_role("button", name="Devolver con observaciones").click()
        else:
            boss.get_by_role("button", name="Aprobar el informe").click()
        boss.wait_for_load_state()

    # Report 1: sent, sent back with a comment, corrected and resent, approved.
    team.goto(f"{live_server}/mi-piloto")  # the only pilot: straight to it
    assert piloto.name in team.locator("main").inner_text()
    assert_accessible(team)
    assert_fits_width(team)
    fill_report(1, ("3000000", "1000000"))
    boss.goto(f"{live_server}/gestion/ejecucion/{a.convocatoria.id}")
    assert "1 por revisar" in boss.locator("main").inner_text()
    assert_fits_width(boss)
    review(1, comment="Falta la boleta de materiales.")
    team.goto(f"{live_server}/mi-piloto/{piloto.id}")
    assert "Falta la boleta de materiales." in team.locator("main").inner_text()
    fill_report(1, ("3000000", "1500000"))
    review(1)
    assert "El informe fue aprobado." in boss.locator("main").inner_text()
    history = boss.locator("main").inner_text()
    assert "Devuelto con observaciones" in history or "Falta la boleta de materiales." in history

    # Report 2 and the final report.
    fill_report(2, ("6000000", "2000000"))
    review(2)
    fill_report(3, ("3000000", "4000000"), final=True)
    review(3)
    assert "el piloto quedó cerrado" in boss.locator("main").inner_text()

    boss.goto(f"{live_server}/gestion/ejecucion/pilotos/{piloto.id}")
    text = boss.locator("main").inner_text()
    assert "Cerrado" in text
    assert "97,5 %" in text  # 19.5 of 20 million executed
    assert "sin línea base" in text
    assert_accessible(boss)
    assert_fits_width(boss)
    team.goto(f"{live_server}/mi-piloto/{piloto.id}")
    assert "Cerrado" in team.locator("main").inner_text()
    db.session.expire_all()
    assert piloto.status == EstadoPiloto.CERRADO

    # The team writes its systematization sheet on a phone and sends it.
    team.goto(f"{live_server}/equipo/sistematizacion/")
    assert_accessible(team)
    assert_fits_width(team)
    team.get_by_role("link", name=piloto.name).click()
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
    sheet = db.session.scalars(sa.select(Sistematizacion).where(Sistematizacion.piloto_id == piloto.id)).one()
    assert sheet.status == EstadoSistematizacion.ENVIADA

    # The lead reviews and publishes it.
    boss.goto(f"{live_server}/gestion/aprendizaje/")
    boss.get_by_role("link", name=piloto.name).click()
    boss.wait_for_load_state()
    assert "Tutorías de barrio" in boss.locator("main").inner_text()
    assert_accessible(boss)
    assert_fits_width(boss)
    boss.click("#publish")
    boss.wait_for_load_state()
    db.session.expire_all()
    assert sheet.status == EstadoSistematizacion.PUBLICADA

    # A visitor filters the repository by the group, finds it with its charts and the figures of the reports
    # approved above, and downloads the PDF.
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
    assert "97,5 %" in main.inner_text()
    assert_accessible(visitor)
    assert_fits_width(visitor)
    with visitor.expect_download() as download_info:
        visitor.locator(f"a[href$='/aprendizaje/{sheet.id}/ficha.pdf']").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        assert handle.read(4) == b"%PDF"
    # The other teams' pilots have no published sheet: nothing else is listed.
    for title in others:
        assert title not in visitor.content()
