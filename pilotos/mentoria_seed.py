"""Demo data of the mentoring: the demo mentor (a university, Biobío) mentors two teams of the training
call, with session logs and a team comment, one of the teams with a week without a session; a company
mentor (Metropolitana) and a public-body mentor (any region) complete the directory."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from convocatorias.models import Convocatoria
from idea.cli import ensure_user, seed_demo_signal
from idea.extensions import db
from idea.models import Role, User
from pilotos import mentoria as ops
from pilotos.mentoria_models import (
    ComentarioSesion,
    Mentor,
    SesionMentoria,
    TipoOrganizacionMentor,
)
from pilotos.models import Equipo, MiembroEquipo
from pilotos.seed import FORMACION_CALL_SLUG, seed_demo_formacion

DEMO_MENTOR = "mentor@demo.fondoidea.cl"
OTHER_MENTORS = (
    (
        "mentora.empresa@demo.fondoidea.cl",
        "Isabel Empresaria",
        "Cooperativa Andes Digital",
        TipoOrganizacionMentor.EMPRESA,
        "13",
        ["tecnologia", "empleo", "sostenibilidad"],
    ),
    (
        "mentor.innova@demo.fondoidea.cl",
        "Rodrigo Servicio Público",
        "Comité de innovación regional",
        TipoOrganizacionMentor.ORGANISMO_PUBLICO,
        None,
        ["gestion_publica", "evaluacion_impacto", "economía circular"],
    ),
)


def _on_seed_demo(app: Flask) -> None:
    # The training call first (idempotent), whatever order the signal's receivers run in.
    seed_demo_formacion()
    seed_demo_mentoria()


def connect() -> None:
    seed_demo_signal.connect(_on_seed_demo, weak=False)


def seed_demo_mentoria() -> bool:
    """Idempotent: nothing happens when the demo mentor is in the directory. Returns whether it seeded."""
    user = db.session.scalar(sa.select(User).where(User.email == DEMO_MENTOR))
    call_id = db.session.scalar(sa.select(Convocatoria.id).where(Convocatoria.slug == FORMACION_CALL_SLUG))
    if user is None or call_id is None:
        return False
    if db.session.scalar(sa.select(Mentor.id).where(Mentor.user_id == user.id)) is not None:
        return False
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@demo.fondoidea.cl")) or user
    demo = ops.save_mentor(
        admin,
        user,
        ops.MentorData(
            organization="Universidad de Concepción, programa pro bono",
            kind=TipoOrganizacionMentor.UNIVERSIDAD,
            tags=["personas_mayores", "salud", "evaluacion_impacto", "teoría de cambio"],
            region="08",
            capacity=3,
            bio="Académico de salud pública; acompaña pilotos sociales desde 2018.",
        ),
    )
    for email, name, organization, kind, region, tags in OTHER_MENTORS:
        other = ensure_user(email, name, Role.MENTOR, password_hash=user.password_hash)
        ops.save_mentor(
            admin,
            other,
            ops.MentorData(organization=organization, kind=kind, tags=tags, region=region, capacity=2),
        )

    # The demo applicant's team and a team of the Biobío: the ones the page test opens.
    own = db.session.scalar(
        sa.select(Equipo)
        .join(MiembroEquipo, MiembroEquipo.equipo_id == Equipo.id)
        .join(User, User.id == MiembroEquipo.user_id)
        .where(User.email == "postulante@demo.fondoidea.cl", Equipo.convocatoria_id == call_id)
    )
    biobio = db.session.scalar(
        sa.select(Equipo).where(Equipo.region == "08", Equipo.convocatoria_id == call_id).order_by(Equipo.id)
    )
    today = ops.today()
    plans = [
        # The applicant's team: five weeks in, week 3 without a session (flagged to the lead).
        (own, today - timedelta(days=7 * 4 + 3), (0, 8, 23), "Pablo Postulante"),
        # The Biobío team: three weeks in, every week with its session.
        (biobio, today - timedelta(days=7 * 2 + 2), (1, 8, 15), None),
    ]
    for equipo, start, offsets, commenter in plans:
        if equipo is None:
            continue
        mentoria = ops.confirm_match(admin, equipo, demo, start)
        for n, offset in enumerate(offsets, start=1):
            sesion = SesionMentoria(
                mentoria_id=mentoria.id,
                held_on=start + timedelta(days=offset),
                duration_minutes=60 if n % 2 else 90,
                topics=("Teoría de cambio del piloto", "Indicadores y línea base", "Plan de sostenibilidad")[
                    (n - 1) % 3
                ],
                agreements="Revisar el árbol de problemas con la comunidad."
                if n == 1
                else "Ajustar las metas.",
                next_steps="Enviar el borrador antes de la próxima sesión.",
                created_by_id=user.id,
            )
            db.session.add(sesion)
            db.session.flush()
            if n == 1 and commenter:
                member = db.session.scalar(
                    sa.select(User).where(User.email == "postulante@demo.fondoidea.cl")
                )
                db.session.add(
                    ComentarioSesion(
                        sesion_id=sesion.id,
                        user_id=member.id if member else None,
                        body="Gracias: ya compartimos el árbol de problemas con la junta de vecinos.",
                    )
                )
    db.session.flush()
    return True
