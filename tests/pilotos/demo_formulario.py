"""Parameters of the full-form pages from the demo data, for tests/test_browser_pages.py."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from idea.extensions import db
from pilotos.formulario_models import FormularioCompleto
from pilotos.models import Equipo
from tests.pilotos.demo import _call_id


def formularios(_demo: Any) -> list[dict[str, Any]]:
    """The demo call's full forms: one sent back for changes, one accepted."""
    ids = db.session.scalars(
        sa.select(FormularioCompleto.id)
        .join(Equipo, Equipo.id == FormularioCompleto.equipo_id)
        .where(Equipo.convocatoria_id == _call_id())
        .order_by(FormularioCompleto.id)
    )
    return [{"formulario_id": i} for i in ids]


def demodays(_demo: Any) -> list[dict[str, Any]]:
    from pilotos.demoday_models import DemoDay

    ids = db.session.scalars(
        sa.select(DemoDay.id).where(DemoDay.convocatoria_id == _call_id()).order_by(DemoDay.id)
    )
    return [{"demoday_id": i} for i in ids]


def demoday_teams(_demo: Any) -> list[dict[str, Any]]:
    """Each team that pitches at the demo day (one with a declared conflict)."""
    from pilotos.demoday import teams_of
    from pilotos.demoday_models import DemoDay

    out = []
    for row in demodays(_demo):
        demoday = db.session.get(DemoDay, row["demoday_id"])
        out += [{"demoday_id": demoday.id, "equipo_id": e.id} for e in teams_of(demoday)]
    return out
