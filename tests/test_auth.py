"""Accounts as a person (and an attacker) sees them: register, confirm, log in and out, passwords."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from idea.extensions import db
from idea.models import EventoAuditoria, Role, User
from tests.conftest import PASSWORD

NEW_PASSWORD = "Tres-Gatos-Verdes-Saltan"


def _link(message: Any) -> str:
    match = re.search(r"http://localhost(/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def _register(client: Any, email: str = "nueva@example.cl", password: str = PASSWORD) -> Any:
    return client.post(
        "/cuenta/registro",
        data={"name": "Nueva Persona", "email": email, "password": password, "password2": password},
    )


def test_a_person_registers_confirms_and_logs_in(client: Any, outbox: Any) -> None:
    response = _register(client)
    assert response.status_code == 302
    assert len(outbox) == 1
    confirm_path = _link(outbox[0])
    assert outbox[0].recipients == ["nueva@example.cl"]

    # Not confirmed yet: log-in is refused with a hint.
    response = client.post("/cuenta/ingresar", data={"email": "nueva@example.cl", "password": PASSWORD})
    assert response.status_code == 422

    assert client.get(confirm_path).status_code == 200  # the GET only shows a button
    user = db.session.scalar(sa.select(User).where(User.email == "nueva@example.cl"))
    assert user.email_confirmed_at is None
    assert client.post(confirm_path).status_code == 302
    db.session.expire_all()
    assert user.email_confirmed_at is not None
    assert user.has_role(Role.POSTULANTE)

    response = client.post("/cuenta/ingresar", data={"email": "NUEVA@example.cl ", "password": PASSWORD})
    assert response.status_code == 302
    profile = client.get("/cuenta/perfil")
    assert profile.status_code == 200
    assert b"nueva@example.cl" in profile.data


def test_registration_does_not_reveal_known_emails(client: Any, outbox: Any, make_user: Any) -> None:
    make_user(email="conocida@example.cl")
    known = _register(client, email="conocida@example.cl")
    unknown = _register(client, email="desconocida@example.cl")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2
    # The owner of the known address is told by e-mail instead.
    assert [m.recipients for m in outbox] == [["conocida@example.cl"], ["desconocida@example.cl"]]


@pytest.mark.parametrize("password", ["corta", "password1234", "123456789012", "qwertyuiopasdf"])
def test_weak_passwords_are_refused(client: Any, password: str) -> None:
    response = _register(client, password=password)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_confirmation_link_is_signed(client: Any) -> None:
    response = client.post("/cuenta/confirmar/abc.def.ghi")
    assert response.status_code == 400


def test_confirmation_link_expires(client: Any, outbox: Any, app: Any) -> None:
    _register(client)
    path = _link(outbox[0])
    app.config["CONFIRM_TOKEN_MAX_AGE"] = -1
    try:
        assert client.post(path).status_code == 400
    finally:
        app.config["CONFIRM_TOKEN_MAX_AGE"] = 60 * 60 * 48


def test_login_answers_the_same_for_unknown_email_and_wrong_password(client: Any, make_user: Any) -> None:
    make_user(email="existe@example.cl")
    wrong = client.post(
        "/cuenta/ingresar", data={"email": "existe@example.cl", "password": "Otra-Clave-Mala-1"}
    )
    unknown = client.post(
        "/cuenta/ingresar", data={"email": "nadie@example.cl", "password": "Otra-Clave-Mala-1"}
    )
    assert wrong.status_code == unknown.status_code == 422
    strip = re.compile(rb'name="csrf_token"[^>]*>|value="[^"]*"')
    assert strip.sub(b"", wrong.data) == strip.sub(b"", unknown.data)


def test_sixth_failed_login_within_a_minute_is_rate_limited(client: Any, make_user: Any) -> None:
    make_user(email="victima@example.cl")
    for _ in range(5):
        response = client.post(
            "/cuenta/ingresar", data={"email": "victima@example.cl", "password": "Mala-Clave-123"}
        )
        assert response.status_code == 422
    response = client.post(
        "/cuenta/ingresar", data={"email": "victima@example.cl", "password": "Mala-Clave-123"}
    )
    assert response.status_code == 429
    # Even the right password waits: the attacker cannot keep guessing.
    response = client.post("/cuenta/ingresar", data={"email": "victima@example.cl", "password": PASSWORD})
    assert response.status_code == 429


def test_registration_is_rate_limited(client: Any) -> None:
    codes = [_register(client, email=f"spam{i}@example.cl").status_code for i in range(11)]
    assert codes[:10] == [302] * 10
    assert codes[10] == 429


def test_login_starts_a_new_session_and_logout_ends_it(client: Any, make_user: Any, app: Any) -> None:
    user = make_user(email="sesion@example.cl")
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    client.post("/cuenta/ingresar", data={"email": "sesion@example.cl", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        stolen_cookie = dict(session)

    assert client.post("/cuenta/salir").status_code == 302
    assert client.get("/cuenta/perfil").status_code == 302

    # Replaying the cookie captured before logout no longer opens the account.
    thief = app.test_client()
    with thief.session_transaction() as session:
        session.update(stolen_cookie)
    assert thief.get("/cuenta/perfil").status_code == 302
    events = db.session.scalars(
        sa.select(EventoAuditoria.action).where(EventoAuditoria.object_id == str(user.id))
    ).all()
    assert "user.login" in events and "user.logout" in events


def test_logout_is_a_post(login_as: Any) -> None:
    client = login_as(Role.POSTULANTE)
    assert client.get("/cuenta/salir").status_code == 405
    assert client.get("/cuenta/perfil").status_code == 200


def test_forgotten_password_flow(client: Any, outbox: Any, make_user: Any) -> None:
    make_user(email="olvido@example.cl")
    assert client.post("/cuenta/olvide-mi-clave", data={"email": "olvido@example.cl"}).status_code == 302
    assert client.post("/cuenta/olvide-mi-clave", data={"email": "nadie@example.cl"}).status_code == 302
    assert len(outbox) == 1
    path = _link(outbox[0])
    response = client.post(path, data={"password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    # The link works once.
    response = client.post(path, data={"password": NEW_PASSWORD + "x", "password2": NEW_PASSWORD + "x"})
    assert response.status_code == 422
    assert (
        client.post(
            "/cuenta/ingresar", data={"email": "olvido@example.cl", "password": NEW_PASSWORD}
        ).status_code
        == 302
    )


def test_change_password_needs_the_current_one(login_as: Any) -> None:
    client = login_as(Role.POSTULANTE)
    bad = client.post(
        "/cuenta/cambiar-clave",
        data={"current_password": "no-es-la-clave", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert bad.status_code == 422
    good = client.post(
        "/cuenta/cambiar-clave",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert good.status_code == 302
    assert client.get("/cuenta/perfil").status_code == 200  # still logged in on this device


def test_profile_update(login_as: Any) -> None:
    client = login_as(Role.POSTULANTE)
    response = client.post(
        "/cuenta/perfil", data={"name": "Nombre Nuevo", "phone": "+56 9 1234 5678", "locale": "es"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, client.user.id).name == "Nombre Nuevo"


def test_open_redirect_after_login_is_refused(client: Any, make_user: Any) -> None:
    make_user(email="redir@example.cl")
    response = client.post(
        "/cuenta/ingresar?next=https://evil.example/x",
        data={"email": "redir@example.cl", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/inicio"


def test_post_without_csrf_token_is_refused(app: Any, make_user: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        response = client.post("/cuenta/ingresar", data={"email": "x@example.cl", "password": "x"})
        assert response.status_code == 400
        response = client.post(
            "/cuenta/registro",
            data={"name": "a", "email": "a@example.cl", "password": PASSWORD, "password2": PASSWORD},
        )
        assert response.status_code == 400
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_every_post_route_requires_csrf(app: Any, login_as: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = login_as(Role.ADMIN)
        posted = 0
        for rule in app.url_map.iter_rules():
            if "POST" not in (rule.methods or ()):
                continue
            values = {
                arg: 1 if "int" in str(rule._converters[arg]).lower() else "x"  # noqa: SLF001
                for arg in rule.arguments
            }
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **values)
            assert client.post(url, data={}).status_code == 400, rule.endpoint
            posted += 1
        assert posted > 5
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_behind_a_trusted_proxy_each_client_has_its_own_login_limit(database_url: Any, tmp_path: Any,
                                                                    make_user: Any) -> None:
    from tests.conftest import make_test_app

    proxied = make_test_app(database_url, tmp_path, TRUSTED_PROXIES=1)
    make_user(email="detras@example.cl")
    client = proxied.test_client()
    bad = {"email": "detras@example.cl", "password": "Mala-Clave-123"}

    def attempt(address: str) -> int:
        return client.post("/cuenta/ingresar", data=bad, headers={"X-Forwarded-For": address}).status_code

    assert [attempt("200.1.1.1") for _ in range(6)] == [422] * 5 + [429]
    # Another person behind the same proxy is not locked out by the first one's attempts.
    assert attempt("200.2.2.2") == 422
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()
