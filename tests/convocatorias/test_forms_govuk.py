"""Forms as GOV.UK makes them, on every form through the shared macros: after a refused submit an error
summary at the top ("Hay un problema", role=alert) lists each problem as a link to its field, the page title
starts with "Error:", the inline errors stay; limits, number keyboards and each option's meaning are shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from convocatorias.labels import MADUREZ_DESCRIPTIONS
from idea.models import Role


def _summary(html: str) -> str:
    match = re.search(r'<div class="error-summary"[^>]*>.*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


def test_a_refused_registration_shows_the_summary_with_a_link_per_problem(client: Any) -> None:
    response = client.post("/cuenta/registro", data={"name": "", "email": "no-es-correo", "password": "",
                                                      "password2": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = _summary(html)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "data-error-summary" in summary
    assert "<h2 id=\"error-summary-title\">Hay un problema</h2>" in summary
    links = re.findall(r'<a href="#([\w-]+)">', summary)
    assert {"name", "email", "password"} <= set(links)
    for target in links:
        assert f'id="{target}"' in html  # every link reaches a control of the page
        assert f'id="{target}-error"' in html  # and the inline error stays next to it
    assert _title(html).startswith("Error:")
    # The summary comes before the first field.
    assert html.index("error-summary") < html.index('id="name"')


def test_a_page_without_errors_has_no_summary_and_a_plain_title(client: Any) -> None:
    html = client.get("/cuenta/registro").get_data(as_text=True)
    assert "error-summary" not in html and not _title(html).startswith("Error")


def test_the_organisation_form_links_its_problems_and_keeps_the_typed_values(
        login_as: Callable[..., Any]) -> None:
    client = login_as(Role.POSTULANTE)
    response = client.post("/mi-organizacion", data={"name": "Junta de Vecinos", "rut": "65.123.456-7",
                                                       "tipo": "", "region": "13", "comuna": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    links = re.findall(r'<a href="#([\w-]+)">', _summary(html))
    assert {"tipo", "comuna"} <= set(links)
    assert _title(html).startswith("Error:")
    assert 'value="Junta de Vecinos"' in html


def test_a_problem_found_by_the_operation_is_in_the_summary_too(login_as: Callable[..., Any]) -> None:
    client = login_as(Role.POSTULANTE)
    html = client.post("/mi-organizacion", data={"name": "Junta", "rut": "65.123.456-7",
                                                 "tipo": "grupo_informal", "region": "13",
                                                 "comuna": "Santiago"}).get_data(as_text=True)
    assert '<a href="#rut">' in _summary(html)  # the check digit is wrong: refused by save_organizacion


def test_the_focus_script_is_a_file_and_no_page_has_inline_script(client: Any) -> None:
    html = client.post("/cuenta/registro", data={}).get_data(as_text=True)
    assert re.search(r'<script src="/static/js/forms\.js" defer></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " on" + "click=" not in html and "autofocus" not in html
    js = client.get("/static/js/forms.js")
    try:
        assert js.status_code == 200 and "data-error-summary" in js.get_data(as_text=True)
    finally:
        js.close()


@pytest.fixture
def idea_form(login_as: Callable[..., Any], make_user: Callable[..., Any],
              make_organizacion: Callable[..., Any], make_convocatoria: Callable[..., Any],
              make_desafio: Callable[..., Any]) -> str:
    user = make_user(Role.POSTULANTE)
    client = login_as(user)
    make_organizacion(user)
    convocatoria = make_convocatoria()
    make_desafio(convocatoria)
    return client.get(f"/mis-postulaciones/nueva?convocatoria={convocatoria.id}").get_data(as_text=True)


def test_long_texts_say_their_limit_from_the_length_validator(idea_form: str) -> None:
    assert re.search(r'<p class="help" id="problem-limit">Máximo 4\.000 caracteres\.</p>', idea_form)
    assert re.search(r'<textarea[^>]*aria-describedby="problem-help problem-limit"', idea_form)
    assert re.search(r'id="title-limit">Máximo 200 caracteres\.', idea_form)


def test_numbers_get_the_numeric_keyboard(idea_form: str) -> None:
    for name in ("requested_amount", "beneficiaries_count"):
        control = re.search(rf'<input[^>]*id="{name}"[^>]*>', idea_form).group(0)
        assert 'inputmode="numeric"' in control and 'type="text"' in control


def test_each_maturity_option_is_explained(idea_form: str) -> None:
    group = re.search(r'<fieldset class="radios" id="maturity".*?</fieldset>', idea_form, re.S).group(0)
    assert "<legend>Madurez de la idea" in group
    assert group.count('type="radio"') == len(MADUREZ_DESCRIPTIONS) == 3
    for index in range(3):
        assert re.search(rf'<input aria-describedby="maturity-{index}-hint"[^>]*id="maturity-{index}"', group)
        assert f'<label for="maturity-{index}">' in group
        assert f'<p class="help" id="maturity-{index}-hint">' in group
    assert "prototipo" in group


def test_no_duplicate_ids_on_the_idea_form(idea_form: str) -> None:
    ids = re.findall(r'\sid="([^"]+)"', idea_form)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
