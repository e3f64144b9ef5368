"""In a real browser at 390 px, an awarded team's pilot from its first report to its closure: the team sends
report 1, the lead sends it back with a comment, the team corrects and resends it, the lead approves it;
report 2 is sent and approved; the final report is sent and approved, and the pilot shows as closed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from idea.extensions import db
from idea.models import Role, User
from pilotos import ejecucion as eops
from pilotos.ejecucion_models import EstadoPiloto, Piloto
from tests.browser import assert_accessible, assert_fits_width
from tests.conftest import PASSWORD
from tests.pilotos.conftest import Formacion
from tests.pilotos.ejecucion_fixtures import START, award


def test_from_first_report_to_closed_pilot(
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

    def new_page(email: str) -> Any:
        context = browser.new_context(
            locale="es-CL", timezone_id="America/Santiago", viewport={"width": 390, "height": 844}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
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
