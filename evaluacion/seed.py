"""Demo data of the evaluation phase: a call past its deadline, in `evaluacion`, with admissible submissions,
the default rubric with a calibration example, three trained reviewers (one harsh) and their scores, a few
of which disagree enough to show as outliers."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from convocatorias import seed as call_seed
from convocatorias.models import CambioEstado, Convocatoria, EstadoPostulacion, Fase, Postulacion
from convocatorias.postulaciones import take_folio_number
from evaluacion import operations as ops
from evaluacion.models import Capacitacion, EstadoAsignacion, Puntaje
from idea import chile
from idea.cli import DEMO_PASSWORD, ensure_user, seed_demo_signal
from idea.extensions import db
from idea.models import Role, User
from idea.passwords import hash_password

EVAL_CALL_SLUG = "fondo-idea-2025-evaluacion"
EVAL_SUBMISSIONS = 24
RANDOM_SEED = 2025
# (e-mail, name, leaning): the harsh reviewer scores about two points under the others.
REVIEWERS: tuple[tuple[str, str, int], ...] = (
    ("evaluadora@demo.fondoidea.cl", "Eva Evaluadora", 0),
    ("evaluador.dos@demo.fondoidea.cl", "Diego Evaluador", 0),
    ("evaluadora.estricta@demo.fondoidea.cl", "Estela Evaluadora Estricta", -2),
)


def _on_seed_demo(app: Flask) -> None:
    seed_demo_evaluation()


def connect() -> None:
    seed_demo_signal.connect(_on_seed_demo, weak=False)


def seed_demo_evaluation() -> Convocatoria | None:
    """Idempotent: nothing happens when the demo evaluation call exists. Returns the new call, or None."""
    if db.session.scalar(sa.select(Convocatoria.id).where(Convocatoria.slug == EVAL_CALL_SLUG)) is not None:
        return None
    rng = random.Random(RANDOM_SEED)
    now = chile.utcnow()
    convocatoria = _call(now)
    postulaciones = _submissions(rng, convocatoria)
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@demo.fondoidea.cl"))
    rubrica = ops.ensure_rubrica(convocatoria)
    rubrica.guide = (
        "Lee cada postulación completa antes de calificar. Usa toda la escala de 1 a 7: el 4 es "
        "cumplir lo mínimo. Comenta cada criterio para que el equipo postulante aprenda."
    )
    rubrica.calibration_title = "Huerta comunitaria para personas cuidadoras"
    rubrica.calibration_text = (
        "Un grupo de cuidadoras de Temuco propone una huerta comunitaria donde se turnan para tener un día "
        "de respiro a la semana. Lo diseñaron en dos talleres con 15 cuidadoras y piden $22.000.000."
    )
    for criterio, reference in zip(rubrica.criterios, (6, 4, 6, 5, 4), strict=False):
        criterio.reference_score = reference
    shared = hash_password(DEMO_PASSWORD)
    reviewers = []
    for email, name, leaning in REVIEWERS:
        user = ensure_user(email, name, Role.EVALUADOR, password_hash=shared)
        reviewers.append((user, leaning))
        db.session.add(
            Capacitacion(
                user_id=user.id,
                convocatoria_id=convocatoria.id,
                completed_at=now,
                scores={str(c.id): c.reference_score for c in rubrica.criterios},
            )
        )
    db.session.flush()
    ops.assign_automatically(admin, convocatoria)
    _scores(rng, convocatoria, postulaciones, dict((u.id, leaning) for u, leaning in reviewers))
    db.session.flush()
    return convocatoria


def _call(now: datetime) -> Convocatoria:
    today = chile.to_santiago(now).date()
    closed = today - timedelta(days=30)
    convocatoria = Convocatoria(
        slug=EVAL_CALL_SLUG,
        title="Fondo IDEA 2025 (en evaluación)",
        year=2025,
        summary="Convocatoria cerrada: las ideas admisibles están en evaluación.",
        description="Convocatoria de demostración de la fase de evaluación.",
        rules="Bases de la convocatoria.",
        total_budget=650_000_000,
        min_amount=20_000_000,
        max_amount=30_000_000,
        max_submissions_per_org=5,
        vote_weight=10,
        fase=Fase.EVALUACION,
        submissions_open_at=chile.from_santiago(
            datetime.combine(closed - timedelta(days=45), datetime.min.time())
        ),
        submissions_close_at=chile.end_of_day_santiago(closed),
        admissibility_end_at=chile.end_of_day_santiago(closed + timedelta(days=14)),
        evaluation_end_at=chile.end_of_day_santiago(today + timedelta(days=2)),
        published_at=chile.from_santiago(datetime.combine(closed - timedelta(days=45), datetime.min.time())),
    )
    convocatoria.desafios = call_seed._desafios(
        call_seed.DESAFIOS_2026[:3], {g.slug: g for g in call_seed.seed_grupos()}
    )
    db.session.add(convocatoria)
    db.session.flush()
    return convocatoria


def _submissions(rng: random.Random, convocatoria: Convocatoria) -> list[Postulacion]:
    organizaciones = call_seed._organizaciones()[1:]
    codes = [r.code for r in chile.REGIONS]
    close = convocatoria.submissions_close_at or chile.utcnow()
    opened = convocatoria.submissions_open_at or close
    result = []
    for i in range(EVAL_SUBMISSIONS):
        region = codes[i % len(codes)]
        local = [o for o in organizaciones if o.region == region] or organizaciones
        organizacion = local[i % len(local)]
        p = call_seed._postulacion(
            rng, close, opened, convocatoria, organizacion, region, EstadoPostulacion.ADMISIBLE
        )
        p.folio_number = take_folio_number(convocatoria)
        p.folio = f"{convocatoria.folio_prefix}{p.folio_number:04d}"
        p.historial.append(
            CambioEstado(
                from_status=EstadoPostulacion.ENVIADA,
                to_status=EstadoPostulacion.ADMISIBLE,
                created_at=close + timedelta(days=7),
            )
        )
        result.append(p)
    db.session.add_all(result)
    db.session.flush()
    return result


def _scores(
    rng: random.Random, convocatoria: Convocatoria, postulaciones: list[Postulacion], leanings: dict[int, int]
) -> None:
    rubrica = ops.ensure_rubrica(convocatoria)
    quality = {p.id: rng.randint(3, 6) for p in postulaciones}
    outliers = {postulaciones[2].id, postulaciones[9].id}
    assignments = sorted(ops.queries.solver_context(convocatoria).active, key=lambda a: a.id)
    for n, a in enumerate(assignments):
        if n % 7 == 6:
            continue  # some evaluations still pending, so the dashboard shows progress
        base = quality[a.postulacion_id] + leanings.get(a.user_id, 0)
        if a.postulacion_id in outliers:
            base = 7 if n % 2 else 1
        for criterio in rubrica.criterios:
            value = max(rubrica.scale_min, min(rubrica.scale_max, base + rng.choice((-1, 0, 0, 1))))
            a.puntajes.append(Puntaje(criterio_id=criterio.id, value=value, comment=""))
        a.overall_comment = "Evaluación de demostración."
        a.submitted_at = chile.utcnow()
        a.status = EstadoAsignacion.ENVIADA
    rubrica.locked = True
