"""Parameters of the mentoring pages from the demo data, for tests/test_browser_pages.py."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from idea.extensions import db
from pilotos.mentoria_models import Mentor, Mentoria
from tests.pilotos import demo as formacion_demo


def mentors(_demo: Any) -> list[dict[str, Any]]:
    """The demo mentor (with conflicts page links) and the first other one."""
    ids = list(db.session.scalars(sa.select(Mentor.id).order_by(Mentor.id).limit(2)))
    return [{"mentor_id": i} for i in ids]


def mentorias(_demo: Any) -> list[dict[str, Any]]:
    """The demo mentor's two mentorings (the applicant's team, with a week missed, and a Biobío team)."""
    ids = list(db.session.scalars(sa.select(Mentoria.id).order_by(Mentoria.id).limit(2)))
    return [{"mentoria_id": i} for i in ids]


def match(demo: Any) -> list[dict[str, Any]]:
    return [
        {"convocatoria_id": row["convocatoria_id"], "equipo_id": team["equipo_id"]}
        for row in formacion_demo.call(demo)
        for team in formacion_demo.teams(demo)
    ]
