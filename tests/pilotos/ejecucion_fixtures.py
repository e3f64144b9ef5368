"""Test data of the execution phase: a call in training whose demo day awarded some teams with accepted full
forms (and not others), ready to start its pilots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from convocatorias.models import Convocatoria
from idea import chile
from idea.extensions import db
from pilotos.demoday_models import AdjudicacionDemoDay, DemoDay, EstadoDemoDay, ResultadoDemoDay
from pilotos.ejecucion_models import ConfiguracionEjecucion
from pilotos.formulario_models import EstadoFormulario, FormularioCompleto
from pilotos.models import Equipo

PLAN_AMOUNT = 20_000_000
PRESUPUESTO = [
    {"item": "Coordinadora", "category": "personal", "amount": 12_000_000},
    {"item": "Materiales", "category": "materiales", "amount": 8_000_000},
]
INDICADORES = [
    {"name": "Familias con red de apoyo", "unit": "%", "baseline": "20", "target": "60"},
    {"name": "Talleres realizados", "unit": "talleres", "baseline": None, "target": None},
]
ACTIVIDADES = [
    {"description": "Convocatoria de familias", "starts_on": "2026-01-15", "ends_on": "2026-02-15"},
    {"description": "Talleres y visitas", "starts_on": "2026-02-16", "ends_on": "2026-07-10"},
]
START = date(2026, 1, 15)
END = date(2026, 7, 14)


def at(day: date) -> datetime:
    return chile.from_santiago(datetime.combine(day, time(9, 0)))


@dataclass
class Adjudicados:
    convocatoria: Convocatoria
    # awarded+accepted RM, awarded+accepted Biobío, not awarded, awarded with its form not accepted
    equipos: list[Equipo]


def award(f: Any, *, start: date = START, end: date = END, every: int = 2, sex: bool = True) -> Adjudicados:
    """Awards at a demo day for a `formacion(regions=("13", "08", "08", "13"))` call: the first two teams
    awarded with accepted forms, the third not awarded (accepted form), the fourth awarded with its form
    only sent. Execution period `start`..`end`, a report every `every` months, 10 days' grace."""
    convocatoria = f.convocatoria
    convocatoria.execution_start_at = at(start)
    convocatoria.closing_at = at(end)
    db.session.add(
        ConfiguracionEjecucion(
            convocatoria_id=convocatoria.id,
            report_every_months=every,
            duration_months=6,
            grace_days=10,
            ask_sex_breakdown=sex,
            ask_region_breakdown=False,
        )
    )
    demoday = DemoDay(
        convocatoria_id=convocatoria.id,
        name="Demo day",
        regions=["13", "08"],
        budget=0,
        status=EstadoDemoDay.CERRADO,
    )
    db.session.add(demoday)
    db.session.flush()
    outcomes = [
        (ResultadoDemoDay.ADJUDICADO, EstadoFormulario.ACEPTADO),
        (ResultadoDemoDay.ADJUDICADO, EstadoFormulario.ACEPTADO),
        (ResultadoDemoDay.NO_ADJUDICADO, EstadoFormulario.ACEPTADO),
        (ResultadoDemoDay.ADJUDICADO, EstadoFormulario.ENVIADO),
    ]
    for equipo, (outcome, status) in zip(f.equipos, outcomes, strict=False):
        db.session.add(
            AdjudicacionDemoDay(
                demoday_id=demoday.id,
                equipo_id=equipo.id,
                outcome=outcome,
                amount=PLAN_AMOUNT if outcome == ResultadoDemoDay.ADJUDICADO else None,
            )
        )
        db.session.add(
            FormularioCompleto(
                equipo_id=equipo.id,
                status=status,
                problem="Problema",
                presupuesto=PRESUPUESTO,
                indicadores=INDICADORES,
                actividades=ACTIVIDADES,
                riesgos=[],
            )
        )
    db.session.commit()
    return Adjudicados(convocatoria, list(f.equipos))


def report_form(**overrides: Any) -> dict[str, str]:
    """A complete report's fields (for a plan of PRESUPUESTO, INDICADORES and ACTIVIDADES)."""
    data = {
        "ind-0": "35",
        "ind-1": "4",
        "total": "40",
        "mujeres": "25",
        "hombres": "14",
        "otro": "1",
        "gasto-0": "3000000",
        "gasto-1": "1.000.000",
        "act-0-done": "1",
        "act-0-note": "Llegaron 40 familias.",
        "act-1-note": "",
        "worked": "Las visitas en la tarde.",
        "failed": "Los talleres del sábado.",
        "surprised": "Los vecinos se organizaron solos.",
        "send": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
