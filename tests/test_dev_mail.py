"""The README's "Try it" set-up (development, SQLite in the instance folder, no mail server, no Redis):
`flask seed-demo` works, and the mail a person is sent is printed where the developer can read it."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from idea import create_app
from idea.extensions import db
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
README_ENV = ("IDEA_ENV", "MAIL_SERVER", "REDIS_URL", "DATABASE_URL", "SECRET_KEY", "PUBLIC_BASE_URL",
              "TRUSTED_HOSTS", "TRUSTED_PROXIES", "UPLOAD_DIR", "RQ_QUEUE")


@pytest.mark.usefixtures("restore_limiter")
def test_in_development_the_confirmation_mail_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in README_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    # The README's first command, as its own process (the migrations it runs set up logging their way).
    seed = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "seed-demo"], cwd=ROOT,
        env={**os.environ, "FLASK_APP": "wsgi"}, capture_output=True, text=True, timeout=120,
    )
    assert seed.returncode == 0, seed.stdout + seed.stderr
    assert "Datos de demostración cargados" in seed.stdout
    assert (tmp_path / "idea.db").exists()
    app = create_app()  # what `flask run` builds
    try:
        assert app.config["ENV_NAME"] == "development" and not app.config["TESTING"]

        client = app.test_client()
        form = client.get("/cuenta/registro")
        assert form.status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, "the registration form carries a CSRF token"
        caplog.set_level(logging.WARNING)
        response = client.post("/cuenta/registro", data={
            "csrf_token": token.group(1), "name": "Daniela Desarrollo", "email": "daniela@example.cl",
            "password": PASSWORD, "password2": PASSWORD,
        })
        assert response.status_code == 302
        printed = "\n".join(r.getMessage() for r in caplog.records)
        assert "daniela@example.cl" in printed
        link = re.search(r"http://127\.0\.0\.1:5000(/cuenta/confirmar/\S+)", printed)
        assert link, printed
        # And the printed link works.
        assert client.get(link.group(1)).status_code in (200, 302)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
