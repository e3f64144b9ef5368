"""Account security as an attacker probes it: guessing passwords, timing, weak passwords, redirects."""

from __future__ import annotations

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
