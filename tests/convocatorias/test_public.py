"""What an anonymous visitor sees of the calls: the home, a call's page and a challenge's page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from convocatorias import queries
from convocatorias.models import (
    Convocatoria,
    Desafio,
    EstadoPostulacion,
    Fase,
    IndicadorLineaBase,
    Organizacion,
    Postulacion,
)
from idea import chile, pagecache
from idea.extensions import db

# 2026-05-19 19:59:59 in Santiago (UTC-4 in May): 12 days and 4 hours before the deadline below.
NOW = datetime(2026, 5, 19, 23, 59, 59, tzinfo=UTC)
DEADLINE = chile.end_of_day_santiago(date(2026, 5, 31))

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_ATTR = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def client(app: Any) -> Any:
    """An anonymous visitor who chose English: the pages then show the msgids, whatever the Spanish catalog
    says (dates stay Spanish: they are always written for Chile)."""
    visitor = app.test_client()
    with visitor.session_transaction() as session:
        session["lang"] = "en"
    return visitor


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr("idea.chile.utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def open_call(make_convocatoria: Callable[..., Convocatoria], fixed_now: datetime) -> Convocatoria:
    return make_convocatoria(
        slug="fondo-idea-2026", title="Fondo IDEA 2026", summary="Ideas para superar la pobreza",
        description="Primer párrafo de la descripción.\n\nSegundo párrafo.",
        rules="Pueden postular organizaciones.\nTambién grupos informales.\n\nUn proyecto por desafío.",
        total_budget=650_000_000, min_amount=20_000_000, max_amount=30_000_000, max_submissions_per_org=2,
        submissions_open_at=datetime(2026, 4, 1, 12, 0, tzinfo=UTC), submissions_close_at=DEADLINE,
        published_at=datetime(2026, 4, 1, 12, 0, tzinfo=UTC),
    )


def _html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


_PHASE = re.compile(
    r'<li class="(\w+)"( aria-current="step")?>\s*<span class="phase-name">\d+\. ([^<]+)</span>'
)


def _timeline(html: str) -> list[tuple[str, bool, str]]:
    """(state class, has aria-current="step", phase label) of each timeline entry."""
    return [(state, bool(current), label) for state, current, label in _PHASE.findall(html)]


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def counter(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counter)


# --- home -------------------------------------------------------------------------------------------------


def test_home_lists_an_open_call_as_a_card(client: Any, open_call: Convocatoria,
                                           make_desafio: Callable[..., Desafio]) -> None:
    make_desafio(open_call)
    make_desafio(open_call)

    html = _html(client.get("/"))

    assert 'href="/convocatorias/fondo-idea-2026">Fondo IDEA 2026</a>' in html
    assert "Ideas para superar la pobreza" in html
    assert "$20.000.000 to $30.000.000" in html
    assert "31 de mayo de 2026, 23:59" in html
    assert "12 days and 4 hours left" in html
    assert "2 challenges" in html
    assert "There is no open call right now." not in html


def test_home_shows_an_empty_state_and_lists_later_calls_briefly(
    client: Any, make_convocatoria: Callable[..., Convocatoria]
) -> None:
    make_convocatoria(title="Fondo IDEA 2025", year=2025, fase=Fase.EJECUCION)

    html = _html(client.get("/"))

    assert "There is no open call right now." in html
    assert "Other calls" in html
    assert "Fondo IDEA 2025" in html
    assert "Pilot execution" in html


def test_open_calls_are_the_published_ones_taking_submissions(
    make_convocatoria: Callable[..., Convocatoria], fixed_now: datetime
) -> None:
    later = make_convocatoria(submissions_close_at=DEADLINE + timedelta(days=10))
    sooner = make_convocatoria(submissions_close_at=DEADLINE)
    make_convocatoria(fase=Fase.VOTACION)
    make_convocatoria(fase=Fase.BORRADOR, published_at=None)
    make_convocatoria(published_at=None)

    assert [c.id for c in queries.open_calls()] == [sooner.id, later.id]
    calls = queries.home_calls()
    assert [item.convocatoria.id for item in calls.open] == [sooner.id, later.id]
    assert [item.convocatoria.fase for item in calls.others] == [Fase.VOTACION]


# --- call page --------------------------------------------------------------------------------------------


def test_call_page_shows_budget_deadline_timeline_challenges_and_how_to_submit(
    client: Any, open_call: Convocatoria, make_desafio: Callable[..., Desafio], make_grupo: Callable[..., Any]
) -> None:
    grupo = make_grupo(name="Personas mayores con dependencia")
    nacional = make_desafio(open_call, title="Cuidados en casa", grupo_vulnerable_id=grupo.id)
    regional = make_desafio(open_call, title="Trabajo en el sur", regions=["09", "08"])

    html = _html(client.get("/convocatorias/fondo-idea-2026"))

    assert "<h1>Fondo IDEA 2026</h1>" in html
    assert "$650.000.000" in html
    assert "$20.000.000 to $30.000.000" in html
    assert "Up to 2 submissions" in html
    assert "<p>Primer párrafo de la descripción.</p>" in html
    assert "<p>Pueden postular organizaciones.<br>También grupos informales.</p>" in html
    assert "31 de mayo de 2026, 23:59" in html
    assert "12 days and 4 hours left" in html
    # The challenges, each linking to its page, with group and scope (regions north to south).
    assert f'href="/convocatorias/fondo-idea-2026/desafios/{nacional.id}">Cuidados en casa</a>' in html
    assert f'href="/convocatorias/fondo-idea-2026/desafios/{regional.id}">Trabajo en el sur</a>' in html
    assert "Personas mayores con dependencia" in html
    assert "National" in html
    assert "Biobío, La Araucanía" in html
    # The timeline, the submission phase marked as the current step.
    phases = _timeline(html)
    assert phases[0] == ("current", True, "Submission period")
    assert [state for state, _c, _l in phases[1:]] == ["upcoming"] * 7
    assert sum(current for _s, current, _l in phases) == 1
    # Submitting goes to the applicant area.
    assert f'href="/mis-postulaciones/nueva?convocatoria={open_call.id}">Submit an idea</a>' in html


def test_a_call_in_a_later_phase_marks_past_phases_and_takes_no_submissions(
    client: Any, make_convocatoria: Callable[..., Convocatoria], fixed_now: datetime
) -> None:
    call = make_convocatoria(slug="cerrada", fase=Fase.EVALUACION,
                             submissions_close_at=NOW - timedelta(days=20),
                             evaluation_end_at=NOW + timedelta(days=5))

    html = _html(client.get("/convocatorias/cerrada"))

    assert _timeline(html)[:4] == [
        ("done", False, "Submission period"),
        ("done", False, "Admissibility review"),
        ("current", True, "Evaluation"),
        ("upcoming", False, "Public vote"),
    ]
    assert "Closed" in html
    assert "Submit an idea" not in html
    assert f"convocatoria={call.id}" not in html


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 5, 31, 14, 0, tzinfo=UTC), "Closes today at 23:59"),
        (datetime(2026, 5, 30, 14, 0, tzinfo=UTC), "Closes tomorrow at 23:59"),
        (datetime(2026, 6, 1, 4, 0, 0, tzinfo=UTC), "Closed"),
    ],
)
def test_call_page_says_how_long_is_left_in_chilean_terms(
    client: Any, open_call: Convocatoria, monkeypatch: pytest.MonkeyPatch, now: datetime, expected: str
) -> None:
    monkeypatch.setattr("idea.chile.utcnow", lambda: now)

    html = _html(client.get("/convocatorias/fondo-idea-2026"))

    assert expected in html
    if expected == "Closed":
        assert "Submit an idea" not in html


def test_a_call_not_open_yet_says_when_it_opens(client: Any, make_convocatoria: Callable[..., Convocatoria],
                                                fixed_now: datetime) -> None:
    make_convocatoria(slug="pronto", submissions_open_at=datetime(2026, 6, 1, 13, 0, tzinfo=UTC),
                      submissions_close_at=DEADLINE + timedelta(days=30))

    html = _html(client.get("/convocatorias/pronto"))

    assert "Opens on 1 de junio de 2026, 09:00" in html
    assert "Submit an idea" not in html


# --- challenge page ---------------------------------------------------------------------------------------


def test_challenge_page_shows_the_problem_and_the_baseline_table(
    client: Any, open_call: Convocatoria, make_desafio: Callable[..., Desafio], make_grupo: Callable[..., Any]
) -> None:
    grupo = make_grupo(name="Niños, niñas y adolescentes fuera de la escuela")
    desafio = make_desafio(
        open_call, title="Volver a clases", regions=["13", "05"], indicators=0, grupo_vulnerable_id=grupo.id,
        partner_institution="Ministerio de Educación",
        problem="Muchos niños dejan la escuela.\n\nNadie los va a buscar.",
    )
    desafio.indicadores.extend([
        IndicadorLineaBase(position=0, name="Tasa de exclusión escolar", unit="%", value=Decimal("12.5000"),
                           source="Mineduc", measured_on=date(2024, 3, 1)),
        IndicadorLineaBase(position=1, name="Niños fuera de la escuela", unit="personas",
                           value=Decimal("186723"), source="Casen 2022"),
    ])
    db.session.commit()

    html = _html(client.get(f"/convocatorias/fondo-idea-2026/desafios/{desafio.id}"))

    assert "<h1>Volver a clases</h1>" in html
    assert "<p>Muchos niños dejan la escuela.</p>" in html
    assert "<p>Nadie los va a buscar.</p>" in html
    assert "Niños, niñas y adolescentes fuera de la escuela" in html
    assert "Ministerio de Educación" in html
    assert "Valparaíso, Metropolitana de Santiago" in html
    assert re.search(r'<caption id="linea-base-\d+">Baseline indicators</caption>', html)
    for column in ("Indicator", "Value", "Unit", "Source", "Date"):
        assert re.search(rf'<th scope="col"( class="num")?>{column}</th>', html), column
    assert '<th scope="row">Tasa de exclusión escolar</th>' in html
    assert '<td class="num">12,5</td>' in html
    assert '<td class="num">186.723</td>' in html
    assert "1 de marzo de 2024" in html
    assert "Casen 2022" in html
    assert f"/mis-postulaciones/nueva?convocatoria={open_call.id}" in html


def test_a_challenge_is_only_found_under_its_own_call(
    client: Any, open_call: Convocatoria, make_convocatoria: Callable[..., Convocatoria],
    make_desafio: Callable[..., Desafio]
) -> None:
    other = make_convocatoria(slug="otra")
    desafio = make_desafio(other)

    assert client.get(f"/convocatorias/fondo-idea-2026/desafios/{desafio.id}").status_code == 404
    assert client.get("/convocatorias/fondo-idea-2026/desafios/999999").status_code == 404
    assert client.get("/convocatorias/no-existe").status_code == 404


# --- drafts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fase", "published"),
    [(Fase.BORRADOR, False), (Fase.BORRADOR, True), (Fase.POSTULACION, False)],
    ids=["draft", "draft-with-publication-date", "unpublished"],
)
def test_a_call_that_is_not_published_is_nowhere_to_be_seen(
    client: Any, make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio],
    fase: Fase, published: bool
) -> None:
    draft = make_convocatoria(slug="borrador-secreto", title="Convocatoria secreta", fase=fase,
                              published_at=chile.utcnow() if published else None)
    desafio = make_desafio(draft, title="Desafío secreto")

    home = _html(client.get("/"))
    assert "Convocatoria secreta" not in home
    assert "borrador-secreto" not in home
    assert client.get("/convocatorias/borrador-secreto").status_code == 404
    assert client.get(f"/convocatorias/borrador-secreto/desafios/{desafio.id}").status_code == 404


# --- escaping ---------------------------------------------------------------------------------------------


def test_hostile_text_is_shown_escaped_on_every_public_page(
    client: Any, make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio]
) -> None:
    hostile = f"Fondo {XSS_SCRIPT} {XSS_ATTR}"
    call = make_convocatoria(slug="hostil", title=hostile, summary=hostile, description=hostile,
                             rules=hostile)
    desafio = make_desafio(call, title=hostile, problem=f"{hostile}\n\n{hostile}",
                           partner_institution=hostile)
    desafio.indicadores[0].name = hostile
    desafio.indicadores[0].source = hostile
    db.session.commit()

    for url in ("/", "/convocatorias/hostil", f"/convocatorias/hostil/desafios/{desafio.id}"):
        html = _html(client.get(url))
        assert XSS_SCRIPT not in html, url
        assert "<img src=x" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html, url


# --- queries ----------------------------------------------------------------------------------------------


def _add_submissions(desafios: list[Desafio], organizacion: Organizacion, count: int, start: int) -> None:
    rows = []
    for n in range(start, start + count):
        desafio = desafios[n % len(desafios)]
        rows.append({
            "convocatoria_id": desafio.convocatoria_id, "desafio_id": desafio.id,
            "organizacion_id": organizacion.id, "created_by_id": organizacion.owner_id,
            "status": EstadoPostulacion.ENVIADA, "folio_number": n, "folio": f"IDEA-2026-{n:04d}",
            "title": f"Idea {n}", "version": 1, "submitted_at": chile.utcnow(),
        })
    db.session.execute(sa.insert(Postulacion), rows)
    db.session.commit()


def _query_count(client: Any, url: str) -> list[str]:
    pagecache.clear()  # the queries of rendering the page, not of serving it from the page cache
    with count_queries() as statements:
        _html(client.get(url))
    return statements


def test_pages_issue_the_same_queries_with_10_or_200_submissions(
    client: Any, open_call: Convocatoria, make_desafio: Callable[..., Desafio],
    make_organizacion: Callable[..., Organizacion]
) -> None:
    desafios = [make_desafio(open_call, regions=["08"], indicators=2) for _ in range(3)]
    organizacion = make_organizacion()
    _add_submissions(desafios, organizacion, 10, start=1)

    few = {url: _query_count(client, url) for url in ("/", "/convocatorias/fondo-idea-2026")}
    _add_submissions(desafios, organizacion, 190, start=11)
    assert db.session.scalar(sa.select(sa.func.count(Postulacion.id))) == 200
    many = {url: _query_count(client, url) for url in ("/", "/convocatorias/fondo-idea-2026")}

    for url in few:
        assert len(few[url]) == len(many[url]), (url, few[url], many[url])
        assert not any(re.search(r"\bpostulacion\b", s) for s in many[url]), url
    assert len(many["/"]) <= 2
    assert len(many["/convocatorias/fondo-idea-2026"]) <= 6


def test_pages_issue_the_same_queries_with_1_or_6_challenges(
    client: Any, make_convocatoria: Callable[..., Convocatoria], make_desafio: Callable[..., Desafio],
    make_grupo: Callable[..., Any]
) -> None:
    one = make_convocatoria(slug="uno")
    six = make_convocatoria(slug="seis")
    make_desafio(one, regions=["01", "02"], indicators=2, grupo_vulnerable_id=make_grupo().id)
    for i in range(6):
        make_desafio(six, regions=["01", "02", "13"][: i % 3 + 1], indicators=i % 3,
                     grupo_vulnerable_id=make_grupo().id)

    home_before = _query_count(client, "/")
    assert len(_query_count(client, "/convocatorias/uno")) == len(_query_count(client, "/convocatorias/seis"))
    make_convocatoria(slug="tres")
    assert len(home_before) == len(_query_count(client, "/"))
    six_ids = db.session.scalars(sa.select(Desafio.id).filter_by(convocatoria_id=six.id)).all()
    counts = {len(_query_count(client, f"/convocatorias/seis/desafios/{i}")) for i in six_ids}
    assert len(counts) == 1


# --- sharing ----------------------------------------------------------------------------------------------


def test_public_pages_carry_open_graph_tags_and_a_description(
    client: Any, open_call: Convocatoria, make_desafio: Callable[..., Desafio]
) -> None:
    desafio = make_desafio(open_call, title="Volver a clases", problem="Muchos niños dejan la escuela.")
    pages = {
        "/": None,
        "/convocatorias/fondo-idea-2026": "Fondo IDEA 2026",
        f"/convocatorias/fondo-idea-2026/desafios/{desafio.id}": "Volver a clases",
    }
    for url, title in pages.items():
        html = _html(client.get(url))
        for prop in ("og:title", "og:description", "og:type", "og:url"):
            assert f'<meta property="{prop}" content="' in html, (url, prop)
        assert f'<meta property="og:url" content="http://localhost{url}">' in html
        assert '<meta name="description" content="' in html
        if title:
            assert f'<meta property="og:title" content="{title}">' in html
            assert f"<title>{title}" in html
    challenge = _html(client.get(f"/convocatorias/fondo-idea-2026/desafios/{desafio.id}"))
    assert '<meta property="og:description" content="Muchos niños dejan la escuela.">' in challenge


# --- helpers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "closes", "expected"),
    [
        # 2026-05-19 19:59:59 Santiago → 2026-05-31 23:59:59 Santiago.
        (NOW, DEADLINE, "12 days and 4 hours left"),
        (datetime(2026, 5, 21, 3, 59, 59, tzinfo=UTC), DEADLINE, "11 days left"),
        (datetime(2026, 5, 29, 4, 0, 0, tzinfo=UTC), DEADLINE, "2 days and 23 hours left"),
        (datetime(2026, 5, 31, 4, 0, 0, tzinfo=UTC), DEADLINE, "Closes today at 23:59"),
        (DEADLINE, DEADLINE, "Closes today at 23:59"),
        (DEADLINE + timedelta(seconds=1), DEADLINE, "Closed"),
        # Clocks go forward on 2026-09-06 at 00:00; the count follows the Chilean wall clock.
        (datetime(2026, 9, 1, 16, 0, tzinfo=UTC), chile.end_of_day_santiago(date(2026, 9, 10)),
         "9 days and 11 hours left"),
    ],
)
def test_time_left_is_counted_on_the_chilean_clock(app: Any, now: datetime, closes: datetime,
                                                   expected: str) -> None:
    with app.test_request_context(), force_locale("en"):
        assert queries.time_left_text(closes, now) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.5000"), "12,5"), (Decimal("3.0000"), "3"), (Decimal("0.2500"), "0,25"),
        (Decimal("1234567.8900"), "1.234.567,89"), (Decimal("-4.1000"), "-4,1"), (12.5, "12,5"), (0, "0"),
        (None, ""),
    ],
)
def test_baseline_values_have_a_decimal_comma_and_no_useless_zeros(value: Any, expected: str) -> None:
    assert queries.format_decimal_es(value) == expected


def test_text_is_split_into_paragraphs_at_blank_lines() -> None:
    text = "Uno\r\ndos\r\n\r\n  \r\nTres\n\n\n\nCuatro  "
    assert queries.paragraphs(text) == [["Uno", "dos"], ["Tres"], ["Cuatro"]]
    assert queries.paragraphs("") == []
    assert queries.paragraphs(None) == []


# --- in a browser, on a phone -----------------------------------------------------------------------------


def test_call_and_challenge_pages_fit_a_phone_screen(
    live_server: str, page: Any, make_convocatoria: Callable[..., Convocatoria],
    make_desafio: Callable[..., Desafio]
) -> None:
    call = make_convocatoria(slug="en-el-telefono", title="Convocatoria" + "Larguísima" * 15)
    desafio = make_desafio(call, title="Desafío" + "Extenso" * 20, regions=["15", "01", "12"], indicators=3)

    for url in ("/", "/convocatorias/en-el-telefono", f"/convocatorias/en-el-telefono/desafios/{desafio.id}"):
        page.goto(f"{live_server}{url}")
        scroll_width, client_width = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll_width <= client_width, url
        assert page.locator("h1").count() == 1, url

    page.goto(f"{live_server}/convocatorias/en-el-telefono")
    assert page.locator('.phase-timeline [aria-current="step"]').is_visible()
    # The page's own stylesheet is applied (the CSP allows it: it is served by the app).
    assert page.evaluate("getComputedStyle(document.querySelector('.call-box')).borderTopStyle") == "solid"
