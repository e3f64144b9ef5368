"""In a real browser, from a selected team to the final award: the team registers for a workshop and the lead
takes attendance, the team completes the modules, sends its full form, the lead sends it back, the team
corrects it and the lead accepts it; four jurors of the four helices score the pitch at the demo day (one
recused) and the lead records the award. Between the modules and the form, the lead confirms a mentor for the
team, the mentor logs two sessions on a phone, and the team reads the log and comments on it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from idea.chile import from_santiago
from idea.extensions import db
from idea.models import Role, User
from pilotos import demoday as dops
from pilotos import formulario as fops
from pilotos import mentoria as mops
from pilotos import operations as ops
from pilotos.demoday_models import AdjudicacionDemoDay, ResultadoDemoDay
from pilotos.formulario_models import EstadoFormulario
from pilotos.mentoria_models import SesionMentoria, TipoOrganizacionMentor
from pilotos.models import InscripcionTaller
from tests.browser import assert_accessible, assert_fits_width
from tests.conftest import PASSWORD
from tests.pilotos.conftest import Formacion, make_taller


def test_from_selected_team_to_final_award(
    live_server: str, browser: Any, formacion: Callable[..., Formacion], make_user: Any, app: Any, outbox: Any
) -> None:
    f = formacion(regions=("13", "13"), rejected=0)
    c = f.convocatoria
    c.execution_start_at = from_santiago(datetime(2027, 3, 1, 9))
    c.closing_at = from_santiago(datetime(2027, 12, 31, 18))
    admin = make_user(Role.ADMIN)
    lead = make_user(Role.ENCARGADO_TECNICO, name="Tomás Encargado", password=PASSWORD)
    modulo = ops.save_modulo(
        admin,
        c,
        ops.ModuloData(
            title="Teoría de cambio",
            body="Del problema al impacto.",
            required=True,
            items=["Describimos el problema", "Definimos el impacto"],
        ),
    )
    taller = make_taller(c, title="Taller de teoría de cambio", days=2)
    equipo, other = f.equipos
    owner = db.session.get(User, equipo.miembros[0].user_id)
    amount = fops.awarded_amount(equipo)
    with app.test_request_context():
        demoday = dops.create_demoday(admin, c, "Demo day RM", ["13"], amount)
        jurors = []
        for helix, name in (
            ("estado", "Julia"),
            ("academia", "Andrés"),
            ("empresa", "Elisa"),
            ("sociedad_civil", "Sara"),
        ):
            user = make_user(Role.JURADO, name=f"{name} Jurado", password=PASSWORD)
            dops.add_juror(admin, demoday, user, helix)
            jurors.append(user)
    mentor_user = make_user(Role.MENTOR, name="Marta Mentora", password=PASSWORD)
    mops.save_mentor(
        admin,
        mentor_user,
        mops.MentorData(
            organization="Universidad de la Región",
            kind=TipoOrganizacionMentor.UNIVERSIDAD,
            tags=["personas_mayores"],
            region="13",
            capacity=2,
        ),
    )
    db.session.commit()

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

    # The team registers for the workshop; the lead takes attendance on a phone.
    team = new_page(owner.email)
    team.goto(f"{live_server}/equipo/{equipo.id}")
    team.get_by_role("button", name="Inscribir al equipo").click()
    team.wait_for_load_state()
    boss = new_page(lead.email)
    boss.goto(f"{live_server}/gestion/formacion/{c.id}/talleres/{taller.id}/asistencia")
    boss.check(f"input[name=present][value='{equipo.id}']")
    boss.get_by_role("button", name="Guardar asistencia").click()
    boss.wait_for_load_state()
    assert db.session.scalar(
        sa.select(InscripcionTaller.attended).where(InscripcionTaller.equipo_id == equipo.id)
    )

    # The full form is locked until the module is complete; the team completes it.
    team.goto(f"{live_server}/equipo/{equipo.id}/formulario")
    assert "módulos obligatorios" in team.locator("main").inner_text()
    team.goto(f"{live_server}/equipo/{equipo.id}/modulos/{modulo.id}")
    for checkbox in team.locator("input[name=done]").all():
        checkbox.check()
    team.get_by_role("button", name="Guardar avance").click()
    team.wait_for_load_state()

    # Mentoring: the lead sees the mentor suggested for the team and confirms her, starting ten days ago.
    start = mops.today() - timedelta(days=10)
    boss.goto(f"{live_server}/gestion/formacion/{c.id}/mentorias")
    assert mentor_user.name in boss.locator("main").inner_text()
    assert_accessible(boss)
    assert_fits_width(boss)
    boss.get_by_role("link", name=equipo.name).click()
    boss.wait_for_url(re.compile(rf"/mentorias/equipos/{equipo.id}$"))
    suggested = boss.locator("main").inner_text().split("Confirmar una mentora o mentor")[0]
    assert mentor_user.name in suggested and "misma región" in suggested
    assert_accessible(boss)
    assert_fits_width(boss)
    boss.select_option("#mentor_id", label=f"{mentor_user.name} · Universidad de la Región")
    boss.fill("#start_date", start.isoformat())
    boss.get_by_role("button", name="Confirmar mentoría").click()
    boss.wait_for_load_state()
    assert f"{mentor_user.name} acompañará a {equipo.name}" in boss.locator("main").inner_text()

    # The mentor, on her phone, finds the team and logs two sessions, in weeks 1 and 2 of the plan.
    mentor = new_page(mentor_user.email)
    mentor.goto(f"{live_server}/mentoria/")
    assert equipo.name in mentor.locator("main").inner_text()
    assert_accessible(mentor)
    assert_fits_width(mentor)
    mentor.get_by_role("link", name=equipo.name).click()
    mentor.wait_for_url(re.compile(r"/mentoria/\d+$"))
    assert "Semana 8" in mentor.locator("main").inner_text()
    assert_accessible(mentor)
    assert_fits_width(mentor)
    for day, topics in ((start, "Árbol de problemas"), (start + timedelta(days=8), "Indicadores de impacto")):
        mentor.fill("#held_on", day.isoformat())
        mentor.fill("#duration_minutes", "60")
        mentor.fill("#topics", topics)
        mentor.fill("#agreements", "Revisar con la comunidad")
        mentor.fill("#next_steps", "Enviar borrador")
        mentor.get_by_role("button", name="Registrar sesión").click()
        mentor.wait_for_load_state()
        assert "Sesión registrada" in mentor.locator("main").inner_text()
    text = mentor.locator("main").inner_text()
    assert "Árbol de problemas" in text and "Indicadores de impacto" in text
    assert "Sin sesión" not in text  # no week of the plan flagged
    assert_accessible(mentor)
    assert_fits_width(mentor)
    assert db.session.scalar(sa.select(sa.func.count(SesionMentoria.id))) == 2

    # The team reads the log from its page (not the form to log) and comments on the first session.
    team.goto(f"{live_server}/equipo/{equipo.id}")
    team.get_by_role("link", name="El plan y la bitácora de sesiones de tu mentoría").click()
    team.wait_for_url(re.compile(r"/mentoria/\d+$"))
    text = team.locator("main").inner_text()
    assert mentor_user.name in text and "Árbol de problemas" in text and "Indicadores de impacto" in text
    assert "Registrar sesión" not in text
    assert_accessible(team)
    assert_fits_width(team)
    first = team.locator("article", has_text="Árbol de problemas")
    first.locator("textarea").fill("Ya lo compartimos con la junta de vecinos.")
    first.get_by_role("button", name=re.compile("^Comentario")).click()
    team.wait_for_load_state()
    assert "Comentario publicado" in team.locator("main").inner_text()
    mentor.reload()
    assert "Ya lo compartimos con la junta de vecinos." in mentor.locator("main").inner_text()
    mentor.context.close()

    # The team fills in and sends its full form.
    team.goto(f"{live_server}/equipo/{equipo.id}/formulario")
    for name, text in (
        ("problem", "Familias sin apoyo."),
        ("activities", "Talleres."),
        ("outputs", "12 talleres."),
        ("outcomes", "Más familias apoyadas."),
        ("impact", "Menos pobreza."),
    ):
        team.fill(f"#{name}", text)
    team.fill("#lineas-0-item", "Coordinación")
    team.select_option("#lineas-0-category", "personal")
    team.fill("#lineas-0-amount", f"{amount - 1_000_000}")
    team.fill("#lineas-1-item", "Materiales")
    team.select_option("#lineas-1-category", "materiales")
    team.fill("#lineas-1-amount", "1.000.000")
    team.fill("#indicadores-0-target", "30")
    team.fill("#actividades-0-description", "Talleres con familias")
    team.fill("#actividades-0-starts_on", "2027-03-15")
    team.fill("#actividades-0-ends_on", "2027-08-31")
    team.fill("#riesgos-0-risk", "Baja asistencia")
    team.fill("#riesgos-0-mitigation", "Horarios flexibles")
    team.get_by_role("button", name="Enviar al encargado").click()
    team.wait_for_load_state()
    formulario = fops.formulario_of(equipo)
    assert formulario is not None and formulario.status == EstadoFormulario.ENVIADO

    # The lead sends it back; the team corrects the target and sends it again; the lead accepts.
    boss.goto(f"{live_server}/gestion/formacion/formularios/{formulario.id}")
    boss.fill("#comment", "La meta parece baja: revísenla.")
    boss.get_by_role("button", name="Devolver con observaciones").click()
    boss.wait_for_load_state()
    team.goto(f"{live_server}/equipo/{equipo.id}/formulario")
    assert "La meta parece baja" in team.locator("main").inner_text()
    team.fill("#indicadores-0-target", "45")
    team.get_by_role("button", name="Enviar al encargado").click()
    team.wait_for_load_state()
    boss.goto(f"{live_server}/gestion/formacion/formularios/{formulario.id}")
    boss.get_by_role("button", name="Aceptar el formulario").click()
    boss.wait_for_load_state()
    db.session.expire_all()
    assert formulario.status == EstadoFormulario.ACEPTADO

    # Demo day: the lead opens it; the civil-society juror is recused from the team; the others score.
    boss.goto(f"{live_server}/gestion/formacion/demoday/{demoday.id}")
    boss.get_by_role("button", name="Abrir la evaluación").click()
    boss.wait_for_load_state()
    for n, juror in enumerate(jurors):
        page = new_page(juror.email)
        page.goto(f"{live_server}/jurado/demoday/{demoday.id}")
        page.get_by_role("link", name=equipo.name).first.click()
        page.wait_for_url(re.compile(rf"/equipos/{equipo.id}$"))
        if n == 3:
            page.fill("#reason", "Trabajé con esta organización.")
            page.get_by_role("button", name="Declarar conflicto e inhabilitarme").click()
            page.wait_for_load_state()
            page.goto(f"{live_server}/jurado/demoday/{demoday.id}/equipos/{equipo.id}")
            assert "no puedes evaluarlo" in page.locator("main").inner_text()
        else:
            for criterio in demoday.criterios:
                page.check(f"input[name=c{criterio.id}][value='{6 + n % 2}']")
            page.get_by_role("button", name="Guardar notas").click()
            page.wait_for_load_state()
        page.goto(f"{live_server}/jurado/demoday/{demoday.id}/equipos/{other.id}")
        for criterio in demoday.criterios:
            page.check(f"input[name=c{criterio.id}][value='4']")
        page.get_by_role("button", name="Guardar notas").click()
        page.wait_for_load_state()
        page.context.close()

    boss.goto(f"{live_server}/gestion/formacion/demoday/{demoday.id}")
    assert "inhabilitado" in boss.locator("main").inner_text()
    boss.get_by_role("button", name="Cerrar y registrar la adjudicación").click()
    boss.wait_for_load_state()
    assert "Adjudicado" in boss.locator("main").inner_text()
    db.session.expire_all()
    records = {a.equipo_id: a for a in db.session.scalars(sa.select(AdjudicacionDemoDay))}
    assert records[equipo.id].outcome == ResultadoDemoDay.ADJUDICADO
    assert records[other.id].outcome == ResultadoDemoDay.NO_ADJUDICADO
    assert outbox.to(owner.email)
