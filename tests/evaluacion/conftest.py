"""Fixtures of the evaluation pages: a call in `evaluacion` with admissible submissions and reviewers."""

# ruff: noqa: F811  (the call fixtures are imported to be used as fixtures here)

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from convocatorias.models import Convocatoria, EstadoPostulacion, Fase, Postulacion
from evaluacion import operations as ops
from evaluacion.models import Asignacion, Capacitacion, EstadoAsignacion, Rubrica
from idea.chile import utcnow
from idea.extensions import db
from idea.models import Role, User
from tests.convocatorias.conftest import (  # noqa: F401  (fixtures)
    make_convocatoria,
    make_desafio,
    make_grupo,
    make_organizacion,
    make_postulacion,
)


@dataclass
class Escenario:
    convocatoria: Convocatoria
    rubrica: Rubrica
    postulaciones: list[Postulacion]
    reviewers: list[User]


def train(reviewer: User, rubrica: Rubrica) -> None:
    db.session.add(
        Capacitacion(
            user_id=reviewer.id,
            convocatoria_id=rubrica.convocatoria_id,
            scores={str(c.id): 4 for c in rubrica.criterios},
        )
    )
    db.session.commit()


def assign(reviewer: User, postulacion: Postulacion) -> Asignacion:
    a = Asignacion(
        convocatoria_id=postulacion.convocatoria_id,
        user_id=reviewer.id,
        postulacion_id=postulacion.id,
        status=EstadoAsignacion.PENDIENTE,
        overall_comment="",
    )
    db.session.add(a)
    db.session.commit()
    return a


def score_data(rubrica: Rubrica, value: int, *, send: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {f"score_{c.id}": str(value) for c in rubrica.criterios}
    data |= {f"comment_{c.id}": "Comentario" for c in rubrica.criterios}
    data["overall"] = "Buena idea"
    data["send" if send else "save"] = "1"
    return data


@pytest.fixture
def escenario(
    make_convocatoria: Callable[..., Convocatoria],
    make_desafio: Callable[..., Any],
    make_organizacion: Callable[..., Any],
    make_postulacion: Callable[..., Postulacion],
    make_user: Callable[..., User],
) -> Callable[..., Escenario]:
    def factory(n: int = 4, reviewers: int = 3, regions: tuple[str, ...] = ("08", "13")) -> Escenario:
        now = utcnow()
        convocatoria = make_convocatoria(
            fase=Fase.EVALUACION,
            submissions_close_at=now - timedelta(days=20),
            submissions_open_at=now - timedelta(days=60),
            evaluation_end_at=now + timedelta(days=10),
        )
        desafio = make_desafio(convocatoria)
        postulaciones = [
            make_postulacion(
                desafio,
                make_organizacion(region=regions[i % len(regions)]),
                status=EstadoPostulacion.ADMISIBLE,
            )
            for i in range(n)
        ]
        rubrica = ops.ensure_rubrica(convocatoria)
        rubrica.calibration_title = "Ejemplo"
        rubrica.calibration_text = "Una idea de ejemplo."
        for c in rubrica.criterios:
            c.reference_score = 5
        db.session.commit()
        people = [
            make_user(Role.EVALUADOR, name=f"Evaluadora {i}", convocatoria_id=convocatoria.id)
            for i in range(reviewers)
        ]
        return Escenario(convocatoria, rubrica, postulaciones, people)

    return factory
