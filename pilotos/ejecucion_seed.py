"""Demo data of the execution phase: the call "Fondo IDEA 2024 · Pilotos en ejecución" in `ejecucion`, whose
demo day awarded six teams with accepted full forms. Their pilots are started by the real operation and then
moved to the demo's situations: two on track (the demo applicant's, with report 2 sent back with a comment,
and a Biobío one with report 2 waiting for review), one late (Biobío, report 1 past due and not sent), one
over budget, one with an indicator moving away from its target, and one closed (final report approved).
Idempotent."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from convocatorias import seed as call_seed
from convocatorias.models import Convocatoria, EstadoPostulacion, Fase
from convocatorias.postulaciones import take_folio_number
from idea import chile
from idea.extensions import db
from idea.models import User
from pilotos import ejecucion as eops
from pilotos.demoday_models import AdjudicacionDemoDay, DemoDay, EstadoDemoDay, ResultadoDemoDay
from pilotos.ejecucion_models import (
    AccionReporte,
    ConfiguracionEjecucion,
    EstadoPiloto,
    EstadoReporte,
    HitoPiloto,
    Piloto,
    ReportePiloto,
    RevisionReporte,
    TipoReporte,
)
from pilotos.formulario_models import EstadoFormulario, FormularioCompleto
from pilotos.models import Equipo, MiembroEquipo

EJECUCION_CALL_SLUG = "fondo-idea-2024-ejecucion"
EJECUCION_CALL_TITLE = "Fondo IDEA 2024 · Pilotos en ejecución"
AMOUNT = 24_000_000
# (organisation name, region of the project, situation)
PILOTS = (
    ("Junta de Vecinos Villa Esperanza", "06", "observado"),
    ("Fundación Manos del Biobío", "08", "por_revisar"),
    ("Fundación Volver a Aprender", "08", "atrasado"),
    ("Corporación Ayün", "09", "sobre_presupuesto"),
    ("ONG Caminos del Maule", "07", "indicador"),
    ("Corporación Cuidar Juntos", "05", "cerrado"),
)
INDICADORES = [
    {"name": "Familias que usan programas sociales", "unit": "%", "baseline": "25", "target": "50"},
    {"name": "Personas en la red de apoyo", "unit": "personas", "baseline": "0", "target": "30"},
    {"name": "Talleres realizados", "unit": "talleres", "baseline": None, "target": None},
]


def _plan(start: date, end: date) -> dict[str, Any]:
    return {
        "presupuesto": [
            {"item": "Coordinadora del piloto", "category": "personal", "amount": AMOUNT * 3 // 5},
            {"item": "Materiales de talleres", "category": "materiales", "amount": AMOUNT // 5},
            {"item": "Traslados a sectores rurales", "category": "traslados", "amount": AMOUNT // 5},
        ],
        "indicadores": [dict(i) for i in INDICADORES],
        "actividades": [
            {
                "description": "Convocatoria de familias",
                "starts_on": start.isoformat(),
                "ends_on": (start + timedelta(days=30)).isoformat(),
            },
            {
                "description": "Talleres y visitas domiciliarias",
                "starts_on": (start + timedelta(days=31)).isoformat(),
                "ends_on": (end - timedelta(days=10)).isoformat(),
            },
        ],
    }


def _data(
    share: float, reached: int, actuals: tuple[str, str, str], *, final: bool = False
) -> dict[str, Any]:
    """A report executing `share` of each budget line, reaching `reached` new people."""
    women = reached * 3 // 5
    document: dict[str, Any] = {
        "indicadores": [{"name": i["name"], "actual": a} for i, a in zip(INDICADORES, actuals, strict=True)],
        "beneficiarios": {
            "total": reached,
            "mujeres": women,
            "hombres": reached - women - (1 if reached else 0),
            "otro": 1 if reached else 0,
            "por_region": {},
        },
        "gastos": [
            {"item": "Coordinadora del piloto", "executed": int(AMOUNT * 3 // 5 * share)},
            {"item": "Materiales de talleres", "executed": int(AMOUNT // 5 * share)},
            {"item": "Traslados a sectores rurales", "executed": int(AMOUNT // 5 * share)},
        ],
        "actividades": [
            {
                "description": "Convocatoria de familias",
                "done": True,
                "note": "Se inscribieron más familias.",
            },
            {"description": "Talleres y visitas domiciliarias", "done": final, "note": ""},
        ],
        "aprendizajes": {
            "worked": "Las visitas en la tarde, cuando las cuidadoras tienen tiempo.",
            "failed": "Los talleres del sábado en la mañana tuvieron poca asistencia.",
            "surprised": "Las vecinas armaron por su cuenta un grupo de apoyo.",
        },
    }
    if final:
        document["cierre"] = {
            "summary": "La mitad de las familias usa hoy al menos un programa social.",
            "continuity": "La municipalidad mantiene los talleres con su presupuesto.",
        }
    return document


def _send(reporte: ReportePiloto, data: dict[str, Any], owner_id: int, at: datetime) -> None:
    reporte.data = data
    reporte.status = EstadoReporte.ENVIADO
    reporte.submitted_at = at
    reporte.historial.append(
        RevisionReporte(action=AccionReporte.ENVIADO, snapshot=data, actor_id=owner_id, created_at=at)
    )


def _review(reporte: ReportePiloto, lead_id: int | None, at: datetime, comment: str = "") -> None:
    approved = not comment
    reporte.status = EstadoReporte.APROBADO if approved else EstadoReporte.CON_OBSERVACIONES
    reporte.reviewed_at = at
    reporte.historial.append(
        RevisionReporte(
            action=AccionReporte.APROBADO if approved else AccionReporte.OBSERVADO,
            comment=comment,
            actor_id=lead_id,
            created_at=at,
        )
    )


def _teams(convocatoria: Convocatoria) -> list[Equipo]:
    rng = random.Random(2024)
    organizaciones = {o.name: o for o in call_seed._organizaciones()}
    close = convocatoria.submissions_close_at or chile.utcnow()
    opened = convocatoria.submissions_open_at or close
    equipos = []
    for name, region, _situation in PILOTS:
        organizacion = organizaciones[name]
        p = call_seed._postulacion(
            rng, close, opened, convocatoria, organizacion, region, EstadoPostulacion.ADMISIBLE
        )
        p.folio_number = take_folio_number(convocatoria)
        p.folio = f"{convocatoria.folio_prefix}{p.folio_number:04d}"
        db.session.add(p)
        db.session.flush()
        equipo = Equipo(convocatoria_id=convocatoria.id, postulacion_id=p.id, region=region, name=name)
        equipo.miembros.append(MiembroEquipo(user_id=p.created_by_id))
        db.session.add(equipo)
        equipos.append(equipo)
    db.session.flush()
    return equipos


def seed_demo_ejecucion() -> Convocatoria | None:
    """Idempotent: nothing happens when the demo execution call exists. Returns the new call, or None."""
    if db.session.scalar(sa.select(Convocatoria.id).where(Convocatoria.slug == EJECUCION_CALL_SLUG)):
        return None
    now = chile.utcnow()
    today = chile.to_santiago(now).date()
    start, end = today - timedelta(days=100), today + timedelta(days=82)
    convocatoria = Convocatoria(
        slug=EJECUCION_CALL_SLUG,
        title=EJECUCION_CALL_TITLE,
        year=2024,
        summary="Convocatoria en ejecución: los equipos adjudicados ejecutan su piloto e informan avances.",
        description="Convocatoria de demostración de la fase de ejecución.",
        rules="Bases de la convocatoria.",
        total_budget=150_000_000,
        min_amount=20_000_000,
        max_amount=30_000_000,
        max_submissions_per_org=5,
        vote_weight=10,
        fase=Fase.FORMACION,
        submissions_open_at=chile.at_santiago(today - timedelta(days=330)),
        submissions_close_at=chile.end_of_day_santiago(today - timedelta(days=290)),
        committee_at=chile.at_santiago(today - timedelta(days=250)),
        training_start_at=chile.at_santiago(today - timedelta(days=230)),
        execution_start_at=chile.at_santiago(start),
        closing_at=chile.at_santiago(end),
        published_at=chile.at_santiago(today - timedelta(days=330)),
    )
    convocatoria.desafios = call_seed._desafios(
        call_seed.DESAFIOS_2026[:3], {g.slug: g for g in call_seed.seed_grupos()}
    )
    db.session.add(convocatoria)
    db.session.flush()
    db.session.add(
        ConfiguracionEjecucion(
            convocatoria_id=convocatoria.id,
            report_every_months=2,
            duration_months=6,
            grace_days=10,
            ask_sex_breakdown=True,
            ask_region_breakdown=False,
        )
    )
    equipos = _teams(convocatoria)
    demoday = DemoDay(
        convocatoria_id=convocatoria.id,
        name="Demo day nacional 2024",
        regions=sorted({e.region for e in equipos if e.region}),
        place="Centro Cultural Gabriela Mistral, Santiago",
        starts_at=chile.at_santiago(today - timedelta(days=110), 10),
        status=EstadoDemoDay.CERRADO,
        closed_at=chile.at_santiago(today - timedelta(days=110), 18),
    )
    db.session.add(demoday)
    db.session.flush()
    plan = _plan(start, end)
    for equipo in equipos:
        db.session.add(
            AdjudicacionDemoDay(
                demoday_id=demoday.id,
                equipo_id=equipo.id,
                outcome=ResultadoDemoDay.ADJUDICADO,
                reason="Pitch sólido y presupuesto coherente.",
                amount=AMOUNT,
                decided_at=chile.at_santiago(today - timedelta(days=110), 18),
            )
        )
        db.session.add(
            FormularioCompleto(
                equipo_id=equipo.id,
                status=EstadoFormulario.ACEPTADO,
                problem="Las familias cuidadoras no tienen apoyo ni redes.",
                activities="Talleres mensuales y visitas domiciliarias.",
                outputs="12 talleres y 200 visitas.",
                outcomes="Más familias usan los programas sociales.",
                impact="Menos pobreza multidimensional en el territorio.",
                presupuesto=plan["presupuesto"],
                indicadores=plan["indicadores"],
                actividades=plan["actividades"],
                riesgos=[{"risk": "Baja asistencia en invierno", "mitigation": "Sesiones en línea"}],
                submitted_at=now - timedelta(days=130),
                reviewed_at=now - timedelta(days=125),
            )
        )
    db.session.flush()
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@demo.fondoidea.cl"))
    lead = db.session.scalar(sa.select(User).where(User.email == "encargado@demo.fondoidea.cl"))
    lead_id = lead.id if lead else None
    # The phase change starts the pilots (pilotos.ejecucion.start_pilots), as in the real flow.
    convocatoria.fase = Fase.EJECUCION
    eops.start_pilots(admin, convocatoria, today=today)
    db.session.flush()
    pilots = {
        p.equipo_id: p
        for p in db.session.scalars(sa.select(Piloto).where(Piloto.convocatoria_id == convocatoria.id))
    }
    for equipo, (_name, _region, situation) in zip(equipos, PILOTS, strict=True):
        piloto = pilots[equipo.id]
        piloto.beneficiaries_planned = 120
        owner_id = equipo.miembros[0].user_id
        first, second = piloto.reportes[0], piloto.reportes[1]
        sent_at = chile.at_santiago(first.period_end + timedelta(days=3), 16)
        if situation == "atrasado":
            continue  # report 1 is past due and not sent
        if situation == "cerrado":
            _close(piloto, owner_id, lead_id, today)
            continue
        share, actuals = 0.33, ("32", "12", "4")
        if situation == "sobre_presupuesto":
            share = 0.8  # 80 % of the budget in the first third, more to come: above 110 % overall
        if situation == "indicador":
            actuals = ("18", "5", "3")  # fewer families than the baseline
        _send(first, _data(share, 45, actuals), owner_id, sent_at)
        _review(first, lead_id, sent_at + timedelta(days=2))
        if situation == "sobre_presupuesto":
            _send(second, _data(0.6, 30, ("38", "18", "7")), owner_id, now - timedelta(days=5))
            _review(second, lead_id, now - timedelta(days=3))
        elif situation == "observado":
            _send(second, _data(0.3, 35, ("40", "20", "8")), owner_id, now - timedelta(days=4))
            _review(
                second,
                lead_id,
                now - timedelta(days=2),
                comment="Los gastos de traslado no calzan con las boletas: revísenlos y envíen de nuevo.",
            )
        elif situation == "por_revisar":
            _send(second, _data(0.3, 30, ("41", "19", "8")), owner_id, now - timedelta(days=1))
        piloto.hitos[0].done_on = piloto.hitos[0].due_on
    db.session.flush()
    return convocatoria


def _close(piloto: Piloto, owner_id: int, lead_id: int | None, today: date) -> None:
    """A pilot that ran from 200 days ago until 20 days ago, every report approved."""
    start, end = today - timedelta(days=200), today - timedelta(days=20)
    piloto.starts_on, piloto.ends_on = start, end
    piloto.plan = _plan(start, end)
    piloto.reportes.clear()
    piloto.hitos.clear()
    db.session.flush()
    periods = eops.report_calendar(start, end, 2, 10)
    shares = (0.3, 0.35, 0.33)
    for periodo, share in zip(periods, shares, strict=False):
        final = periodo.kind == TipoReporte.FINAL
        reporte = ReportePiloto(
            number=periodo.number,
            kind=periodo.kind,
            period_start=periodo.start,
            period_end=periodo.end,
            due_on=periodo.due_on,
            data={},
        )
        piloto.reportes.append(reporte)
        sent = chile.at_santiago(min(periodo.end + timedelta(days=2), today), 15)
        _send(
            reporte,
            _data(share, 40, ("35", "20", "6") if not final else ("48", "29", "12"), final=final),
            owner_id,
            sent,
        )
        _review(reporte, lead_id, sent + timedelta(days=1))
    for actividad in piloto.plan["actividades"]:
        due = date.fromisoformat(actividad["ends_on"])
        piloto.hitos.append(HitoPiloto(title=actividad["description"], due_on=due, done_on=due))
    piloto.status = EstadoPiloto.CERRADO
    piloto.closed_at = chile.at_santiago(today - timedelta(days=5), 12)
