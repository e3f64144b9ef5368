"""Demo data of the closure: "Fondo IDEA 2023 · Cierre y aprendizaje", a call in `cierre` with seven closed
pilots (plan, approved progress reports and final report) over several regions, challenges and vulnerable
groups. Six have a published systematization sheet; the seventh, the demo applicant's team, has one sent and
waiting for the lead."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from convocatorias import seed as call_seed
from convocatorias.models import Convocatoria, EstadoPostulacion, Fase, Postulacion
from convocatorias.postulaciones import take_folio_number
from evaluacion.comite_models import Decision, EstadoSesion, Resultado, SesionComite
from idea import chile
from idea.cli import seed_demo_signal
from idea.extensions import db
from idea.models import User
from pilotos import aprendizaje as aops
from pilotos import operations as ops
from pilotos.aprendizaje_models import Sistematizacion
from pilotos.ejecucion_models import (
    EstadoPiloto,
    EstadoReporte,
    Piloto,
    ReportePiloto,
    TipoReporte,
)
from pilotos.models import Equipo

CIERRE_CALL_SLUG = "fondo-idea-2023-cierre"
RANDOM_SEED = 2023
ADMIN_EMAIL = "admin@demo.fondoidea.cl"

# (index of the challenge in DESAFIOS_2026, region, title, sheet) — the last is the demo applicant's pilot,
# whose sheet is sent and waits for the lead.
PILOTS: tuple[tuple[int, str, str, dict[str, Any]], ...] = (
    (
        0,
        "13",
        "Tutorías de barrio para volver a clases",
        {
            "problem": "En tres comunas del sur de Santiago, 412 niñas y niños de 10 a 15 años dejaron de "
            "ir a "
            "clases en 2022. Las escuelas no sabían dónde estaban.",
            "solution": "Tutoras y tutores del mismo barrio buscaron a cada niña y niño en su casa, "
            "acordaron "
            "con la familia un plan de regreso y los acompañaron tres meses después de volver.",
            "results": "De 180 niñas y niños contactados, 131 volvieron a clases y 117 seguían asistiendo al "
            "cierre del piloto.",
            "learnings": "El primer contacto funciona mejor en la casa que en la escuela. Las tutoras que "
            "viven "
            "en el barrio consiguen la confianza de las familias en la primera visita.",
            "scaling_conditions": "Coordinación con los equipos de convivencia escolar y un registro "
            "compartido "
            "de inasistencia con la municipalidad.",
            "adopter": "mineduc",
            "groups": ("ninez", "nna-fuera-escuela"),
            "outcome": "escalar",
        },
    ),
    (
        4,
        "05",
        "Preparación para la vida independiente al egresar",
        {
            "problem": "Los jóvenes que egresan de residencias de protección a los 18 años rara vez terminan "
            "su educación media o consiguen un empleo formal durante el primer año.",
            "solution": "Un programa de doce meses que combina nivelación de estudios, educación financiera "
            "y "
            "un mentor adulto voluntario que acompaña el egreso.",
            "results": "El 68 % de los participantes estudiaba o trabajaba un año después de egresar, frente "
            "al 42 % de la línea base.",
            "learnings": "La educación financiera práctica (arriendo, cuentas, ahorro) fue lo más valorado. "
            "Los mentores voluntarios necesitan formación y supervisión para no abandonar.",
            "scaling_conditions": "Financiamiento estable para coordinar mentores y un convenio con el "
            "Servicio de Protección para empezar seis meses antes del egreso.",
            "adopter": "minjusticia",
            "groups": ("nna-proteccion", "ninez"),
            "outcome": "ajustar",
        },
    ),
    (
        2,
        "08",
        "Respiro y red para personas cuidadoras",
        {
            "problem": "Las personas cuidadoras de familiares con dependencia severa, casi siempre mujeres, "
            "no "
            "tienen quién las reemplace ni un día al mes.",
            "solution": "Una red de cuidadoras y cuidadores de reemplazo capacitados por el CESFAM, con "
            "cuatro "
            "días de respiro al mes y un grupo de apoyo semanal.",
            "results": "El puntaje promedio de sobrecarga (escala de Zarit) bajó de 62 a 48 en seis meses.",
            "learnings": "El respiro solo funciona si la persona cuidada conoce antes a quien la reemplaza. "
            "El grupo de apoyo semanal fue tan valorado como los días libres.",
            "scaling_conditions": "Pagar a las personas de reemplazo con un valor por día y coordinarse con "
            "la "
            "red local de apoyos y cuidados.",
            "adopter": "cuidados",
            "groups": ("cuidadoras", "discapacidad", "personas-mayores"),
            "outcome": "escalar",
        },
    ),
    (
        3,
        "09",
        "Mercado directo para la artesanía mapuche",
        {
            "problem": "Las familias artesanas mapuche rurales venden a intermediarios a precios bajos y "
            "lejos "
            "de los compradores.",
            "solution": "Una tienda comunitaria en línea y ferias mensuales en Temuco, administradas por las "
            "propias comunidades, con apoyo en fotografía y envíos.",
            "results": "El ingreso mensual por venta de artesanía subió en promedio un 35 % en las 48 "
            "familias "
            "participantes; la pobreza por ingresos no se midió al cierre.",
            "learnings": "La administración comunitaria de la tienda tomó más tiempo del previsto, pero fue "
            "clave para que las familias confiaran en ella.",
            "scaling_conditions": "Acceso a internet en las comunidades y un fondo rotatorio para "
            "materiales.",
            "adopter": "conadi",
            "groups": ("pueblos-indigenas", "mujeres-jefas-hogar"),
            "outcome": "ajustar",
        },
    ),
    (
        1,
        "13",
        "Barrios que acompañan la recuperación",
        {
            "problem": "Casi cuatro de cada diez personas dejan el tratamiento por consumo problemático "
            "antes "
            "de tres meses, y vuelven a su barrio sin red.",
            "solution": "Monitores comunitarios, ellos mismos en recuperación, acompañaron a las personas a "
            "sus controles y las conectaron con talleres de oficio.",
            "results": "El abandono antes de tres meses bajó de 38 % a 35 %, menos de lo esperado; el empleo "
            "al egresar no cambió.",
            "learnings": "Los monitores necesitaban más apoyo del equipo clínico; sin él, se agotaron. La "
            "relación con el centro de tratamiento debió formalizarse desde el inicio.",
            "scaling_conditions": "No escalar en este formato: revisar el modelo con SENDA antes de repetir.",
            "adopter": "senda",
            "groups": ("consumo",),
            "outcome": "no_continuar",
        },
    ),
    (
        5,
        "02",
        "Cuidado infantil para el primer empleo formal",
        {
            "problem": "Las mujeres jefas de hogar del norte trabajan sin contrato porque no tienen con "
            "quién "
            "dejar a sus hijos en horario laboral.",
            "solution": "Salas de cuidado infantil en horario extendido, vinculadas a empresas que "
            "ofrecieron "
            "empleos formales y a cursos de capacitación y educación para adultos.",
            "results": "46 de 70 participantes firmaron un contrato de trabajo formal; 39 lo mantenían al "
            "cierre del piloto.",
            "learnings": "Sin cuidado infantil la oferta de empleo no sirve; con él, la educación y la "
            "capacitación se completan.",
            "scaling_conditions": "Convenios con empresas de la zona y con el Programa Familias para derivar "
            "a las participantes.",
            "adopter": "familias",
            "groups": ("mujeres-jefas-hogar", "desempleo"),
            "outcome": "escalar",
        },
    ),
    (
        2,
        "06",
        "Cuidadoras conectadas en el valle",
        {
            "problem": "En las zonas rurales de O'Higgins las cuidadoras viven lejos de los centros de "
            "salud y "
            "de otras cuidadoras.",
            "solution": "Un grupo de apoyo por videollamada y visitas mensuales de una técnica en "
            "enfermería.",
            "results": "32 cuidadoras participaron todo el piloto; la sobrecarga bajó levemente.",
            "learnings": "La conexión a internet fue el principal obstáculo; el teléfono funcionó mejor que "
            "la videollamada.",
            "scaling_conditions": "Un plan de datos móviles para las cuidadoras y apoyo de los CESFAM "
            "rurales.",
            "adopter": "cuidados",
            "groups": ("cuidadoras", "personas-mayores"),
            "outcome": "ajustar",
        },
    ),
)
# Executed share of the award per pilot (one over budget, one under).
EXECUTION = (0.97, 1.0, 1.16, 0.82, 0.93, 0.99, 0.95)


def _on_seed_demo(app: Any) -> None:
    seed_demo_aprendizaje()


def connect() -> None:
    seed_demo_signal.connect(_on_seed_demo, weak=False)


def _plan(amount: int, desafio: Any, index: int) -> dict[str, Any]:
    shares = (
        ("Equipo del piloto", "personal", 0.5),
        ("Materiales", "materiales", 0.2),
        ("Servicios y traslados", "servicios", 0.2),
    )
    lines = [{"item": item, "category": cat, "amount": int(amount * share)} for item, cat, share in shares]
    lines.append(
        {"item": "Difusión", "category": "difusion", "amount": amount - sum(x["amount"] for x in lines)}
    )
    indicators = []
    for row in desafio.indicadores[:1]:
        base = float(row.value)
        target = round(base * 0.8, 1)
        indicators.append(
            {"name": row.name, "unit": row.unit, "baseline": str(row.value), "target": str(target)}
        )
    # One indicator of the pilot's own, without a baseline for one pilot ("sin línea base").
    indicators.append(
        {
            "name": "Personas que completan el programa",
            "unit": "personas",
            "baseline": "" if index == 3 else "0",
            "target": "120",
        }
    )
    return {
        "presupuesto": lines,
        "indicadores": indicators,
        "actividades": [
            {
                "description": "Diagnóstico con la comunidad",
                "starts_on": "2024-03-01",
                "ends_on": "2024-03-31",
            },
            {"description": "Implementación", "starts_on": "2024-04-01", "ends_on": "2024-07-31"},
            {"description": "Evaluación y cierre", "starts_on": "2024-08-01", "ends_on": "2024-08-31"},
        ],
    }


def _report_data(
    plan: dict[str, Any], share: float, part: float, reached: int, final: bool
) -> dict[str, Any]:
    indicators = []
    for row in plan["indicadores"]:
        base = float(row["baseline"] or 0)
        target = float(row["target"] or 0)
        actual = base + (target - base) * (0.9 if final else 0.45)
        indicators.append({"name": row["name"], "actual": f"{actual:.1f}"})
    women = reached * 3 // 5
    return {
        "indicadores": indicators,
        "beneficiarios": {
            "total": reached,
            "mujeres": women,
            "hombres": reached - women,
            "otro": 0,
            "por_region": {},
        },
        "gastos": [
            {"item": line["item"], "executed": int(line["amount"] * share * part)}
            for line in plan["presupuesto"]
        ],
        "actividades": [
            {"description": a["description"], "done": True, "note": ""} for a in plan["actividades"]
        ],
        "aprendizajes": {
            "worked": "El trabajo en terreno con la comunidad.",
            "failed": "Los plazos de compra.",
            "surprised": "La participación de las familias.",
        },
    }


def seed_demo_aprendizaje() -> Convocatoria | None:
    """Idempotent: nothing happens when the demo closure call exists. Returns the new call, or None."""
    if db.session.scalar(sa.select(Convocatoria.id).where(Convocatoria.slug == CIERRE_CALL_SLUG)):
        return None
    rng = random.Random(RANDOM_SEED)
    now = chile.utcnow()
    convocatoria = Convocatoria(
        slug=CIERRE_CALL_SLUG,
        title="Fondo IDEA 2023 · Cierre y aprendizaje",
        year=2023,
        summary="Convocatoria cerrada: sus pilotos terminaron y lo aprendido está en el repositorio público.",
        description="Convocatoria de demostración de la fase de cierre y sistematización.",
        rules="Bases de la convocatoria.",
        total_budget=200_000_000,
        min_amount=20_000_000,
        max_amount=30_000_000,
        max_submissions_per_org=5,
        vote_weight=10,
        fase=Fase.CIERRE,
        submissions_open_at=chile.at_santiago(date(2023, 4, 1), 9),
        submissions_close_at=chile.end_of_day_santiago(date(2023, 5, 31)),
        committee_at=chile.at_santiago(date(2023, 9, 15), 10),
        training_start_at=chile.at_santiago(date(2023, 10, 2), 9),
        execution_start_at=chile.at_santiago(date(2024, 3, 1), 9),
        published_at=chile.at_santiago(date(2023, 4, 1), 9),
    )
    convocatoria.desafios = call_seed._desafios(
        call_seed.DESAFIOS_2026, {g.slug: g for g in call_seed.seed_grupos()}
    )
    db.session.add(convocatoria)
    db.session.flush()

    organizaciones = call_seed._organizaciones()
    close = convocatoria.submissions_close_at or now
    opened = convocatoria.submissions_open_at or close
    postulaciones: list[Postulacion] = []
    for i, (desafio_index, region, title, _sheet) in enumerate(PILOTS):
        last = i == len(PILOTS) - 1
        local = [o for o in organizaciones[1:] if o.region == region] or organizaciones[1:]
        organizacion = organizaciones[0] if last else local[i % len(local)]
        p = call_seed._postulacion(
            rng, close, opened, convocatoria, organizacion, region, EstadoPostulacion.ADMISIBLE
        )
        p.desafio_id = convocatoria.desafios[desafio_index].id
        p.title = title
        p.requested_amount = p.requested_amount or 25_000_000
        p.folio_number = take_folio_number(convocatoria)
        p.folio = f"{convocatoria.folio_prefix}{p.folio_number:04d}"
        postulaciones.append(p)
    db.session.add_all(postulaciones)
    db.session.flush()

    admin = db.session.scalar(sa.select(User).where(User.email == ADMIN_EMAIL))
    decided = chile.at_santiago(date(2023, 9, 15), 13)
    sesion = SesionComite(
        convocatoria_id=convocatoria.id,
        number=1,
        status=EstadoSesion.CERRADA,
        place="Santiago",
        opened_at=decided,
        closed_at=decided + timedelta(hours=3),
    )
    db.session.add(sesion)
    db.session.flush()
    for rank, p in enumerate(postulaciones, start=1):
        db.session.add(
            Decision(
                sesion_id=sesion.id,
                convocatoria_id=convocatoria.id,
                postulacion_id=p.id,
                rank=rank,
                outcome=Resultado.SELECCIONADA,
                reason="Seleccionada por puntaje.",
                awarded_amount=p.requested_amount,
                decided_at=decided,
            )
        )
    db.session.flush()
    ops.create_teams(admin, convocatoria)
    equipos = {
        e.postulacion_id: e
        for e in db.session.scalars(sa.select(Equipo).where(Equipo.convocatoria_id == convocatoria.id))
    }

    starts, ends = date(2024, 3, 1), date(2024, 8, 31)
    periods = (
        (date(2024, 3, 1), date(2024, 4, 30)),
        (date(2024, 5, 1), date(2024, 6, 30)),
        (date(2024, 7, 1), date(2024, 8, 31)),
    )
    for i, (p, (desafio_index, region, title, sheet_spec)) in enumerate(
        zip(postulaciones, PILOTS, strict=True)
    ):
        equipo = equipos[p.id]
        amount = int(p.requested_amount or 25_000_000)
        plan = _plan(amount, convocatoria.desafios[desafio_index], i)
        planned = 100 + 20 * i
        piloto = Piloto(
            equipo_id=equipo.id,
            convocatoria_id=convocatoria.id,
            region=region,
            name=title,
            amount=amount,
            beneficiaries_planned=planned,
            starts_on=starts,
            ends_on=ends,
            plan=plan,
            status=EstadoPiloto.CERRADO,
            closed_at=chile.at_santiago(date(2024, 10, 15), 12),
        )
        db.session.add(piloto)
        db.session.flush()
        reached = (planned * (80 + 5 * i)) // 100
        for n, (start, end) in enumerate(periods, start=1):
            final = n == len(periods)
            db.session.add(
                ReportePiloto(
                    piloto_id=piloto.id,
                    number=n,
                    kind=TipoReporte.FINAL if final else TipoReporte.AVANCE,
                    period_start=start,
                    period_end=end,
                    due_on=end + timedelta(days=10),
                    status=EstadoReporte.APROBADO,
                    data=_report_data(
                        plan, EXECUTION[i], 1 / 3, reached // 3 + (reached % 3 if final else 0), final
                    ),
                    submitted_at=chile.at_santiago(end + timedelta(days=5), 12),
                    reviewed_at=chile.at_santiago(end + timedelta(days=9), 12),
                )
            )
        db.session.flush()
        member = db.session.get(User, equipo.miembros[0].user_id)
        data = aops.SheetData(
            **{k: sheet_spec[k] for k in aops.TEXT_FIELDS},
            adopter=sheet_spec["adopter"],
            groups=tuple(sheet_spec["groups"]),
            outcome=sheet_spec["outcome"],
        )
        sheet = aops.save(member, piloto, data, send=True)
        if i < len(PILOTS) - 1 and admin is not None:
            aops.publish(admin, sheet)
            published = now - timedelta(days=60 - 8 * i)
            sheet.published_at = published
            sheet.digested_at = published  # the demo's sheets are not news for a first digest
            sheet.snapshot = {**(sheet.snapshot or {}), "taken_at": published.isoformat()}
    db.session.flush()
    return convocatoria


def published_sheets() -> list[Sistematizacion]:
    return aops.all_published()
