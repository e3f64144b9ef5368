"""Factories for calls, challenges, organisations and submissions (rows written directly, committed)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from convocatorias.models import (
    Convocatoria,
    Desafio,
    DesafioRegion,
    EstadoPostulacion,
    Fase,
    GrupoVulnerable,
    IndicadorLineaBase,
    Madurez,
    Organizacion,
    Postulacion,
    TipoOrganizacion,
)
from idea.chile import compute_check_digit, utcnow
from idea.extensions import db
from idea.models import Role, User

_seq = itertools.count(1)


@pytest.fixture
def make_convocatoria() -> Callable[..., Convocatoria]:
    """An open, published call (phase postulacion, deadline in 30 days) unless fields say otherwise."""

    def factory(**fields: Any) -> Convocatoria:
        n = next(_seq)
        now = utcnow()
        values: dict[str, Any] = {
            "slug": f"convocatoria-{n}",
            "title": f"Convocatoria Fondo IDEA {n}",
            "year": 2026,
            "summary": "Ideas para superar la pobreza",
            "description": "Descripción de la convocatoria.",
            "rules": "Bases de la convocatoria.",
            "total_budget": 650_000_000,
            "min_amount": 20_000_000,
            "max_amount": 30_000_000,
            "max_submissions_per_org": 2,
            "vote_weight": 10,
            "fase": Fase.POSTULACION,
            "submissions_open_at": now - timedelta(days=10),
            "submissions_close_at": now + timedelta(days=30),
            "published_at": now - timedelta(days=10),
        }
        values.update(fields)
        convocatoria = Convocatoria(**values)
        db.session.add(convocatoria)
        db.session.commit()
        return convocatoria

    return factory


@pytest.fixture
def make_grupo() -> Callable[..., GrupoVulnerable]:
    def factory(**fields: Any) -> GrupoVulnerable:
        n = next(_seq)
        grupo = GrupoVulnerable(**{"slug": f"grupo-{n}", "name": f"Grupo vulnerable {n}", **fields})
        db.session.add(grupo)
        db.session.commit()
        return grupo

    return factory


@pytest.fixture
def make_desafio(make_convocatoria: Callable[..., Convocatoria]) -> Callable[..., Desafio]:
    """A challenge; `regions=["08", "09"]` makes it regional, `indicators=2` adds baseline rows."""

    def factory(
        convocatoria: Convocatoria | None = None,
        *,
        regions: list[str] | None = None,
        indicators: int = 1,
        **fields: Any,
    ) -> Desafio:
        n = next(_seq)
        convocatoria = convocatoria or make_convocatoria()
        desafio = Desafio(
            convocatoria_id=convocatoria.id,
            **{
                "title": f"Desafío {n}",
                "problem": "Un problema explicado en palabras simples.",
                "position": n,
                "is_national": not regions,
                **fields,
            },
        )
        for code in regions or []:
            desafio.regiones.append(DesafioRegion(region=code))
        for i in range(indicators):
            desafio.indicadores.append(
                IndicadorLineaBase(
                    position=i, name=f"Indicador {i + 1}", unit="%", value=12.5, source="Casen 2022"
                )
            )
        db.session.add(desafio)
        db.session.commit()
        return desafio

    return factory


def valid_rut(body: int) -> str:
    return f"{body}-{compute_check_digit(body)}"


@pytest.fixture
def make_organizacion(make_user: Callable[..., User]) -> Callable[..., Organizacion]:
    def factory(owner: User | None = None, **fields: Any) -> Organizacion:
        n = next(_seq)
        owner = owner or make_user(Role.POSTULANTE)
        organizacion = Organizacion(
            owner_id=owner.id,
            **{
                "name": f"Fundación Prueba {n}",
                "rut": valid_rut(70_000_000 + n),
                "tipo": TipoOrganizacion.SIN_FINES_DE_LUCRO,
                "region": "13",
                "comuna": "Santiago",
                **fields,
            },
        )
        db.session.add(organizacion)
        db.session.commit()
        return organizacion

    return factory


@pytest.fixture
def make_postulacion(
    make_desafio: Callable[..., Desafio], make_organizacion: Callable[..., Organizacion]
) -> Callable[..., Postulacion]:
    """A complete simple profile; `status=EstadoPostulacion.ENVIADA` gives it a folio."""

    def factory(
        desafio: Desafio | None = None,
        organizacion: Organizacion | None = None,
        *,
        status: EstadoPostulacion = EstadoPostulacion.BORRADOR,
        **fields: Any,
    ) -> Postulacion:
        n = next(_seq)
        desafio = desafio or make_desafio()
        organizacion = organizacion or make_organizacion()
        convocatoria = db.session.get(Convocatoria, desafio.convocatoria_id)
        values: dict[str, Any] = {
            "title": f"Idea {n}",
            "problem": "El problema.",
            "solution": "La solución.",
            "beneficiaries": "Familias del barrio",
            "beneficiaries_count": 120,
            "region": organizacion.region,
            "comuna": organizacion.comuna,
            "maturity": Madurez.IDEA_CLARA,
            "coproduction": "Talleres con vecinas y vecinos.",
            "requested_amount": 25_000_000,
            "team": "Dos profesionales y una dirigenta.",
        }
        values.update(fields)
        postulacion = Postulacion(
            convocatoria_id=desafio.convocatoria_id,
            desafio_id=desafio.id,
            organizacion_id=organizacion.id,
            created_by_id=organizacion.owner_id,
            status=status,
            **values,
        )
        if status != EstadoPostulacion.BORRADOR:
            postulacion.folio_number = n
            postulacion.folio = f"{convocatoria.folio_prefix}{n:04d}"
            postulacion.submitted_at = utcnow()
            postulacion.version = 1
        db.session.add(postulacion)
        db.session.commit()
        return postulacion

    return factory
