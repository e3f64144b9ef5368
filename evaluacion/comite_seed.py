"""Demo data of the committee phase: a call in `comite` with 300 admissible, scored submissions over the 16
regions ($20–30 MM each, $650 MM in all), a published shortlist with vote counters, the selection rules, and
the demo committee member with one declared conflict of interest.

Aysén has submissions but none reaches the minimum final score: the teaching case of a region the regional
rule cannot cover.

Written in bulk with SQLAlchemy Core (one INSERT per table, executemany) so `flask seed-demo` stays fast.
The shortlist carries vote *counters* (`Preseleccion.vote_count`) but no `Voto` rows: a counted vote needs a
voter, a confirmation request and the vote (three rows each), thousands of rows the committee pages never
read (they read the counter, as every voting page does). The call in `votacion` of the demo data has real
votes; here only the committee's inputs matter.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from convocatorias import seed as call_seed
from convocatorias.admisibilidad_models import DecisionAdmisibilidad
from convocatorias.models import (
    CambioEstado,
    ContadorFolio,
    Convocatoria,
    EstadoPostulacion,
    Fase,
    Madurez,
    Postulacion,
)
from convocatorias.postulaciones import take_folio_number
from evaluacion import operations as ops
from evaluacion.comite_models import Objetivo, ReglasSeleccion
from evaluacion.models import Asignacion, Conflicto, EstadoAsignacion, Puntaje, TipoConflicto
from evaluacion.votacion_models import ConfiguracionVotacion, ModoPreseleccion, Preseleccion
from idea import chile
from idea.cli import ensure_user, seed_demo_signal
from idea.extensions import db
from idea.models import Role, User

COMITE_CALL_SLUG = "fondo-idea-2025-comite"
COMITE_SUBMISSIONS = 300
COMITE_EMAIL = "comite@demo.fondoidea.cl"
RANDOM_SEED = 2027
HARD_REGION = "11"  # Aysén: submissions, none eligible
SHORTLIST = 60  # the best by internal score go to the public vote
REVIEWERS = ("evaluadora@demo.fondoidea.cl", "evaluador.dos@demo.fondoidea.cl")


def _on_seed_demo(app: Flask) -> None:
    seed_demo_committee()


def connect() -> None:
    seed_demo_signal.connect(_on_seed_demo, weak=False)


def seed_demo_committee() -> Convocatoria | None:
    """Idempotent: nothing happens when the demo committee call exists. Returns the new call, or None."""
    if db.session.scalar(sa.select(Convocatoria.id).where(Convocatoria.slug == COMITE_CALL_SLUG)) is not None:
        return None
    rng = random.Random(RANDOM_SEED)
    now = chile.utcnow()
    convocatoria = _call(now)
    rubrica = ops.ensure_rubrica(convocatoria)
    rubrica.locked = True
    reviewers = [ensure_user(email, email.split("@")[0].title(), Role.EVALUADOR) for email in REVIEWERS]
    ids = _submissions(rng, convocatoria, now)
    quality = _scores(rng, convocatoria, ids, [r.id for r in reviewers], [c.id for c in rubrica.criterios])
    _shortlist(rng, convocatoria, quality, now)
    db.session.add(
        ReglasSeleccion(
            convocatoria_id=convocatoria.id,
            objective=Objetivo.RANK,
            max_per_challenge=None,
            max_count=None,
            quorum=2,
            share_feedback=True,
        )
    )
    member = db.session.scalar(sa.select(User).where(User.email == COMITE_EMAIL))
    if member is not None:
        # Carmen advised the organisation of one of the best ideas: she is recused from it.
        best = max(quality, key=lambda pid: (quality[pid], -pid))
        db.session.add(
            Conflicto(
                user_id=member.id,
                convocatoria_id=convocatoria.id,
                tipo=TipoConflicto.POSTULACION,
                postulacion_id=best,
                note="Asesoré a la organización en la formulación del proyecto.",
            )
        )
    db.session.flush()
    return convocatoria


def _call(now: datetime) -> Convocatoria:
    today = chile.to_santiago(now).date()
    closed = today - timedelta(days=90)
    start = chile.from_santiago(datetime.combine(closed - timedelta(days=45), datetime.min.time()))
    convocatoria = Convocatoria(
        slug=COMITE_CALL_SLUG,
        title="Fondo IDEA 2025 · Comité",
        year=2025,
        summary="Convocatoria en etapa de comité: el comité decide qué ideas se financian.",
        description="Convocatoria de demostración de la etapa de comité: 300 ideas admisibles y evaluadas.",
        rules="Adjudicar al menos 1 por región, con el fin de instalar capacidades.",
        total_budget=650_000_000,
        min_amount=20_000_000,
        max_amount=30_000_000,
        max_submissions_per_org=50,
        vote_weight=10,
        fase=Fase.COMITE,
        submissions_open_at=start,
        submissions_close_at=chile.end_of_day_santiago(closed),
        admissibility_end_at=chile.end_of_day_santiago(closed + timedelta(days=14)),
        evaluation_end_at=chile.end_of_day_santiago(closed + timedelta(days=45)),
        vote_open_at=chile.end_of_day_santiago(closed + timedelta(days=50)),
        vote_close_at=chile.end_of_day_santiago(today - timedelta(days=5)),
        committee_at=chile.end_of_day_santiago(today + timedelta(days=3)),
        published_at=start,
    )
    convocatoria.desafios = call_seed._desafios(
        call_seed.DESAFIOS_2026[:4], {g.slug: g for g in call_seed.seed_grupos()}
    )
    db.session.add(convocatoria)
    db.session.flush()
    return convocatoria


def _submissions(rng: random.Random, convocatoria: Convocatoria, now: datetime) -> list[int]:
    """300 admissible submissions (Core bulk insert), with folios, history and admissibility decisions."""
    organizaciones = call_seed._organizaciones()[1:]
    codes = [r.code for r in chile.REGIONS]
    # Folios come from the year's shared counter: take one (creating the row), then reserve the rest.
    first = take_folio_number(convocatoria)
    db.session.execute(
        sa.update(ContadorFolio)
        .where(ContadorFolio.prefix == convocatoria.folio_prefix)
        .values(last_number=first + COMITE_SUBMISSIONS - 1)
    )
    close = convocatoria.submissions_close_at or now
    rows: list[dict[str, Any]] = []
    for i in range(COMITE_SUBMISSIONS):
        # More ideas from the larger regions: every region gets its share, the Metropolitana a bit more.
        region = codes[i % len(codes)] if i % 5 else "13"
        local = [o for o in organizaciones if o.region == region] or organizaciones
        organizacion = local[i % len(local)]
        desafio = rng.choice([d for d in convocatoria.desafios if d.is_national or region in d.region_codes])
        slug = desafio.grupo_vulnerable.slug if desafio.grupo_vulnerable else "dependencia"
        title, problem, solution, beneficiaries = rng.choice(call_seed.IDEAS[slug])
        comuna = rng.choice(call_seed.COMUNAS[region])
        number = first + i
        submitted = close - timedelta(hours=rng.uniform(1, 600))
        rows.append(
            {
                "convocatoria_id": convocatoria.id,
                "desafio_id": desafio.id,
                "organizacion_id": organizacion.id,
                "created_by_id": organizacion.owner_id,
                "status": EstadoPostulacion.ADMISIBLE,
                "folio_number": number,
                "folio": f"{convocatoria.folio_prefix}{number:04d}",
                "title": f"{title} en {comuna}",
                "problem": problem,
                "solution": solution,
                "beneficiaries": beneficiaries,
                "beneficiaries_count": rng.randrange(30, 1500, 10),
                "region": region,
                "comuna": comuna,
                "maturity": rng.choice(list(Madurez)),
                "coproduction": rng.choice(call_seed.COPRODUCCION),
                "requested_amount": rng.randrange(20_000_000, 30_000_001, 500_000),
                "team": rng.choice(call_seed.EQUIPOS),
                "version": 1,
                "created_at": submitted - timedelta(days=3),
                "updated_at": submitted,
                "submitted_at": submitted,
            }
        )
    db.session.execute(sa.insert(Postulacion), rows)
    ids = list(
        db.session.scalars(
            sa.select(Postulacion.id)
            .where(Postulacion.convocatoria_id == convocatoria.id)
            .order_by(Postulacion.folio_number)
        )
    )
    decided = close + timedelta(days=7)
    db.session.execute(
        sa.insert(CambioEstado),
        [
            {
                "postulacion_id": pid,
                "from_status": EstadoPostulacion.ENVIADA,
                "to_status": EstadoPostulacion.ADMISIBLE,
                "created_at": decided,
            }
            for pid in ids
        ],
    )
    db.session.execute(
        sa.insert(DecisionAdmisibilidad),
        [{"postulacion_id": pid, "admissible": True, "decided_at": decided} for pid in ids],
    )
    return ids


def _scores(
    rng: random.Random,
    convocatoria: Convocatoria,
    ids: list[int],
    reviewers: list[int],
    criterios: list[int],
) -> dict[int, float]:
    """Two submitted evaluations per submission; most ideas score 4 to 7, Aysén's under 4."""
    regions = dict(
        db.session.execute(sa.select(Postulacion.id, Postulacion.region).where(Postulacion.id.in_(ids))).all()
    )
    quality = {}
    for pid in ids:
        if regions[pid] == HARD_REGION:
            quality[pid] = rng.uniform(2.0, 3.6)
        else:
            quality[pid] = rng.triangular(3.0, 7.0, 5.5)
    submitted = chile.utcnow() - timedelta(days=20)
    db.session.execute(
        sa.insert(Asignacion),
        [
            {
                "convocatoria_id": convocatoria.id,
                "postulacion_id": pid,
                "user_id": uid,
                "status": EstadoAsignacion.ENVIADA,
                "overall_comment": "Evaluación de demostración.",
                "created_at": submitted - timedelta(days=10),
                "submitted_at": submitted,
            }
            for pid in ids
            for uid in reviewers
        ],
    )
    asignaciones = db.session.execute(
        sa.select(Asignacion.id, Asignacion.postulacion_id).where(
            Asignacion.convocatoria_id == convocatoria.id
        )
    ).all()
    puntajes = []
    for aid, pid in asignaciones:
        for cid in criterios:
            value = round(quality[pid] + rng.uniform(-1.0, 1.0))
            puntajes.append(
                {
                    "asignacion_id": aid,
                    "criterio_id": cid,
                    "value": max(1, min(7, value)),
                    "comment": rng.choice(COMMENTS),
                }
            )
    db.session.execute(sa.insert(Puntaje), puntajes)
    return quality


