"""Links in e-mails come from PUBLIC_BASE_URL, never from the Host header an attacker sends."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from idea import create_app
from idea.extensions import db
from tests.conftest import make_test_app

EVIL = "evil.example"


def _links(message: Any) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", message.body + (message.html or ""))


def _forgot(client: Any, **headers: str) -> Any:
    return client.post("/cuenta/olvide-mi-clave", data={"email": "victima@example.cl"}, headers=headers)


def test_a_forged_host_header_does_not_reach_the_reset_link(
    client: Any, outbox: Any, make_user: Any, app: Flask
) -> None:
    make_user(email="victima@example.cl")
    assert _forgot(client, Host=EVIL).status_code == 302
    (message,) = outbox.messages
    links = _links(message)
    assert links and all(link.startswith(app.config["PUBLIC_BASE_URL"] + "/") for link in links)
    assert EVIL not in message.body
    assert re.search(r"http://localhost/cuenta/clave/\S+", message.body)


def test_a_forged_forwarded_host_behind_a_trusted_proxy_does_not_reach_the_reset_link(
    database_url: str, tmp_path: Path, make_user: Any, outbox: Any, app: Flask
) -> None:
    proxied = make_test_app(database_url, tmp_path, TRUSTED_PROXIES=1, RQ_QUEUE=app.config["RQ_QUEUE"],
                            PUBLIC_BASE_URL="https://fondoidea.example.cl")
    make_user(email="victima@example.cl")
    try:
        response = _forgot(proxied.test_client(), **{"X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "http"})
        assert response.status_code == 302
        (message,) = outbox.messages
        assert EVIL not in message.body and EVIL not in (message.html or "")
        assert re.search(r"https://fondoidea\.example\.cl/cuenta/clave/\S+", message.body)
    finally:
        with proxied.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("VOTE_HASH_KEY", "v" * 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))


def test_production_refuses_to_start_without_a_public_address(
    production_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app("production")
    monkeypatch.setenv("PUBLIC_BASE_URL", "fondoidea.example.cl")  # no scheme: refused, not guessed
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app("production")


@pytest.mark.usefixtures("restore_limiter")
def test_production_answers_only_its_own_host(production_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://fondoidea.example.cl")
    monkeypatch.setenv("TRUSTED_HOSTS", "www.fondoidea.example.cl")
    production = create_app("production")
    client = production.test_client()
    try:
        base = "https://fondoidea.example.cl"
        assert client.get("/", base_url=base).status_code == 200
        assert client.get("/", base_url="https://www.fondoidea.example.cl").status_code == 200
        assert client.get("/", base_url=base, headers={"Host": EVIL}).status_code == 400
        assert client.post("/cuenta/olvide-mi-clave", base_url=f"https://{EVIL}").status_code == 400
    finally:
        with production.app_context():
            db.session.remove()
            db.engine.dispose()
