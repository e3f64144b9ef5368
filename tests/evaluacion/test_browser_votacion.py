"""In a real browser at phone width: a visitor filters the ideas of a call in its vote, opens one, votes with
RUT and e-mail, reads the e-mail, confirms with the page's one button, and sees the count go up. axe-core
finds no serious or critical problem on any voting page."""

# ruff: noqa: F811  (fixtures imported to be used as fixtures)

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.browser import assert_accessible
from tests.evaluacion.votacion_fixtures import LINK_RE, Votacion, votacion  # noqa: F401  (fixture)


def _count(page: Any) -> int:
    return int(page.locator(".vote-count strong").first.inner_text())


def test_a_visitor_filters_opens_votes_confirms_and_sees_the_count_go_up(
    live_server: str, page: Any, outbox: Any, votacion: Callable[..., Votacion]
) -> None:
    v = votacion(n=4, regions=("08", "13"))
    slug = v.convocatoria.slug
    biobio = next(e for e in v.entries if e.postulacion.region == "08")

    # The list, filtered to the Biobío region: only its ideas stay.
    page.goto(f"{live_server}/convocatorias/{slug}/votacion")
    assert_accessible(page)
    assert page.locator("article.idea-card").count() == 4
    page.select_option("#region", "08")
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_load_state()
    assert page.locator("article.idea-card").count() == 2
    assert "Región Metropolitana" not in page.locator("main").inner_text()

    # The idea's page, with its count, then the vote form.
    page.get_by_role("link", name=biobio.postulacion.title).click()
    page.wait_for_url(re.compile(rf"/votacion/{biobio.id}$"))
    assert_accessible(page)
    before = _count(page)
    page.get_by_role("link", name="Votar por esta idea").click()
    page.wait_for_url(re.compile(r"/votar$"))
    assert_accessible(page)
    page.fill("#rut", "12.345.678-5")
    page.fill("#email", "violeta@ejemplo.cl")
    page.check("#accepted")
    page.get_by_role("button", name="Votar por esta idea").click()
    page.wait_for_load_state()
    assert "Revisa tu correo" in page.locator("h1").inner_text()
    assert_accessible(page)

    # The e-mail's link opens a page with one button; opening it counts nothing.
    [message] = outbox.to("violeta@ejemplo.cl")
    link = LINK_RE.search(message.body)
    assert link is not None
    page.goto(link.group(0))
    assert_accessible(page)
    assert biobio.postulacion.title in page.locator("main").inner_text()
    page.goto(f"{live_server}/convocatorias/{slug}/votacion/{biobio.id}")
    assert _count(page) == before
    page.goto(link.group(0))
    page.get_by_role("button", name="Confirmar mi voto").click()
    page.wait_for_load_state()
    assert "Tu voto fue contado" in page.locator("h1").inner_text()
    assert_accessible(page)

    # Back on the idea's page the count went up by one; confirming again says so kindly.
    page.get_by_role("link", name="Ver la idea y sus votos").click()
    page.wait_for_url(re.compile(rf"/votacion/{biobio.id}$"))
    assert _count(page) == before + 1
    page.goto(link.group(0))
    assert "ya está contado" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Confirmar mi voto").count() == 0
