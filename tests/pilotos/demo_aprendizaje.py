"""Parameters of the closure pages (systematization sheets, learning repository) from the demo data, for
tests/test_browser_pages.py."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from convocatorias.models import Convocatoria
from idea.extensions import db
from pilotos import aprendizaje as aops
from pilotos.aprendizaje_models import (
    EstadoSistematizacion,
    Sistematizacion,
    SuscripcionAprendizaje,
    TipoSuscripcion,
)
from pilotos.aprendizaje_seed import CIERRE_CALL_SLUG
from pilotos.ejecucion_models import Piloto


def _sheets() -> list[Sistematizacion]:
    """The demo closure call's sheet waiting for the lead (the demo applicant's team), then a published one of
    the Biobío (which the Biobío lead reviews) and another published one."""
    call_id = db.session.scalars(
        sa.select(Convocatoria.id).where(Convocatoria.slug == CIERRE_CALL_SLUG)
    ).one()
    sheets = list(
        db.session.scalars(
            sa.select(Sistematizacion)
            .join(Piloto, Piloto.id == Sistematizacion.piloto_id)
            .where(Piloto.convocatoria_id == call_id)
            .order_by(Sistematizacion.id)
        )
    )
    waiting = [s for s in sheets if s.status == EstadoSistematizacion.ENVIADA][:1]
    published = [s for s in sheets if s.status == EstadoSistematizacion.PUBLICADA]
    biobio = [s for s in published if s.region == "08"][:1]
    other = [s for s in published if s.region != "08"][:1]
    return waiting + biobio + other


def pilots(_demo: Any) -> list[dict[str, Any]]:
    return [{"piloto_id": s.piloto_id} for s in _sheets()]


def sheets(_demo: Any) -> list[dict[str, Any]]:
    return [{"sistematizacion_id": s.id} for s in _sheets()]


def published(_demo: Any) -> list[dict[str, Any]]:
    return [{"sistematizacion_id": s.id} for s in _sheets() if s.status == EstadoSistematizacion.PUBLICADA]


def repository(_demo: Any) -> list[dict[str, Any]]:
    """The list, plain, searched and filtered (one filter matches nothing)."""
    return [{}, {"q": "educación", "grupo": "ninez"}, {"region": "08", "resultado": "no_continuar"}]


def _subscription() -> SuscripcionAprendizaje:
    subscription = db.session.scalars(sa.select(SuscripcionAprendizaje)).first()
    if subscription is None:
        subscription = SuscripcionAprendizaje(
            email="lectora@example.cl", kind=TipoSuscripcion.GRUPO, value="ninez"
        )
        db.session.add(subscription)
        db.session.commit()
    return subscription


def confirm_tokens(_demo: Any) -> list[dict[str, Any]]:
    from flask import current_app

    with current_app.test_request_context():
        token = aops._confirm_serializer().dumps({"s": _subscription().id})
    return [{"token": token}, {"token": "enlace-que-no-existe"}]


def unsubscribe_tokens(_demo: Any) -> list[dict[str, Any]]:
    url = aops.unsubscribe_url(_subscription())
    return [{"token": url.rsplit("/", 1)[1]}, {"token": "enlace-que-no-existe"}]
