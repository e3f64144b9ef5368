"""Demo data of the training phase: a call in `formacion` whose committee session is closed with six
selected projects (teams, the demo applicant a member of one), two workshops (one past with attendance
taken, one upcoming) and three modules with checklists, the teams at different points."""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from convocatorias import seed as call_seed
from convocatorias.models import Convocatoria, EstadoPostulacion, Fase, Postulacion
from convocatorias.postulaciones import take_folio_number
from evaluacion.comite_models import Decision, EstadoSesion, Resultado, SesionComite
from idea import chile
from idea.cli import seed_demo_signal
from idea.extensions import db
from idea.models import User
from pilotos import operations as ops
from pilotos.models import AvanceModulo, Equipo, InscripcionTaller, Taller

FORMACION_CALL_SLUG = "fondo-idea-2024-formacion"
RANDOM_SEED = 2024
# Regions of the eight submissions the committee decided on; the first six were selected. The demo
# applicant's organisation (O'Higgins) owns the first.
REGIONS = ("06", "08", "08", "13", "09", "05", "13", "10")
SELECTED = 6

MODULOS = (
    (
        "Teoría de cambio",
        "## Qué es\n\nLa **teoría de cambio** explica cómo las actividades del piloto llevan al impacto que "
        "buscan: problema → actividades → productos → resultados → impacto.\n\n"
        "- Parte por el problema, con datos de la línea base.\n- Escribe los supuestos de cada paso.\n\n"
        "Guía: [Teoría de cambio (FOSIS)](https://www.fosis.gob.cl/)",
        (
            "Describimos el problema con datos de la línea base",
            "Listamos actividades y productos",
            "Definimos resultados e impacto esperados",
            "Revisamos los supuestos con el equipo",
        ),
    ),
    (
        "Modelo de sostenibilidad",
        "## Después del piloto\n\nUn piloto sostenible sigue funcionando cuando termina el financiamiento. "
        "Piensa en quién paga, quién opera y qué alianzas lo sostienen.\n\n1. Costos de operación\n"
        "2. Fuentes de ingreso o aportes\n3. Alianzas con el municipio y otros actores",
        (
            "Estimamos los costos de operación anuales",
            "Identificamos fuentes de financiamiento",
            "Conversamos con al menos un aliado local",
        ),
    ),
    (
        "Coproducción con la comunidad",
        "## Diseñar con las personas\n\nLas personas usuarias participan en el diseño y la evaluación del "
        "piloto. Registra cómo y cuándo participan.",
        (
            "Planificamos dos instancias de participación",
            "Definimos cómo recogeremos la opinión de las personas",
        ),
    ),
)


def _on_seed_demo(app: Flask) -> None:
    seed_demo_formacion()
    # In this receiver, not receivers of their own: a signal calls its receivers in no set order.
    from pilotos.demoday_seed import seed_demo_demoday
    from pilotos.formulario_seed import seed_demo_formularios

    seed_demo_formularios()
    seed_demo_demoday()
    from pilotos.ejecucion_seed import seed_demo_ejecucion

    seed_demo_ejecucion()  # a call in execution: pilots on track, late, over budget, off track, closed


def connect() -> None:
    seed_demo_signal.connect(_on_seed_demo, weak=False)