def _shortlist(
    rng: random.Random, convocatoria: Convocatoria, quality: dict[int, float], now: datetime
) -> None:
    """The best SHORTLIST ideas by quality went to a public vote, now closed; counters of valid votes."""
    db.session.add(
        ConfiguracionVotacion(
            convocatoria_id=convocatoria.id,
            mode=ModoPreseleccion.MEJORES,
            top_n=SHORTLIST // len(convocatoria.desafios),
            max_votes_per_person=3,
            show_counts=True,
            published_at=now - timedelta(days=40),
            emails_purged_at=now - timedelta(days=4),
        )
    )
    best = sorted(quality, key=lambda pid: (-quality[pid], pid))[:SHORTLIST]
    db.session.execute(
        sa.insert(Preseleccion),
        [
            {
                "convocatoria_id": convocatoria.id,
                "postulacion_id": pid,
                "internal_score": round(quality[pid], 2),
                "internal_rank": rank,
                "summary": "Idea preseleccionada para la votación ciudadana.",
                # A few ideas draw most of the votes, as in any public vote.
                "vote_count": int(rng.paretovariate(1.2) * 40),
                "created_at": now - timedelta(days=40),
            }
            for rank, pid in enumerate(best, start=1)
        ],
    )


COMMENTS = (
    "El problema está bien descrito y con datos.",
    "Falta precisar cómo se medirá el resultado.",
    "La coproducción con la comunidad es real y se nota.",
    "El presupuesto parece ajustado para lo que se propone.",
    "Buena idea, pero el equipo es pequeño para la escala.",
    "",
)
