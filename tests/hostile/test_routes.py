"""No GET route answers 500, whatever a visitor puts in its query string or path.

Generated from the URL map (as tests/test_access.py walks it), so a route added later is covered without
touching this file. Each role (anonymous, applicant, each staff role, admin) sends, to every route it may
open, every hostile value in every parameter at once (each also as an array); the route's intended user
also sends each parameter the view reads (found in its code) alone with each hostile value; and hostile
values go in each path argument. A NUL byte is always a 400 and
an id past the integer column always a 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from werkzeug.routing import Rule

from idea.models import Role
from tests.hostile.support import (
    GENERIC_PARAMS,
    HOSTILE_INT_PATH,
    HOSTILE_STRING_PATH,
    HOSTILE_VALUES,
    ROLES,
    World,
    allows,
    intended_role,
    is_int_argument,
    params_read_by,
    routes,
)

FEW_VALUES = ("99999999999999999999", "\x00", " ", "9" * 4400, "ñandú 🌵 \u202e<script>")

# Paths past the integer column: the bounded <int:> converter makes them a 404 before any query.
OUT_OF_RANGE_IDS = {raw for raw in HOSTILE_INT_PATH if len(raw) > 1 and int(raw) > 2**31 - 1}


def _url(app: Flask, rule: Rule, values: dict[str, Any], **override: Any) -> str:
    args = {name: values.get(name, 1 if is_int_argument(rule, name) else "x") for name in rule.arguments}
    args.update(override)
    with app.test_request_context():
        return url_for(rule.endpoint, **args)


def _check(client: Any, url: str, query: Any, what: str) -> int:
    response = client.get(url, query_string=query)
    assert response.status_code < 500, (what, response.status_code)
    return int(response.status_code)


def _every_param(app: Flask) -> list[str]:
    names = set(GENERIC_PARAMS)
    for rule in routes(app, "GET"):
        names |= params_read_by(app, rule.endpoint)
    return sorted(names)


def _role_id(role: Role | None) -> str:
    return role.value if role else "anonimo"


@pytest.mark.parametrize("role", ROLES, ids=_role_id)
def test_no_get_route_fails_on_hostile_query_values(app: Flask, world: World, role: Role | None) -> None:
    client, values, baseline = world.clients[role], world.path_values(), world.param_values()
    every_param = _every_param(app)
    checked = 0
    for rule in routes(app, "GET"):
        url = _url(app, rule, values)
        gates = {p: v for p, v in baseline.items() if p in params_read_by(app, rule.endpoint)}
        if not allows(app, rule, role):
            # Refused before the view: one request each way shows the refusal itself holds.
            _check(client, url, {p: HOSTILE_VALUES[0] for p in every_param}, rule.endpoint)
            assert _check(client, url, {"q": "\x00"}, rule.endpoint) == 400
            continue
        # The route's intended user and the admin send every value; other roles that may open it, a few.
        intended = role in (intended_role(app, rule), Role.ADMIN)
        for value in HOSTILE_VALUES if intended else FEW_VALUES:
            # Every parameter at once, each also sent twice (an array) and as name[].
            query = [(p, value) for p in every_param] + [(p, "1") for p in every_param]
            query += [(p + "[]", value) for p in every_param if len(value) < 100]
            status = _check(client, url, query, (rule.endpoint, value[:20]))
            if "\x00" in value:
                assert status == 400, rule.endpoint
            if gates:
                # The parameters that open the view's deeper code valid, every other one hostile.
                deeper = {**{p: value for p in every_param}, **gates}
                _check(client, url, deeper, (rule.endpoint, "gates", value[:20]))
            checked += 1
        if role != intended_role(app, rule):
            continue
        for param in sorted(params_read_by(app, rule.endpoint)):
            # As the route's intended user, the parameters the view reads, one at a time, the others valid
            # so the view goes deep.
            for value in HOSTILE_VALUES:
                _check(client, url, {**baseline, param: value}, (rule.endpoint, param, value[:20]))
                checked += 1
    assert checked > 0


@pytest.mark.parametrize("role", [None, Role.POSTULANTE, Role.ENCARGADO_TECNICO, Role.ADMIN], ids=_role_id)
def test_no_get_route_fails_on_hostile_path_values(app: Flask, world: World, role: Role | None) -> None:
    client, values = world.clients[role], world.path_values()
    checked = 0
    for rule in routes(app, "GET"):
        for name in sorted(rule.arguments):
            if is_int_argument(rule, name):
                for raw in HOSTILE_INT_PATH:
                    status = _check(client, _with_segment(app, rule, values, name, raw), None,
                                    (rule.endpoint, name, raw[:20]))
                    if raw in OUT_OF_RANGE_IDS:
                        assert status == 404, (rule.endpoint, name, status)
                    checked += 1
            else:
                for raw in HOSTILE_STRING_PATH:
                    status = _check(client, _url(app, rule, values, **{name: raw}), None,
                                    (rule.endpoint, name, raw[:20]))
                    if "\x00" in raw:
                        assert status == 400, rule.endpoint
                    checked += 1
    assert checked > 0


def _with_segment(app: Flask, rule: Rule, values: dict[str, Any], name: str, raw: str) -> str:
    """The route's URL with `raw` (which its converter may refuse) in place of argument `name`."""
    marker = 7_654_321
    url = _url(app, rule, values, **{name: marker})
    return url.replace(str(marker), raw, 1)