def seed_demo_formacion() -> Convocatoria | None:
    """Idempotent: nothing happens when the demo training call exists. Returns the new call, or None."""
    if db.session.scalar(sa.select(Convocatoria.id).where(Convocatoria.slug == FORMACION_CALL_SLUG)):
        return None
    rng = random.Random(RANDOM_SEED)
    now = chile.utcnow()
    today = chile.to_santiago(now).date()
    closed = today - timedelta(days=120)
    convocatoria = Convocatoria(
        slug=FORMACION_CALL_SLUG,
        title="Fondo IDEA 2024 (en formación)",
        year=2024,
        summary="Convocatoria en formación: los equipos seleccionados asisten a talleres y módulos.",
        description="Convocatoria de demostración de la fase de formación.",
        rules="Bases de la convocatoria.",
        total_budget=180_000_000,
        min_amount=20_000_000,
        max_amount=30_000_000,
        max_submissions_per_org=5,
        vote_weight=10,
        fase=Fase.FORMACION,
        submissions_open_at=chile.at_santiago(closed - timedelta(days=45), 9),
        submissions_close_at=chile.end_of_day_santiago(closed),
        committee_at=chile.at_santiago(today - timedelta(days=20), 10),
        training_start_at=chile.at_santiago(today - timedelta(days=10), 9),
        execution_start_at=chile.at_santiago(today + timedelta(days=60), 9),
        published_at=chile.at_santiago(closed - timedelta(days=45), 9),
    )
    convocatoria.desafios = call_seed._desafios(
        call_seed.DESAFIOS_2026[:3], {g.slug: g for g in call_seed.seed_grupos()}
    )
    db.session.add(convocatoria)
    db.session.flush()

    organizaciones = call_seed._organizaciones()
    close = convocatoria.submissions_close_at or now
    opened = convocatoria.submissions_open_at or close
    postulaciones: list[Postulacion] = []
    for i, region in enumerate(REGIONS):
        local = [o for o in organizaciones[1:] if o.region == region] or organizaciones[1:]
        organizacion = organizaciones[0] if i == 0 else local[i % len(local)]
        p = call_seed._postulacion(
            rng, close, opened, convocatoria, organizacion, region, EstadoPostulacion.ADMISIBLE
        )
        p.folio_number = take_folio_number(convocatoria)
        p.folio = f"{convocatoria.folio_prefix}{p.folio_number:04d}"
        postulaciones.append(p)
    db.session.add_all(postulaciones)
    db.session.flush()

    admin = db.session.scalar(sa.select(User).where(User.email == "admin@demo.fondoidea.cl"))
    decided = now - timedelta(days=20)
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
        selected = rank <= SELECTED
        db.session.add(
            Decision(
                sesion_id=sesion.id,
                convocatoria_id=convocatoria.id,
                postulacion_id=p.id,
                rank=rank,
                outcome=Resultado.SELECCIONADA if selected else Resultado.NO_SELECCIONADA,
                reason="Seleccionada por puntaje." if selected else "Fuera del presupuesto.",
                awarded_amount=p.requested_amount if selected else None,
                decided_at=decided,
            )
        )
    db.session.flush()
    ops.create_teams(admin, convocatoria)
    equipos = list(
        db.session.scalars(
            sa.select(Equipo).where(Equipo.convocatoria_id == convocatoria.id).order_by(Equipo.id)
        )
    )

    past = Taller(
        convocatoria_id=convocatoria.id,
        region=None,
        title="Taller de teoría de cambio",
        topic="Cómo pasar del problema al impacto, con ejemplos de pilotos anteriores.",
        starts_at=chile.at_santiago(today - timedelta(days=7), 10),
        ends_at=chile.at_santiago(today - timedelta(days=7), 13),
        place="",
        online_url="https://reuniones.fondoidea.cl/teoria-de-cambio",
        capacity=20,
        registered_count=0,
        attendance_taken_at=now - timedelta(days=7),
    )
    upcoming = Taller(
        convocatoria_id=convocatoria.id,
        region="08",
        title="Taller regional del Biobío: sostenibilidad",
        topic="Modelo de sostenibilidad junto a la Seremi de Desarrollo Social.",
        starts_at=chile.at_santiago(today + timedelta(days=5), 15),
        ends_at=chile.at_santiago(today + timedelta(days=5), 18),
        place="Seremi de Desarrollo Social, O'Higgins 241, Concepción",
        online_url="",
        capacity=4,
        registered_count=0,
    )
    db.session.add_all([past, upcoming])
    db.session.flush()
    for n, equipo in enumerate(equipos):
        db.session.add(
            InscripcionTaller(
                taller_id=past.id,
                equipo_id=equipo.id,
                attended=n % 3 != 2,
                created_at=now - timedelta(days=12),
            )
        )
    past.registered_count = len(equipos)
    biobio = [e for e in equipos if e.region == "08"][:1]
    for equipo in biobio:
        db.session.add(InscripcionTaller(taller_id=upcoming.id, equipo_id=equipo.id))
    upcoming.registered_count = len(biobio)

    modulos = [
        ops.save_modulo(
            admin,
            convocatoria,
            ops.ModuloData(
                title=title, body=body, required=position < 2, items=list(items), position=position
            ),
        )
        for position, (title, body, items) in enumerate(MODULOS)
    ]
    # Teams at different points: the first has everything done, the last nothing.
    for n, equipo in enumerate(equipos):
        items = [item for m in modulos for item in m.items]
        for item in items[: max(0, len(items) - n * 2)]:
            db.session.add(AvanceModulo(equipo_id=equipo.id, item_id=item.id))
    db.session.flush()
    return convocatoria
