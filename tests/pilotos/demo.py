"""Parameters of the training pages from the demo data, for tests/test_browser_pages.py."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from idea.chile import utcnow
from idea.extensions import db
from idea.models import User
from pilotos.models import Equipo, InvitacionEquipo, MiembroEquipo, Modulo, Taller
from pilotos.seed import FORMACION_CALL_SLUG

DEMO_TOKEN = "demo-invitation-token-for-the-page-test"


def _call_id() -> int:
    from convocatorias.models import Convocatoria

    return db.session.scalars(
        sa.select(Convocatoria.id).where(Convocatoria.slug == FORMACION_CALL_SLUG)
    ).one()


def _teams() -> list[Equipo]:
    """The demo applicant's team, then a team of the Biobío (which the Biobío lead sees)."""
    own = db.session.scalars(
        sa.select(Equipo)
        .join(MiembroEquipo, MiembroEquipo.equipo_id == Equipo.id)
        .join(User, User.id == MiembroEquipo.user_id)
        .where(User.email == "postulante@demo.fondoidea.cl", Equipo.convocatoria_id == _call_id())
    ).first()
    biobio = db.session.scalars(
        sa.select(Equipo)
        .where(Equipo.region == "08", Equipo.convocatoria_id == _call_id())
        .order_by(Equipo.id)
    ).first()
    return [e for e in (own, biobio) if e is not None]


def _talleres() -> list[Taller]:
    return list(
        db.session.scalars(sa.select(Taller).where(Taller.convocatoria_id == _call_id()).order_by(Taller.id))
    )


def _modulo() -> Modulo:
    return db.session.scalars(
        sa.select(Modulo).where(Modulo.convocatoria_id == _call_id()).order_by(Modulo.id)
    ).first()


def teams(_demo: Any) -> list[dict[str, Any]]:
    return [{"equipo_id": e.id} for e in _teams()]


def call(_demo: Any) -> list[dict[str, Any]]:
    return [{"convocatoria_id": _call_id()}]


def talleres(_demo: Any) -> list[dict[str, Any]]:
    return [{"convocatoria_id": _call_id(), "taller_id": t.id} for t in _talleres()]


def team_modulo(_demo: Any) -> list[dict[str, Any]]:
    return [{"equipo_id": e.id, "modulo_id": _modulo().id} for e in _teams()]


def modulo(_demo: Any) -> list[dict[str, Any]]:
    return [{"convocatoria_id": _call_id(), "modulo_id": _modulo().id}]


def invitation(_demo: Any) -> list[dict[str, Any]]:
    """A pending invitation to the demo applicant's team (made here: the demo data sends none)."""
    token_hash = hashlib.sha256(DEMO_TOKEN.encode()).hexdigest()
    if (
        db.session.scalar(sa.select(InvitacionEquipo.id).where(InvitacionEquipo.token_hash == token_hash))
        is None
    ):
        db.session.add(
            InvitacionEquipo(
                equipo_id=_teams()[0].id,
                email="nueva.socia@example.cl",
                token_hash=token_hash,
                expires_at=utcnow() + timedelta(days=7),
            )
        )
        db.session.commit()
    return [{"token": DEMO_TOKEN}]
