"""One access mechanism for every route: each view declares a rule, and a single hook enforces it.

`@access(PUBLIC)`, `@access(LOGGED_IN)` or `@access(roles(Role.EVALUADOR))` on a view function; a route
without a declared rule is refused (and a test walks the URL map so none ships without one). Object-level
questions ("may this user edit this submission?") are `can_*` functions or methods of each package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

from idea.models import Role

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTR = "access_rule"


@dataclass(frozen=True)
class AccessRule:
    """Who may reach a route: anyone, any logged-in user, or holders of one of some roles."""

    name: str
    requires_login: bool = True
    roles: tuple[Role, ...] = ()

    def allows(self, user: Any) -> bool:
        if not self.requires_login:
            return True
        if not user.is_authenticated:
            return False
        if not self.roles:
            return True
        return user.has_any_role(*self.roles)


PUBLIC = AccessRule("public", requires_login=False)
LOGGED_IN = AccessRule("logged_in")


def roles(*allowed: Role) -> AccessRule:
    """Rule for staff routes: the user must hold one of `allowed` (admin holds them all)."""
    return AccessRule("roles:" + ",".join(r.value for r in allowed), roles=tuple(allowed))


ADMIN = roles(Role.ADMIN)


def access(rule: AccessRule) -> Callable[[F], F]:
    """Declare the access rule of a view function."""

    def decorator(view: F) -> F:
        setattr(view, ACCESS_ATTR, rule)
        return view

    return decorator


def rule_for_endpoint(app: Flask, endpoint: str) -> AccessRule | None:
    if endpoint == "static" or endpoint.endswith(".static"):
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTR, None)


def enforce_access() -> Any:
    """before_request hook: apply the endpoint's declared rule."""
    if request.endpoint is None:  # no route matched: the 404 handler answers
        return None
    rule = rule_for_endpoint(current_app, request.endpoint)
    if rule is None:
        current_app.logger.error("Route %s declares no access rule; refused", request.endpoint)
        abort(403)
    if rule.allows(current_user):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
    abort(403)
