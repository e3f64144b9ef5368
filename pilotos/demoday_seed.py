"""Demo data of the demo day, in form-a's demo call in training: the O'Higgins–Biobío macro-zone demo day,
open and ready to score, with jurado@demo.fondoidea.cl (State) and three more jurors covering academia,
business and civil society; the business juror declared a conflict with one team. Idempotent."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from convocatorias.models import Convocatoria
from idea import chile
from idea.cli import ensure_user
from idea.extensions import db
from idea.models import Role, User
from pilotos import demoday as dops
from pilotos import formulario as fops
from pilotos.demoday_models import (
    ConflictoJurado,
    CriterioPitch,
    DemoDay,
    EstadoDemoDay,
    Helice,
    JuradoDemoDay,
)
from pilotos.models import Equipo
from pilotos.seed import FORMACION_CALL_SLUG

DEMO_DAY_NAME = "Demo day zona centro-sur (O'Higgins y Biobío)"
REGIONS = ["06", "08"]
JURORS = (
    ("jurado@demo.fondoidea.cl", "Julia Jurado", Helice.ESTADO, "Seremi de Desarrollo Social"),
    ("jurado.academia@demo.fondoidea.cl", "Andrés Académico", Helice.ACADEMIA, "Universidad de Concepción"),
    (
        "jurado.empresa@demo.fondoidea.cl",
        "Elisa Empresaria",
        Helice.EMPRESA,
        "Cámara de Comercio de Rancagua",
    ),
    (
        "jurado.sociedad@demo.fondoidea.cl",
        "Sara Sociedad Civil",
        Helice.SOCIEDAD_CIVIL,
        "Red de Juntas de Vecinos",
    ),
)


def seed_demo_demoday() -> DemoDay | None:
    convocatoria = db.session.scalar(sa.select(Convocatoria).where(Convocatoria.slug == FORMACION_CALL_SLUG))
    if convocatoria is None:
        return None
    if db.session.scalar(sa.select(DemoDay.id).where(DemoDay.convocatoria_id == convocatoria.id)):
        return None
    demoday = DemoDay(
        convocatoria_id=convocatoria.id,
        name=DEMO_DAY_NAME,
        regions=REGIONS,
        place="Teatro Regional de Rancagua",
        starts_at=chile.utcnow() + timedelta(days=2),
        status=EstadoDemoDay.ABIERTO,
        opened_at=chile.utcnow(),
    )
    demoday.criterios = [CriterioPitch(position=i, name=n, weight=w) for i, (n, w) in enumerate(dops.RUBRICA)]
    equipos = list(
        db.session.scalars(
            sa.select(Equipo)
            .where(Equipo.convocatoria_id == convocatoria.id, Equipo.region.in_(REGIONS))
            .order_by(Equipo.id)
        )
    )
    # The remaining budget covers all but one of the teams that pitch.
    amounts = sorted(fops.awarded_amount(e) for e in equipos)
    demoday.budget = sum(amounts[1:]) if len(amounts) > 1 else sum(amounts)
    known = db.session.scalar(sa.select(User).where(User.email == JURORS[0][0]))
    password_hash = known.password_hash if known else None
    for email, name, helix, organization in JURORS:
        user = ensure_user(email, name, Role.JURADO, password_hash=password_hash)
        demoday.jurados.append(JuradoDemoDay(user=user, helix=helix, organization=organization))
    db.session.add(demoday)
    db.session.flush()
    if equipos:
        empresa = next(j for j in demoday.jurados if j.helix == Helice.EMPRESA)
        db.session.add(
            ConflictoJurado(
                jurado_id=empresa.id,
                equipo_id=equipos[-1].id,
                reason="Mi empresa es proveedora de la organización del equipo.",
            )
        )
        db.session.flush()
    return demoday
