"""Test fixtures: the app on a fresh database (SQLite or PostgreSQL), clients per role, the mail outbox,
a live server and Debian's Chromium through Playwright.

The database comes from DATABASE_URL: a PostgreSQL URL makes the suite create (and drop) a database of its
own on that server; otherwise a SQLite file in a temporary folder is used. REDIS_URL, when set, sends jobs
through a real RQ queue (one queue per test session); the `outbox` fixture runs a worker on it.
"""

from __future__ import annotations

import contextvars
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from idea import create_app, pagecache
from idea.extensions import db, limiter, mail
from idea.models import Role, RoleAssignment, User, utcnow
from idea.passwords import hash_password

PASSWORD = "Un-Molino-Azul-2026"  # a test password that the password rules accept
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# --- database -----------------------------------------------------------------------------------


def _postgres_admin_url(url: sa.URL) -> sa.URL:
    return url.set(database="postgres")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    raw = os.environ.get("DATABASE_URL", "")
    if not raw.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    url = sa.make_url(raw.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"idea_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(_postgres_admin_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose requests never share the test's app context (and so its `g` and session).

    Flask reuses an already pushed app context for a request; then `g` (Flask-Login's cached user) would
    leak from one client's request to another's. Running each request in an empty context avoids that, as
    in production where every request has its own.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_test_app(database_url: str, tmp_path: Path, **overrides: Any) -> Flask:
    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
    }
    app = create_app("testing", **{**settings, **overrides})
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = make_test_app(database_url, tmp_path_factory.mktemp("app"))
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _empty_tables() -> None:
    db.session.rollback()
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def app_context(app: Flask) -> Iterator[Flask]:
    """Each test runs in an app context on empty tables, with fresh rate-limit counters."""
    with app.app_context():
        limiter.reset()
        pagecache.clear()  # rows of the previous test are gone (TRUNCATE fires no invalidation)
        yield app
        _empty_tables()
        db.session.remove()
        if app.config.get("REDIS_URL"):
            from idea.jobs import get_queue

            get_queue(app).empty()


# --- clients and users ---------------------------------------------------------------------------

_PASSWORD_HASH: list[str] = []


def _password_hash() -> str:
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))
    return _PASSWORD_HASH[0]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user() -> Callable[..., User]:
    """Create a confirmed user (committed); roles may be scoped: `make_user(Role.EVALUADOR, region="08")`."""
    counter = iter(range(1, 10_000))

    def factory(
        *roles: Role,
        email: str | None = None,
        name: str = "Persona de Prueba",
        confirmed: bool = True,
        convocatoria_id: int | None = None,
        region: str | None = None,
        password: str | None = None,
    ) -> User:
        n = next(counter)
        user = User(
            email=email or f"persona{n}-{secrets.token_hex(3)}@example.cl",
            name=name,
            password_hash=hash_password(password) if password else _password_hash(),
            email_confirmed_at=utcnow() if confirmed else None,
        )
        for role in roles:
            user.roles.append(RoleAssignment(role=role, convocatoria_id=convocatoria_id, region=region))
        db.session.add(user)
        db.session.commit()
        return user

    return factory


def login(client: FlaskClient, user: User) -> FlaskClient:
    """Log `client` in as `user` without going through the form (which has its own tests)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


@pytest.fixture
def login_as(app: Flask, make_user: Callable[..., User]) -> Callable[..., FlaskClient]:
    """`login_as(Role.ADMIN)` or `login_as(user)`: a new client logged in as that role or user."""

    def factory(who: Role | User | None = None, **user_fields: Any) -> FlaskClient:
        user = who if isinstance(who, User) else make_user(*([who] if who else []), **user_fields)
        new_client = app.test_client()
        login(new_client, user)
        new_client.user = user  # type: ignore[attr-defined]
        return new_client

    return factory


# --- mail and jobs -------------------------------------------------------------------------------


def run_queued_jobs(app: Flask) -> None:
    """Run every job waiting in the test session's RQ queue (no-op when jobs run inline)."""
    if not app.config.get("REDIS_URL"):
        return
    from rq import SimpleWorker

    from idea.jobs import get_queue

    queue = get_queue(app)
    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)


class Outbox:
    """The messages Flask-Mail dispatched; reading it first lets an RQ worker run what is queued."""

    def __init__(self, app: Flask, messages: list[Any]) -> None:
        self._app = app
        self._messages = messages

    @property
    def messages(self) -> list[Any]:
        run_queued_jobs(self._app)
        return self._messages

    def __len__(self) -> int:
        return len(self.messages)

    def __getitem__(self, index: int) -> Any:
        return self.messages[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self.messages))

    def to(self, email: str) -> list[Any]:
        return [m for m in self.messages if email in m.recipients]


@pytest.fixture
def outbox(app: Flask) -> Iterator[Outbox]:
    with mail.record_messages() as messages:
        yield Outbox(app, messages)


# --- live server and browser ---------------------------------------------------------------------


@pytest.fixture
def live_server(database_url: str, tmp_path: Path, app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free port, with CSRF on as in production, sharing the test database."""
    served = make_test_app(database_url, tmp_path, WTF_CSRF_ENABLED=True, RQ_QUEUE=app.config["RQ_QUEUE"])
    server = make_server("127.0.0.1", 0, served, threaded=True)
    served.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in its e-mails
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with served.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        locale="es-CL", timezone_id="America/Santiago", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def restore_limiter(app: Flask) -> Iterator[None]:
    """For tests that build an app of their own: Flask-Limiter keeps one storage for all apps (the last
    one initialised), so point it back at the session app's storage afterwards."""
    yield
    limiter.init_app(app)
    limiter._storage_dead = False
