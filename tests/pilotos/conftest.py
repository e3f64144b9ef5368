"""Fixtures of the training pages: a call in `formacion` with a closed committee session and teams."""

# ruff: noqa: F811  (the call fixtures are imported to be used as fixtures here)

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from convocatorias.models import Convocatoria, EstadoPostulacion, Fase, Postulacion
from evaluacion.comite_models import Decision, EstadoSesion, Resultado, SesionComite
from idea.chile import utcnow
from idea.extensions import db
from pilotos import operations as ops
from pilotos.models import Equipo, Taller
from tests.convocatorias.conftest import (  # noqa: F401  (fixtures)
    make_convocatoria,
    make_desafio,
    make_grupo,
    make_organizacion,
    make_postulacion,
)


@dataclass
class Formacion:
    convocatoria: Convocatoria
    postulaciones: list[Postulacion]
    equipos: list[Equipo]


def close_session(convocatoria: Convocatoria, outcomes: list[tuple[Postulacion, Resultado]]) -> SesionComite:
    now = utcnow()
    sesion = SesionComite(convocatoria_id=convocatoria.id, status=EstadoSesion.CERRADA, closed_at=now)
    db.session.add(sesion)
    db.session.flush()
    for p, outcome in outcomes:
        db.session.add(
            Decision(
                sesion_id=sesion.id, convocatoria_id=convocatoria.id, postulacion_id=p.id, outcome=outcome
            )
        )
    db.session.commit()
    return sesion


@pytest.fixture
def formacion(
    make_convocatoria: Callable[..., Convocatoria],
    make_desafio: Callable[..., Any],
    make_organizacion: Callable[..., Any],
    make_postulacion: Callable[..., Postulacion],
) -> Callable[..., Formacion]:
    def factory(regions: tuple[str, ...] = ("13", "08"), rejected: int = 1, teams: bool = True) -> Formacion:
        convocatoria = make_convocatoria(fase=Fase.FORMACION)
        desafio = make_desafio(convocatoria)
        postulaciones = [
            make_postulacion(desafio, make_organizacion(region=region), status=EstadoPostulacion.ADMISIBLE)
            for region in regions + ("13",) * rejected
        ]
        outcomes = [(p, Resultado.SELECCIONADA) for p in postulaciones[: len(regions)]]
        outcomes += [(p, Resultado.NO_SELECCIONADA) for p in postulaciones[len(regions) :]]
        close_session(convocatoria, outcomes)
        if teams:
            ops.create_teams(None, convocatoria)
            db.session.commit()
        equipos = list(
            db.session.scalars(
                sa.select(Equipo).where(Equipo.convocatoria_id == convocatoria.id).order_by(Equipo.id)
            )
        )
        return Formacion(convocatoria, postulaciones, equipos)

    return factory


def make_taller(
    convocatoria: Convocatoria,
    *,
    region: str | None = None,
    capacity: int = 10,
    days: float = 3,
    **fields: Any,
) -> Taller:
    start = utcnow() + timedelta(days=days)
    taller = Taller(
        convocatoria_id=convocatoria.id,
        region=region,
        title=fields.pop("title", "Taller"),
        topic=fields.pop("topic", ""),
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place=fields.pop("place", "Sede"),
        online_url="",
        capacity=capacity,
        registered_count=0,
        **fields,
    )
    db.session.add(taller)
    db.session.commit()
    return taller


@pytest.fixture
def count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def counter(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", counter)
    yield statements
    sa.event.remove(db.engine, "before_cursor_execute", counter)
