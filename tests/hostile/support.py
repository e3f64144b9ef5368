"""What the hostile-input tests share: hostile values, a small world of real rows, and the URL map walked."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import Rule
from werkzeug.routing.converters import NumberConverter
from wtforms.fields.core import UnboundField

from convocatorias.models import Adjunto, Convocatoria, Desafio, EstadoPostulacion, Organizacion, Postulacion
from idea import audit
from idea.extensions import db
from idea.forms import FilterForm
from idea.models import Role, User
from idea.permissions import rule_for_endpoint
from tests.conftest import login

# Query-string values a script or a curious visitor sends: past every integer column, signs, NUL, LIKE
# wildcards, whitespace only, the last representable date and odd ones, very long, unicode, markup.
HOSTILE_VALUES: tuple[str, ...] = (
    "99999999999999999999",
    "2147483648",
    "-1",
    "\x00",
    "%",
    " ",
    "\t\r\n",
    "9999-12-31",
    "2026-02-30",
    "x" * 1000,
    "9" * 4400,  # past Python's 4300-digit limit for int()
    "ñandú 🌵 \u202e<script>",
)

# Path values: ids past the integer column, negative, zero; slugs and tokens that are NUL, wildcards, long.
HOSTILE_INT_PATH: tuple[str, ...] = ("0", "-1", "2147483648", "99999999999999999999", "9" * 400)
HOSTILE_STRING_PATH: tuple[str, ...] = ("\x00", "%", "%25", " ", "x" * 1500, "ñandú 🌵", "\x01")

# Parameter names sent to every route besides the ones found in the views' code: pagination, search,
# sorting, the usual filters, and names that collide with keyword arguments.
GENERIC_PARAMS: tuple[str, ...] = (
    "page", "per_page", "q", "next", "sort", "order", "id", "lang", "format", "desde", "hasta",
    "date_from", "date_to", "estado", "region", "convocatoria", "desafio",
    # Names of url_for's own arguments: code passing **request.args on would break on them.
    "endpoint", "values", "_external", "_scheme", "_anchor", "_method",
)

_READS = re.compile(r"""(?:args\.(?:get|getlist)|_param)\(\s*["'](\w+)["']""")
_CALLS = re.compile(r"\b(_?\w+)\(")

ROLES: tuple[Role | None, ...] = (None, *Role)


@dataclass
class World:
    """Real rows, so that routes with ids in their path reach their view instead of a 404."""

    owner: User
    admin: User
    call: Convocatoria
    desafio: Desafio
    organizacion: Organizacion
    sent: Postulacion
    draft: Postulacion
    adjunto: Adjunto
    clients: dict[Role | None, Any] = field(default_factory=dict)
    users: dict[Role, User] = field(default_factory=dict)

    def client(self, role: Role | None) -> Any:
        """The role's client, logged in again (a form may have logged it out or rotated its session)."""
        client = self.clients[role]
        if role is not None:
            user = db.session.get(User, self.users[role].id)
            assert user is not None
            login(client, user)
        return client

    def path_values(self) -> dict[str, Any]:
        """A valid value for each path argument name used in the URL map (unknown names get 1 or "x")."""
        return {
            "convocatoria_id": self.call.id,
            "slug": self.call.slug,
            "desafio_id": self.desafio.id,
            "postulacion_id": self.sent.id,
            "adjunto_id": self.adjunto.id,
            "user_id": self.owner.id,
            "assignment_id": self.owner.roles[0].id,
        }

    def param_values(self) -> dict[str, str]:
        """A valid value for query parameters that gate deeper code (so the others are reached too)."""
        return {"convocatoria": str(self.call.id), "desafio": str(self.desafio.id)}


def build_world(
    make_user: Callable[..., User],
    login_as: Callable[..., Any],
    make_desafio: Callable[..., Desafio],
    make_organizacion: Callable[..., Organizacion],
    make_postulacion: Callable[..., Postulacion],
    app: Flask,
) -> World:
    owner = make_user(Role.POSTULANTE, name="Dueña 100% _real_")
    admin = make_user(Role.ADMIN)
    desafio = make_desafio()
    call = db.session.get(Convocatoria, desafio.convocatoria_id)
    assert call is not None
    organizacion = make_organizacion(owner)
    sent = make_postulacion(desafio, organizacion, status=EstadoPostulacion.ENVIADA)
    draft = make_postulacion(desafio, organizacion)
    adjunto = Adjunto(postulacion_id=sent.id, original_name="carta.pdf", stored_name="0" * 32,
                      content_type="application/pdf", size=10, sha256="0" * 64, uploaded_by_id=owner.id)
    db.session.add(adjunto)
    audit.record(admin, "prueba.hostil", owner)
    db.session.commit()
    world = World(owner, admin, call, desafio, organizacion, sent, draft, adjunto)
    world.clients[None] = app.test_client()
    world.clients[Role.POSTULANTE] = login_as(owner)
    world.clients[Role.ADMIN] = login_as(admin)
    for role in Role:
        if role not in world.clients:
            world.clients[role] = login_as(role)
    world.users = {role: client.user for role, client in world.clients.items() if role is not None}
    return world


# --- the URL map ------------------------------------------------------------------------------------

def routes(app: Flask, method: str) -> list[Rule]:
    rules = (r for r in app.url_map.iter_rules() if r.endpoint != "static" and method in (r.methods or ()))
    return sorted(rules, key=lambda r: r.rule)


def allows(app: Flask, rule: Rule, role: Role | None) -> bool:
    """Whether a user holding only `role` (None: anonymous) gets past the route's access rule."""
    access = rule_for_endpoint(app, rule.endpoint)
    if access is None or not access.requires_login:
        return True
    if role is None:
        return False
    return not access.roles or role in access.roles or role == Role.ADMIN


def intended_role(app: Flask, rule: Rule) -> Role | None:
    """The least privileged role the route is meant for (None: anonymous; applicant: any logged-in user)."""
    access = rule_for_endpoint(app, rule.endpoint)
    if access is None or not access.requires_login:
        return None
    return next((r for r in access.roles if r != Role.ADMIN), Role.ADMIN if access.roles else Role.POSTULANTE)


def is_int_argument(rule: Rule, name: str) -> bool:
    return isinstance(rule._converters[name], NumberConverter)  # noqa: SLF001 - an argument's type


def _source_of_calls(function: Any, depth: int = 3) -> str:
    """The source of `function` and of the functions of its module it calls, `depth` calls deep."""
    module = inspect.getmodule(function)
    seen: set[Any] = set()
    texts: list[str] = []
    todo = [(function, 0)]
    while todo:
        fn, level = todo.pop()
        if fn in seen:
            continue
        seen.add(fn)
        try:
            text = inspect.getsource(fn)
        except (OSError, TypeError):
            continue
        texts.append(text)
        if level >= depth:
            continue
        for name in _CALLS.findall(text):
            called = getattr(module, name, None)
            if inspect.isfunction(called) and inspect.getmodule(called) is module:
                todo.append((called, level + 1))
    return "\n".join(texts)


def filter_form_fields(form_class: type) -> set[str]:
    return {name for name in dir(form_class) if isinstance(getattr(form_class, name, None), UnboundField)}


def params_read_by(app: Flask, endpoint: str) -> set[str]:
    """The query parameters a view reads: `request.args.get("x")`, `*_param("x")`, `page_param()` and the
    fields of the GET filter forms it builds, found in its code and the helpers of its module it calls."""
    view = app.view_functions[endpoint]
    text = _source_of_calls(inspect.unwrap(view))
    names = set(_READS.findall(text))
    if "page_param()" in text:
        names.add("page")
    module = inspect.getmodule(view)
    for name in _CALLS.findall(text):
        candidate = getattr(module, name, None)
        if inspect.isclass(candidate) and issubclass(candidate, FilterForm):
            names |= filter_form_fields(candidate)
    return names


def table_counts() -> dict[str, int]:
    """Rows per table: what "nothing half-written" is checked against."""
    db.session.rollback()
    return {t.name: db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in db.metadata.sorted_tables}
