"""In a real browser at phone width, the committee's whole session: open it, record the members present, run
the solver, override one decision with a reason, close the session, download the acta PDF, publish the
results; the public results page then shows the selection (and the accessibility checks pass on the way)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from convocatorias.models import Fase
from evaluacion.comite_models import Decision, ReglasSeleccion, Resultado, SesionComite
from evaluacion.models import EstadoAsignacion, Puntaje
from idea.chile import utcnow
from idea.extensions import db
from idea.models import Role
from tests.browser import assert_accessible, assert_fits_width, vnu_errors
from tests.conftest import PASSWORD
from tests.evaluacion.conftest import Escenario, assign

REGIONS = ("08", "13", "05")


def _log_in(page: Any, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/cuenta/ingresar")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_load_state()


def _submit(page: Any, action_suffix: str) -> None:
    """Press the submit button of the form whose action ends with `action_suffix`."""
    form = page.locator(f"form[action$='{action_suffix}']").first
    form.locator("[type=submit]").first.click()
    page.wait_for_load_state()


def _flash(page: Any) -> str:
    return str(page.locator("main").inner_text())


def test_the_committee_decides_closes_downloads_the_acta_and_publishes(
    live_server: str, browser: Any, escenario: Callable[..., Escenario], make_user: Any, tmp_path: Path
) -> None:
    # Six scored ideas over three regions; a budget for four of them ($25 MM each).
    e = escenario(n=6, reviewers=2, regions=REGIONS)
    call = e.convocatoria
    call.fase = Fase.COMITE
    call.total_budget = 100_000_000
    for n, p in enumerate(e.postulaciones):
        for reviewer in e.reviewers:
            a = assign(reviewer, p)
            a.puntajes = [Puntaje(criterio_id=c.id, value=7 - n % 4, comment="") for c in e.rubrica.criterios]
            a.status, a.submitted_at = EstadoAsignacion.ENVIADA, utcnow()
    db.session.add(ReglasSeleccion(convocatoria_id=call.id, quorum=2, share_feedback=True))
    chair = make_user(Role.COMITE, name="Carmen Presidenta", convocatoria_id=call.id, password=PASSWORD)
    make_user(Role.COMITE, name="Diego Integrante", convocatoria_id=call.id, password=PASSWORD)
    db.session.commit()
    top = e.postulaciones[0]  # scores 7: the solver would select it; the committee excludes it
    call_id, slug, top_folio, top_title = call.id, call.slug, top.folio, top.title

    context = browser.new_context(
        locale="es-CL", timezone_id="America/Santiago", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    _log_in(page, live_server, chair.email)

    # Open a session.
    page.goto(f"{live_server}/comite/convocatorias/{call_id}/sesiones")
    assert_accessible(page)
    assert_fits_width(page)
    _submit(page, "/abrir")
    page.wait_for_url(re.compile(r"/sesiones/\d+$"))
    session_url = page.url
    sesion_path = session_url.removeprefix(live_server)
    assert_accessible(page)

    # Record both members present: the quorum of two is met.
    for checkbox in page.locator("form[action$='/asistentes'] input[type=checkbox]").all():
        checkbox.check()
    _submit(page, "/asistentes")
    assert page.locator(".quorum-met").count() == 1

    # Override: the committee excludes the top idea, with its reason; then the solver runs.
    override = page.locator("form[action$='/overrides']")
    override.locator("input[name=folio]").fill(top_folio)
    override.locator("select[name=kind]").select_option("excluir")
    override.locator("textarea[name=reason]").fill("Conflicto con otro financiamiento público vigente.")
    _submit(page, "/overrides")
    assert "Conflicto con otro financiamiento público vigente." in _flash(page)
    _submit(page, "/solver")
    assert page.locator(".proposal").count() >= 1
    assert_accessible(page)

    # Apply the rank-order proposal: every submission gets its decision.
    page.locator("form[action$='/propuesta'] [type=submit]").first.click()
    page.wait_for_load_state()
    db.session.expire_all()
    sesion = db.session.scalar(sa.select(SesionComite).where(SesionComite.convocatoria_id == call_id))
    assert sesion is not None
    decisions = {
        d.postulacion_id: d
        for d in db.session.scalars(sa.select(Decision).where(Decision.sesion_id == sesion.id))
    }
    assert len(decisions) == 6
    assert decisions[top.id].outcome == Resultado.NO_SELECCIONADA
    assert "Conflicto con otro financiamiento" in decisions[top.id].reason
    selected = {pid for pid, d in decisions.items() if d.outcome == Resultado.SELECCIONADA}
    assert 1 <= len(selected) <= 4
    folios = {p.id: p.folio for p in e.postulaciones}
    titles = {p.id: p.title for p in e.postulaciones}

    # Close the session (confirming), then a replayed close is refused.
    close = page.locator("form[action$='/cerrar']")
    close.locator("input[type=checkbox]").check()
    close.locator("[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("form[action$='/cerrar']").count() == 0
    assert_accessible(page)

    # The acta's PDF downloads as a PDF.
    pdf = context.request.get(f"{live_server}{sesion_path}/acta.pdf")
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF")

    # Nothing is public yet.
    public = context.new_page()
    public.goto(f"{live_server}/convocatorias/{slug}/resultados")
    assert "aún no se han publicado" in public.locator("main").inner_text()
    assert all(folios[pid] not in public.content() for pid in selected)
    public.close()

    # Publish from the closed session's page.
    page.get_by_role("link", name="Publicar resultados").click()
    page.wait_for_url(re.compile(r"/publicar$"))
    assert_accessible(page)
    assert_fits_width(page)
    page.get_by_role("button", name="Publicar resultados").click()
    page.wait_for_url(re.compile(r"/resultados$"))
    text = page.locator("main").inner_text()
    assert "Resultados publicados" in text
    for pid in selected:
        assert folios[pid] in text and titles[pid] in text
    assert top_title in text  # in the ranked repository of every admissible idea, as not selected
    assert "Ideas seleccionadas por región" in text
    assert_accessible(page)
    assert_fits_width(page)

    # The published page, the closed session's page and its publish page are valid HTML.
    files = []
    for i, path in enumerate(
        [f"/convocatorias/{slug}/resultados", sesion_path, f"/gestion/comite/sesiones/{sesion.id}/publicar"]
    ):
        response = context.request.get(f"{live_server}{path}")
        assert response.status == 200, path
        files.append(tmp_path / f"page-{i}.html")
        files[-1].write_text(response.text(), encoding="utf-8")
    assert vnu_errors(files) == {}
    context.close()
