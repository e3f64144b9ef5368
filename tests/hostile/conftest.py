"""Fixtures of the hostile-input tests: the call factories and a small world of real rows."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.convocatorias.conftest import (  # noqa: F401 - fixtures used here and by the tests
    make_convocatoria,
    make_desafio,
    make_organizacion,
    make_postulacion,
)
from tests.hostile.support import World, build_world


@pytest.fixture
def world(request: pytest.FixtureRequest, app: Flask) -> World:
    """A published call with a challenge, an applicant's organisation with a sent submission (with an
    attachment) and a draft, an audit event, and a logged-in client per role."""
    fixture = request.getfixturevalue
    return build_world(fixture("make_user"), fixture("login_as"), fixture("make_desafio"),
                       fixture("make_organizacion"), fixture("make_postulacion"), app)
