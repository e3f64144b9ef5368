"""Account security as an attacker probes it: guessing passwords, timing, weak passwords, redirects."""

from __future__ import annotations

import os
from typing import Any

import pytest
import sqlalchemy as sa

from idea.extensions import db
from idea.models import User
from tests.conftest import PASSWORD


def _register(client: Any, email: str = "nueva@example.cl", password: str = PASSWORD, **environ: Any) -> Any:
    return client.post(
        "/cuenta/registro",
        data={"name": "Nueva Persona", "email": email, "password": password, "password2": password},
        environ_base=environ,
    )


# --- password rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["fondoidea2026!", "Fondo-IDEA-2026", "chilechile2026", "FONDO_idea_2027.", "Contraseña-2026!",
     "Fosis-Fondo-Idea-99", "Demo-Fondo-IDEA-2026"],
)
def test_dressed_up_common_and_site_name_passwords_are_refused(client: Any, password: str) -> None:
    response = _register(client, password=password)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


@pytest.mark.parametrize("password", [PASSWORD, "Tres-Gatos-Verdes-Saltan", "Fondo-IDEA-Molino-Azul-Lento"])
def test_good_passwords_are_accepted(client: Any, password: str) -> None:
    assert _register(client, password=password).status_code == 302


def test_registration_shows_every_password_problem_at_once(client: Any) -> None:
    response = client.post(
        "/cuenta/registro",
        data={"name": "Nueva Persona", "email": "nueva@example.cl", "password": "password1",
              "password2": "otra-cosa"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "al menos 12 caracteres" in page
    assert "demasiado común" in page
    assert "no coinciden" in page


# --- guessing passwords -----------------------------------------------------------------------------

WRONG = "Mala-Clave-Adivinada-1"


def _login(client: Any, email: str, password: str, address: str) -> int:
    return client.post(
        "/cuenta/ingresar", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    ).status_code


@pytest.fixture
def small_limits(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The production rule at a smaller scale (fewer slow hashes): an address reaches an account's counter
    at most 2 times an hour (4 inside one window), 6 failures lock the account."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_ADDRESS", "1000 per minute")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_ACCOUNT_ADDRESS", "2 per hour")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_ACCOUNT", "6 per 15 minutes")


def test_guesses_from_many_addresses_lock_the_account_and_tell_its_owner_once(
    client: Any, make_user: Any, outbox: Any, small_limits: None
) -> None:
    make_user(email="victima@example.cl")
    codes = [_login(client, "victima@example.cl", WRONG, f"10.0.0.{i}") for i in range(1, 11)]
    assert codes == [422] * 6 + [429] * 4
    # Locked: the right password does not open it either, not even from an address that never failed.
    assert _login(client, "victima@example.cl", PASSWORD, "10.9.9.9") == 429
    notices = [m for m in outbox.to("victima@example.cl") if "bloqueada" in m.subject]
    assert len(notices) == 1, [m.subject for m in outbox]
    assert "/cuenta/olvide-mi-clave" in notices[0].body


def test_choosing_a_new_password_from_the_emailed_link_ends_the_lock(
    client: Any, make_user: Any, outbox: Any, small_limits: None
) -> None:
    import re

    make_user(email="victima@example.cl")
    for i in range(7):
        _login(client, "victima@example.cl", WRONG, f"10.0.0.{i}")
    assert _login(client, "victima@example.cl", PASSWORD, "10.9.9.9") == 429
    client.post("/cuenta/olvide-mi-clave", data={"email": "victima@example.cl"})
    link = re.search(r"http://localhost(/cuenta/clave/\S+)", outbox.to("victima@example.cl")[-1].body)
    assert link
    new = "Tres-Gatos-Verdes-Saltan"
    assert client.post(link.group(1), data={"password": new, "password2": new}).status_code == 302
    assert _login(client, "victima@example.cl", new, "10.9.9.9") == 302


def test_the_refusal_says_how_long_to_wait(client: Any) -> None:
    for _ in range(5):
        _login(client, "nadie@example.cl", WRONG, "10.7.7.7")
    response = client.post("/cuenta/ingresar", data={"email": "nadie@example.cl", "password": WRONG},
                           environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) <= 60
    assert "Espera 1 minuto e inténtalo" in response.get_data(as_text=True)


def test_an_unknown_email_is_locked_the_same_way(client: Any, small_limits: None, outbox: Any) -> None:
    codes = [_login(client, "nadie@example.cl", WRONG, f"10.0.0.{i}") for i in range(1, 9)]
    assert codes == [422] * 6 + [429] * 2
    assert len(outbox) == 0


def test_one_address_cannot_lock_out_other_people(client: Any, make_user: Any, small_limits: None) -> None:
    owners = [make_user(email=f"duena{i}@example.cl") for i in range(3)]
    for owner in owners:
        codes = [_login(client, owner.email, WRONG, "66.6.6.6") for _ in range(5)]
        # The attacking address gets its few guesses, then only refusals that cost nothing.
        assert codes == [422] * 2 + [429] * 3
    for i, owner in enumerate(owners):
        assert _login(client, owner.email, PASSWORD, f"200.1.1.{i}") == 302


def test_wrong_current_passwords_on_the_change_form_are_limited(login_as: Any) -> None:
    client = login_as()
    data = {"current_password": WRONG, "password": "Tres-Gatos-Verdes-Saltan",
            "password2": "Tres-Gatos-Verdes-Saltan"}
    codes = [client.post("/cuenta/cambiar-clave", data=data).status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]
    data["current_password"] = PASSWORD
    assert client.post("/cuenta/cambiar-clave", data=data).status_code == 429


def test_parallel_guesses_from_one_address_respect_its_limit(live_server: str) -> None:
    """Many simultaneous requests (threads against a live server, on Redis when REDIS_URL is set): no more
    than the 5 allowed a minute are processed."""
    import http.cookiejar
    import re
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request

    n = 16
    openers, tokens = [], []
    for _ in range(n):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = opener.open(f"{live_server}/cuenta/ingresar").read().decode()
        tokens.append(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page))
        openers.append(opener)
    barrier = threading.Barrier(n)
    codes: list[int] = []

    def attempt(i: int) -> None:
        token = tokens[i].group(1)
        body = urllib.parse.urlencode(
            {"csrf_token": token, "email": f"alguien{i}@example.cl", "password": WRONG}
        ).encode()
        barrier.wait()
        try:
            codes.append(openers[i].open(f"{live_server}/cuenta/ingresar", data=body).status)
        except urllib.error.HTTPError as error:
            codes.append(error.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(codes) == n
    assert codes.count(422) == 5, sorted(codes)
    assert codes.count(429) == n - 5


# --- timing ------------------------------------------------------------------------------------------


def _medians(first: Any, second: Any, samples: int = 15) -> tuple[float, float]:
    """Median durations of two requests, interleaved so that a load spike on the machine hits both."""
    import statistics
    import time

    times: tuple[list[float], list[float]] = ([], [])
    for i in range(samples):
        for which, request in ((0, first), (1, second)) if i % 2 else ((1, second), (0, first)):
            start = time.perf_counter()
            request(i)
            times[which].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.25 * max(a, b)


def test_login_takes_as_long_for_an_unknown_email_as_for_a_known_one(client: Any, make_user: Any) -> None:
    make_user(email="existe@example.cl")

    def known(i: int) -> None:
        assert _login(client, "existe@example.cl", WRONG, f"10.1.{i}.1") == 422

    def unknown(i: int) -> None:
        assert _login(client, f"nadie{i}@example.cl", WRONG, f"10.2.{i}.1") == 422

    known_time, unknown_time = _medians(known, unknown)
    assert _close(known_time, unknown_time), (known_time, unknown_time)


def test_registration_takes_as_long_for_a_known_email_as_for_a_new_one(client: Any, make_user: Any) -> None:
    make_user(email="conocida@example.cl")

    def known(i: int) -> None:
        assert _register(client, email="conocida@example.cl", REMOTE_ADDR=f"10.3.{i}.1").status_code == 302

    def new(i: int) -> None:
        assert _register(client, email=f"nueva{i}@example.cl", REMOTE_ADDR=f"10.4.{i}.1").status_code == 302

    known_time, new_time = _medians(known, new)
    assert _close(known_time, new_time), (known_time, new_time)


# --- redirects ---------------------------------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/%09/evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "https:evil.example", "https://evil.example",
    "/%5cevil.example", "/%5Cevil.example", "/%2F%2Fevil.example", "%2F%2Fevil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "\tjavascript:alert(1)", " //evil.example",
    "/%252F%252Fevil.example",
    "/%0a/evil.example", "evil.example", "http:/evil.example", "/\x00/evil.example", "",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_is_refused_by_the_language_switch(client: Any, target: str) -> None:
    from idea.auth import safe_next

    assert safe_next(target) is None
    response = client.post("/idioma", data={"lang": "en", "next": target})
    if "\x00" in target:  # refused whole before any view runs (idea.params.refuse_nul_bytes)
        assert response.status_code == 400
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_hostile_next_is_refused_after_login(client: Any, make_user: Any) -> None:
    make_user(email="redir@example.cl")
    for target in ("/%09/evil.example", "/\\evil.example", "https:evil.example"):
        response = client.post("/cuenta/ingresar", query_string={"next": target},
                               data={"email": "redir@example.cl", "password": PASSWORD})
        assert response.headers["Location"] == "/inicio"
        client.post("/cuenta/salir")


@pytest.mark.parametrize("target", ["/", "/convocatorias/2026?page=2", "/cuenta/perfil#datos", "/a%20b"])
def test_paths_of_the_site_are_kept(client: Any, target: str) -> None:
    response = client.post("/idioma", data={"lang": "en", "next": target})
    assert response.headers["Location"] == target


# --- headers and production ---------------------------------------------------------------------------


def test_pages_of_a_logged_in_user_are_not_cached(client: Any, login_as: Any) -> None:
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    user_client = login_as()
    for path in ("/", "/cuenta/perfil", "/cuenta/cambiar-clave"):
        assert user_client.get(path).headers.get("Cache-Control") == "no-store", path


@pytest.fixture
def production_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, app: Any, restore_limiter: None) -> Any:
    from idea import create_app

    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("VOTE_HASH_KEY", "v" * 40)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://fondoidea.example")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    # The limiter extension is shared by every app of the test session: keep the storage the others use.
    limits_storage = os.environ.get("REDIS_URL") or "memory://"
    monkeypatch.delenv("REDIS_URL", raising=False)
    prod = create_app("production", INSTANCE_PATH=str(tmp_path), UPLOAD_DIR=str(tmp_path / "uploads"),
                      RATELIMIT_STORAGE_URI=limits_storage,
                      RATELIMIT_STORAGE_OPTIONS=app.config["RATELIMIT_STORAGE_OPTIONS"])
    yield prod
    with prod.app_context():
        db.engine.dispose()


def test_production_tells_browsers_to_use_https_only(production_app: Any, app: Any) -> None:
    response = production_app.test_client().get("/salud", base_url="https://fondoidea.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in app.test_client().get("/salud").headers


def test_seed_demo_refuses_to_run_in_production(production_app: Any) -> None:
    result = production_app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "producción" in result.output
    with production_app.app_context():
        assert not sa.inspect(db.engine).has_table("user")
