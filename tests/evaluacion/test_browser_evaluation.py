"""In a real browser at phone width: a reviewer trains on the calibration example, scores and submits; the
lead sees the progress and an outlier, and adds a reviewer to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from evaluacion.models import Asignacion, EstadoAsignacion, Puntaje
from idea.chile import utcnow
from idea.extensions import db
from idea.models import Role
from tests.conftest import PASSWORD
from tests.evaluacion.conftest import assign, train


def _log_in(page: Any, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/cuenta/ingresar")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_load_state()


def test_a_reviewer_trains_scores_and_submits_and_the_lead_adds_a_reviewer_to_an_outlier(
        live_server: str, browser: Any, escenario: Callable[..., Any], make_user: Any) -> None:
    e = escenario(n=1, reviewers=0)
    reviewers = [make_user(Role.EVALUADOR, name=f"Evaluadora {i}", convocatoria_id=e.convocatoria.id,
                           password=PASSWORD) for i in range(3)]
    lead = make_user(Role.ENCARGADO_TECNICO, name="Tomás Encargado", password=PASSWORD)
    postulacion = e.postulaciones[0]
    mine = assign(reviewers[0], postulacion)
    other = assign(reviewers[1], postulacion)
    train(reviewers[1], e.rubrica)
    other.puntajes = [Puntaje(criterio_id=c.id, value=7, comment="") for c in e.rubrica.criterios]
    other.submitted_at = utcnow()
    other.status = EstadoAsignacion.ENVIADA
    db.session.commit()
    criterios = [c.id for c in e.rubrica.criterios]

    def new_page() -> Any:
        context = browser.new_context(locale="es-CL", timezone_id="America/Santiago",
                                      viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    # The reviewer is sent to the training before any scoring page opens.
    page = new_page()
    _log_in(page, live_server, reviewers[0].email)
    page.goto(f"{live_server}/evaluacion/asignaciones/{mine.id}")
    assert "Capacitación requerida" in page.locator("h1").inner_text()
    page.get_by_role("link", name="Ir a la capacitación").click()
    page.wait_for_url(re.compile(r"/capacitacion$"))
    for cid in criterios:
        page.check(f"input[name='score_{cid}'][value='3']")
    page.get_by_role("button", name="Calificar el ejemplo").click()
    page.wait_for_load_state()
    assert "Capacitación completada" in page.locator("main").inner_text()
    assert "-2" in page.locator("table").inner_text()  # 3 against the reference 5

    # Score with level descriptions beside each value, save a draft, then submit.
    page.goto(f"{live_server}/evaluacion/asignaciones/{mine.id}")
    assert page.get_by_text("1 — No cumple").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    for cid in criterios:
        page.check(f"input[name='score_{cid}'][value='1']")
    page.fill(f"#comment_{criterios[0]}", "No responde al desafío.")
    page.get_by_role("button", name="Guardar borrador").click()
    page.wait_for_load_state()
    assert "Borrador guardado" in page.locator("main").inner_text()
    page.get_by_role("button", name="Enviar evaluación").click()
    page.wait_for_load_state()
    assert "Evaluación enviada" in page.locator("main").inner_text()
    assert page.locator("form.score-form").count() == 0  # locked
    page.context.close()

    # The lead sees progress, the outlier (1 against 7) and adds a reviewer to it.
    page = new_page()
    _log_in(page, live_server, lead.email)
    page.goto(f"{live_server}/gestion/evaluacion/convocatorias/{e.convocatoria.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    progress = page.locator("table", has_text="Por evaluador").inner_text()
    assert "Evaluadora 0" in progress and "Evaluadora 1" in progress
    outlier = page.locator("li", has_text=postulacion.folio)
    assert "discrepancia de 6,00 puntos" in outlier.inner_text()
    outlier.get_by_role("button", name="Agregar un evaluador").click()
    page.wait_for_load_state()
    assert f"Se asignó un evaluador más a {postulacion.folio}" in page.locator("main").inner_text()
    page.context.close()
    db.session.expire_all()
    added = db.session.query(Asignacion).filter_by(user_id=reviewers[2].id, postulacion_id=postulacion.id)
    added = added.one()
    assert added.status == EstadoAsignacion.PENDIENTE
