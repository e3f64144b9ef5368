"""Every route declares who may use it, and the declaration is enforced."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter

from idea.models import Role
from idea.permissions import PUBLIC, rule_for_endpoint

DUMMY_VALUES = {"int": 1, "string": "x", "path": "x", "default": "x"}


def _url(app: Flask, rule: Rule) -> str:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]  # noqa: SLF001 - the only way to learn an argument's type
        values[arg] = 1 if isinstance(converter, NumberConverter) else "x"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _routes(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def test_every_route_declares_an_access_rule(app: Flask) -> None:
    missing = [r.endpoint for r in _routes(app) if rule_for_endpoint(app, r.endpoint) is None]
    assert missing == [], f"routes without @access(...): {missing}"


def test_protected_routes_send_anonymous_visitors_to_log_in(app: Flask, client: Any) -> None:
    checked = 0
    for rule in _routes(app):
        access = rule_for_endpoint(app, rule.endpoint)
        if access is None or access == PUBLIC:
            continue
        url = _url(app, rule)
        for method in _methods(rule):
            response = client.open(url, method=method)
            assert response.status_code == 302, (rule.endpoint, method, response.status_code)
            assert "/cuenta/ingresar" in response.headers["Location"], (rule.endpoint, method)
            checked += 1
    assert checked > 0


def test_role_routes_refuse_users_without_the_role(app: Flask, login_as: Any) -> None:
    checked = 0
    for rule in _routes(app):
        access = rule_for_endpoint(app, rule.endpoint)
        if access is None or not access.roles:
            continue
        # Someone holding every role but the allowed ones (and never admin, who holds them all).
        other_roles = [r for r in Role if r not in access.roles and r != Role.ADMIN]
        client = login_as(other_roles[0] if other_roles else None)
        url = _url(app, rule)
        for method in _methods(rule):
            response = client.open(url, method=method)
            assert response.status_code == 403, (rule.endpoint, method, response.status_code)
            checked += 1
    assert checked > 0


def test_a_route_without_a_rule_is_refused(app: Flask, login_as: Any) -> None:
    probe = Flask("probe")
    probe.config.update(app.config)

    def unprotected() -> str:
        return "secret"

    # Registering on the real app would leak into other tests; the hook is checked on a copy of its logic.
    from idea.permissions import enforce_access

    probe.add_url_rule("/sin-regla", view_func=unprotected)
    probe.before_request(enforce_access)
    from idea.extensions import login_manager

    login_manager.init_app(probe)
    response = probe.test_client().get("/sin-regla")
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/", "/cuenta/ingresar", "/cuenta/registro"])
def test_public_pages_are_open(client: Any, path: str) -> None:
    assert client.get(path).status_code == 200
