"""Property-based fuzz of every POST form, as the role that sees it: never a 500, never half-written.

The forms are found, not listed: each role (anonymous, applicant, technical lead, admin) opens every GET
page it may see and every `<form method="post">` on it is collected with its fields (inputs, selects,
textareas, file inputs). A POST route of the URL map that no page shows a form for is still posted to,
with a few generic fields. Hypothesis then fills each form with valid values except for a few fields
that get hostile ones (NUL and other control characters, huge numbers, long strings, odd dates, unicode):
the answer is never a 5xx and, when the form is refused (4xx or the form shown again), no table gained or
lost a row.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import Flask, url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idea.chile import compute_check_digit
from idea.extensions import db, limiter
from idea.models import Role
from tests.conftest import PASSWORD
from tests.hostile.support import (
    HOSTILE_VALUES,
    World,
    allows,
    intended_role,
    is_int_argument,
    routes,
    table_counts,
)

EXAMPLES_PER_FORM = 12
STATUSES: dict[str, list[int]] = {}

FORM_VALUES: tuple[str, ...] = (
    *HOSTILE_VALUES,
    "9999-12-31T23:59",
    "9999-12-31",
    "10000-01-01T00:00",
    "0001-01-01",
    "2026-09-06T00:30",  # inside Santiago's spring-forward gap
    "$99.999.999.999.999.999.999",
    "12,123456789",
    "1" * 30,
    "a\x01b\x0bc\x7f",
    "persona@example.cl\x00",
    "=HYPERLINK(\"http://malo.example\")",
)

# Valid values by field name, for fields a page shows empty: so that most fields of an example are valid
# and the hostile ones reach the deeper checks and the operations.
VALID_BY_NAME: dict[str, str] = {
    "name": "Junta de Vecinos Villa Esperanza", "email": "persona.nueva@example.cl",
    "contact_email": "contacto@example.cl", "password": PASSWORD, "password2": PASSWORD,
    "current_password": PASSWORD, "phone": "+56 9 1234 5678", "contact_phone": "+56 9 1234 5678",
    "contact_name": "Ana Rojas", "rut": f"65.123.456-{compute_check_digit(65_123_456)}",
    "comuna": "Santiago",
    "title": "Huertos comunitarios", "problem": "Familias sin acceso a alimentos frescos.",
    "solution": "Huertos en sitios eriazos.", "beneficiaries": "Familias del barrio",
    "beneficiaries_count": "120", "coproduction": "Talleres con vecinas.", "team": "Dos profesionales.",
    "requested_amount": "$25.000.000", "year": "2027", "summary": "Ideas contra la pobreza",
    "description": "Una convocatoria.", "rules": "Bases.", "total_budget": "$650.000.000",
    "min_amount": "$20.000.000", "max_amount": "$30.000.000", "max_submissions_per_org": "2",
    "vote_weight": "10", "submissions_open_at": "2027-03-01T09:00",
    "submissions_close_at": "2027-05-31T23:59",
    "partner_institution": "Ministerio", "unit": "%", "value": "12,5", "source": "Casen 2022",
    "measured_on": "2022-12-31", "lang": "es", "next": "/",
}

hostile_text = st.one_of(
    st.sampled_from(FORM_VALUES),
    st.text(max_size=60),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(lambda d: d.isoformat()),
)


@dataclass
class FoundForm:
    """A POST form as a page shows it: where it posts, its fields and their valid-looking values."""

    action: str
    role: Role | None
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> candidate valid values
    files: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return urlsplit(self.action).path, tuple(sorted(self.fields) + sorted(self.files))


class _FormParser(HTMLParser):
    """Collect the POST forms of a page (stdlib parser: the pages are our own, well-formed HTML)."""

    def __init__(self, page_url: str, role: Role | None) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url, self.role = page_url, role
        self.forms: list[FoundForm] = []
        self._form: FoundForm | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = FoundForm(urljoin(self.page_url, a.get("action") or self.page_url), self.role)
                self.forms.append(self._form)
            return
        form, name = self._form, a.get("name", "")
        if form is not None and tag == "option" and self._select:
            form.fields[self._select].append(a.get("value", ""))
            return
        if form is None or not name:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                form.files.add(name)
            elif kind in ("checkbox", "radio"):
                form.fields.setdefault(name, []).append(a.get("value", "y"))
            else:
                form.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self._select = name
            form.fields.setdefault(name, [])
        elif tag == "textarea":
            self._textarea = name
            form.fields.setdefault(name, []).append("")
        elif tag == "button":
            form.fields.setdefault(name, []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea and data.strip():
            # A browser drops the newline right after <textarea>.
            self._form.fields[self._textarea][-1] = data.removeprefix("\r\n").removeprefix("\n")


def _url(app: Flask, rule: Any, values: dict[str, Any]) -> str:
    args = {name: values.get(name, 1 if is_int_argument(rule, name) else "x") for name in rule.arguments}
    with app.test_request_context():
        return str(url_for(rule.endpoint, **args))


def _found_forms(app: Flask, world: World) -> list[FoundForm]:
    found: dict[tuple[str, tuple[str, ...]], FoundForm] = {}
    values = world.path_values()
    for role in (None, Role.POSTULANTE, Role.ENCARGADO_TECNICO, Role.ADMIN):
        client = world.clients[role]
        for rule in routes(app, "GET"):
            if not allows(app, rule, role):
                continue
            url = _url(app, rule, values)
            # Pages that need a call in the query string (the new-submission form) get the world's.
            query = world.param_values() if rule.endpoint.endswith(".new") else {}
            response = client.get(url, query_string=query)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            page = url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
            parser = _FormParser("http://localhost" + page, role)
            parser.feed(response.get_data(as_text=True))
            for form in parser.forms:
                found.setdefault(form.key, form)
    # POST routes no page showed a form for (a button on a page this world does not reach): posted to
    # with generic fields, as the route's intended user.
    shown = {key[0] for key in found}
    for rule in routes(app, "POST"):
        url = _url(app, rule, values)
        if url not in shown:
            generic = FoundForm(url, intended_role(app, rule),
                                {"submit": ["y"], "target": ["evaluacion"], "next": ["/"], "lang": ["es"]})
            found[generic.key] = generic
    return list(found.values())


def _valid(name: str, page_values: list[str]) -> list[str]:
    """Values the page offers for a field (its options, its current text), else a sensible one by name."""
    offered = [v for v in page_values if v]
    if offered:
        return offered
    key = name.rsplit("-", 1)[-1]  # indicadores-0-value -> value
    return [VALID_BY_NAME[key]] if key in VALID_BY_NAME else [""]


def _fill(form: FoundForm, data: st.DataObject) -> tuple[dict[str, Any], bool]:
    """Valid values in every field but a few (none to three) that get hostile ones, so both refusals
    and saves happen. Returns (data, whether a file is sent)."""
    names = sorted(form.fields)
    hostile = data.draw(st.sets(st.sampled_from(names), max_size=3), label="hostile") if names else set()
    values: dict[str, Any] = {}
    for name in names:
        if name in hostile:
            choice = data.draw(st.one_of(hostile_text, st.none()), label=name)
        else:
            choice = data.draw(st.sampled_from(_valid(name, form.fields[name])), label=name)
        if choice is not None:
            values[name] = choice
    for name in sorted(form.files):
        filename = data.draw(st.one_of(st.just("carta.pdf"), hostile_text), label=name)
        values[name] = (io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n"), filename)
    return values, bool(form.files)


def _fuzz(form: FoundForm, world: World) -> None:
    @settings(max_examples=EXAMPLES_PER_FORM, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def post_hostile_values(data: st.DataObject) -> None:
        limiter.reset()
        client = world.client(form.role)
        values, multipart = _fill(form, data)
        before = table_counts()
        response = client.post(form.action, data=values,
                               content_type="multipart/form-data" if multipart else None)
        status = response.status_code
        assert status < 500, (form.action, status)
        if any(isinstance(v, str) and "\x00" in v for v in values.values()):
            assert status == 400, (form.action, status)
        if status >= 400 or status == 200:
            assert table_counts() == before, (form.action, status)
        db.session.rollback()
        STATUSES.setdefault(urlsplit(form.action).path, []).append(status)

    post_hostile_values()


def test_every_post_form_survives_hostile_values(app: Flask, world: World) -> None:
    forms = _found_forms(app, world)
    posted = {urlsplit(f.action).path for f in forms}
    assert len(posted) >= len(routes(app, "POST")), "every POST route is fuzzed"
    for form in forms:
        _fuzz(form, world)
