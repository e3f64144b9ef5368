"""Demo data of the popular vote: a call in `votacion` with a published shortlist of about 30 ideas over
several regions and challenges (with their internal scores), the vote window open (opened a few days ago,
closing in a few days) and a few hundred confirmed votes spread over those days, with one visible burst, a
cluster of votes from one e-mail domain and network, a few people who asked for many links, and a few
annulled votes with their reasons. Counters equal the valid votes.

Voters are fake but valid RUTs, stored only as the keyed hash the vote itself uses (`votacion.rut_hash`),
and networks as `votacion.network_hash` of made-up addresses. Everything is inserted
in bulk so `flask seed-demo` stays fast.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from convocatorias import seed as call_seed
from convocatorias.models import CambioEstado, Convocatoria, EstadoPostulacion, Fase, Postulacion
from convocatorias.postulaciones import take_folio_number
from evaluacion import votacion_watch as watch
from evaluacion.votacion import network_hash, rut_hash
from evaluacion.votacion_models import (
    ConfiguracionVotacion,
    ModoPreseleccion,
    Preseleccion,
    SolicitudVoto,
    Votante,
    Voto,
)
from idea import chile
from idea.cli import seed_demo_signal
from idea.extensions import db
from idea.models import User

VOTE_CALL_SLUG = "fondo-idea-2025-votacion"
VOTE_IDEAS = 30
VOTERS = 320
RANDOM_SEED = 20259
REGIONS = ("13", "08", "05", "09", "10", "14", "16", "06", "07", "04")
DOMAINS = (
    ("gmail.com", 55),
    ("hotmail.com", 14),
    ("outlook.com", 9),
    ("yahoo.com", 4),
    ("live.cl", 3),
    ("uc.cl", 3),
    ("udec.cl", 3),
    ("vtr.net", 3),
    ("gmail.cl", 2),
    ("icloud.com", 4),
)
# The cluster: a campaign of throwaway addresses from one network, in one evening.
CLUSTER_DOMAIN = "correo-rapido.net"
CLUSTER_VOTERS = 36
ANNUL_REASONS = (
    "Direcciones de correo desechables creadas en serie desde una misma red",
    "Votos desde una misma red en pocos minutos, coordinados por la postulación",
)
NAMES = (
    "camila",
    "diego",
    "valentina",
    "matias",
    "javiera",
    "benjamin",
    "fernanda",
    "joaquin",
    "catalina",
    "tomas",
    "antonia",
    "vicente",
    "isidora",
    "martin",
    "florencia",
    "sebastian",
    "constanza",
    "felipe",
)


def _on_seed_demo(app: Flask) -> None:
    seed_demo_vote()


def connect() -> None:
    seed_demo_signal.connect(_on_seed_demo, weak=False)


def fake_rut(rng: random.Random) -> str:
    """A valid, normalised RUT (body and check digit) that belongs to nobody in particular."""
    body = rng.randrange(6_000_000, 26_000_000)
    return f"{body}-{chile.compute_check_digit(body)}"


def seed_demo_vote() -> Convocatoria | None:
    """Idempotent: nothing happens when the demo vote call exists. Returns the new call, or None."""
    if db.session.scalar(sa.select(Convocatoria.id).where(Convocatoria.slug == VOTE_CALL_SLUG)) is not None:
        return None
    rng = random.Random(RANDOM_SEED)
    now = chile.utcnow()
    convocatoria = _call(now)
    postulaciones = _submissions(rng, convocatoria)
    lead = db.session.scalar(sa.select(User).where(User.email == call_seed.LEAD_EMAIL))
    preselecciones = _shortlist(rng, convocatoria, postulaciones, lead)
    _votes(rng, now, convocatoria, preselecciones, lead)
    watch.recount_votes(convocatoria.id)
    db.session.flush()
    return convocatoria


def _call(now: datetime) -> Convocatoria:
    today = chile.to_santiago(now).date()
    closed = today - timedelta(days=75)
    opened = today - timedelta(days=4)
    convocatoria = Convocatoria(
        slug=VOTE_CALL_SLUG,
        title="Fondo IDEA 2025 · Votación popular",
        year=2025,
        summary="Las ideas preseleccionadas están en votación popular: apoya la que más te guste.",
        description="Convocatoria de demostración de la votación popular.",
        rules="Bases de la convocatoria.",
        total_budget=650_000_000,
        min_amount=20_000_000,
        max_amount=30_000_000,
        max_submissions_per_org=5,
        vote_weight=10,
        fase=Fase.VOTACION,
        submissions_open_at=chile.from_santiago(
            datetime.combine(closed - timedelta(days=45), datetime.min.time())
        ),
        submissions_close_at=chile.end_of_day_santiago(closed),
        admissibility_end_at=chile.end_of_day_santiago(closed + timedelta(days=14)),
        evaluation_end_at=chile.end_of_day_santiago(closed + timedelta(days=50)),
        vote_open_at=chile.from_santiago(datetime.combine(opened, datetime.min.time()).replace(hour=9)),
        vote_close_at=chile.end_of_day_santiago(today + timedelta(days=3)),
        committee_at=chile.from_santiago(
            datetime.combine(today + timedelta(days=10), datetime.min.time()).replace(hour=10)
        ),
        published_at=chile.from_santiago(datetime.combine(closed - timedelta(days=45), datetime.min.time())),
    )
    convocatoria.desafios = call_seed._desafios(
        call_seed.DESAFIOS_2026[:4], {g.slug: g for g in call_seed.seed_grupos()}
    )
    db.session.add(convocatoria)
    db.session.flush()
    return convocatoria


def _submissions(rng: random.Random, convocatoria: Convocatoria) -> list[Postulacion]:
    organizaciones = call_seed._organizaciones()[1:]
    close = convocatoria.submissions_close_at or chile.utcnow()
    opened = convocatoria.submissions_open_at or close
    result = []
    for i in range(VOTE_IDEAS):
        region = REGIONS[i % len(REGIONS)]
        local = [o for o in organizaciones if o.region == region] or organizaciones
        p = call_seed._postulacion(
            rng, close, opened, convocatoria, local[i % len(local)], region, EstadoPostulacion.ADMISIBLE
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


def _shortlist(
    rng: random.Random, convocatoria: Convocatoria, postulaciones: list[Postulacion], lead: User | None
) -> list[Preseleccion]:
    published = (convocatoria.vote_open_at or chile.utcnow()) - timedelta(days=1)
    db.session.add(
        ConfiguracionVotacion(
            convocatoria_id=convocatoria.id,
            mode=ModoPreseleccion.TODAS,
            max_votes_per_person=3,
            show_counts=True,
            published_at=published,
            published_by_id=lead.id if lead else None,
        )
    )
    scores = sorted(((round(rng.uniform(4.2, 6.6), 2), p) for p in postulaciones), key=lambda s: -s[0])
    rows = [
        Preseleccion(
            convocatoria_id=convocatoria.id,
            postulacion_id=p.id,
            internal_score=score,
            internal_rank=rank,
            summary=_summary(p.solution or p.problem),
            created_at=published,
        )
        for rank, (score, p) in enumerate(scores, start=1)
    ]
    db.session.add_all(rows)
    db.session.flush()
    return sorted(rows, key=lambda r: r.postulacion_id)


def _summary(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _when(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment between start and end, more likely in the Chilean evening than at night."""
    for _attempt in range(20):
        at = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
        hour = chile.to_santiago(at).hour
        weight = 0.15 if hour < 7 else 1.0 if 19 <= hour <= 23 else 0.55
        if rng.random() < weight:
            return at
    return at


def _votes(
    rng: random.Random,
    now: datetime,
    convocatoria: Convocatoria,
    preselecciones: list[Preseleccion],
    lead: User | None,
) -> None:
    start = convocatoria.vote_open_at or now - timedelta(days=4)
    end = now - timedelta(minutes=20)
    popularity = [rng.uniform(0.3, 3.0) for _ in preselecciones]
    networks = [network_hash(f"200.{rng.randrange(1, 255)}.{n}.{rng.randrange(1, 255)}") for n in range(140)]
    domains, domain_weights = zip(*DOMAINS, strict=True)
    # The burst: one evening two days ago, a shared link makes one idea gather votes within an hour.
    burst_at = chile.from_santiago(
        datetime.combine(chile.to_santiago(now).date() - timedelta(days=2), datetime.min.time()).replace(
            hour=21
        )
    )
    burst_idea = preselecciones[7]
    cluster_network = networks[0]

    voters: list[dict[str, Any]] = []
    plans: list[tuple[list[int], datetime, str, str, int]] = []  # (ideas, first vote, domain, network, extra)
    seen: set[str] = set()
    for n in range(VOTERS + CLUSTER_VOTERS):
        rut = fake_rut(rng)
        while rut in seen:
            rut = fake_rut(rng)
        seen.add(rut)
        if n >= VOTERS:  # the cluster: one throwaway domain, one network, the burst idea
            domain, network = CLUSTER_DOMAIN, cluster_network
            when = burst_at + timedelta(minutes=rng.uniform(0, 50))
            ideas = [preselecciones.index(burst_idea)]
        elif n < 48:  # the burst without the cluster: ordinary people answering the shared link
            domain, network = rng.choices(domains, domain_weights)[0], rng.choice(networks[1:])
            when = burst_at + timedelta(minutes=rng.uniform(0, 58))
            ideas = [preselecciones.index(burst_idea)]
        else:
            domain, network = rng.choices(domains, domain_weights)[0], rng.choice(networks[1:])
            when = _when(rng, start, end)
            count = rng.choices((1, 2, 3), (70, 20, 10))[0]
            ideas = []
            while len(ideas) < count:
                pick = rng.choices(range(len(preselecciones)), popularity)[0]
                if pick not in ideas:
                    ideas.append(pick)
        extra = rng.choice((4, 5, 6, 7)) if n % 61 == 5 else (1 if n % 9 == 0 else 0)
        name = f"{rng.choice(NAMES)}.{rng.randrange(10, 9999)}@{domain}"
        voters.append(
            {
                "convocatoria_id": convocatoria.id,
                "rut_hash": rut_hash(rut),
                "email": name,
                "email_domain": domain,
                "created_at": when - timedelta(minutes=3),
            }
        )
        plans.append((ideas, when, domain, network, extra))
    voter_ids = list(
        db.session.scalars(sa.insert(Votante).returning(Votante.id, sort_by_parameter_order=True), voters)
    )

    requests: list[dict[str, Any]] = []
    votes: list[dict[str, Any]] = []  # filled with the request id after the insert
    for voter_id, (ideas, when, domain, network, extra) in zip(voter_ids, plans, strict=True):
        at = when
        for slot, index in enumerate(ideas, start=1):
            confirmed = at + timedelta(minutes=rng.uniform(1, 15))
            if confirmed > end:  # the later votes of this person are still to come
                ideas = ideas[: slot - 1] or ideas[:1]
                break
            requests.append(_request(convocatoria, preselecciones[index], voter_id, network, at, confirmed))
            votes.append(
                {
                    "convocatoria_id": convocatoria.id,
                    "preseleccion_id": preselecciones[index].id,
                    "votante_id": voter_id,
                    "slot": slot,
                    "network_hash": network,
                    "email_domain": domain,
                    "confirmed_at": confirmed,
                    "annulled_at": None,
                    "annulled_reason": None,
                    "annulled_by_id": None,
                }
            )
            at += timedelta(hours=rng.uniform(0.2, 20))
        for k in range(extra):  # links asked for and never used (or asked for again)
            index = ideas[k % len(ideas)]
            asked = min(when + timedelta(minutes=5 * (k + 1)), end)
            requests.append(_request(convocatoria, preselecciones[index], voter_id, network, asked, None))
    request_ids = list(
        db.session.scalars(
            sa.insert(SolicitudVoto).returning(SolicitudVoto.id, sort_by_parameter_order=True), requests
        )
    )
    confirmed_ids = [rid for rid, r in zip(request_ids, requests, strict=True) if r["confirmed_at"]]
    for vote, request_id in zip(votes, confirmed_ids, strict=True):
        vote["solicitud_id"] = request_id
        if vote["email_domain"] == CLUSTER_DOMAIN and rng.random() < 0.25:
            vote["annulled_at"] = end
            vote["annulled_reason"] = ANNUL_REASONS[0]
            vote["annulled_by_id"] = lead.id if lead else None
    ordinary = [v for v in votes if v["email_domain"] != CLUSTER_DOMAIN]
    for vote in rng.sample(ordinary, 3):
        vote["annulled_at"] = end
        vote["annulled_reason"] = ANNUL_REASONS[1]
        vote["annulled_by_id"] = lead.id if lead else None
    db.session.execute(sa.insert(Voto), votes)


def _request(
    convocatoria: Convocatoria,
    preseleccion: Preseleccion,
    voter_id: int,
    network: str,
    at: datetime,
    confirmed: datetime | None,
) -> dict[str, Any]:
    return {
        "convocatoria_id": convocatoria.id,
        "preseleccion_id": preseleccion.id,
        "votante_id": voter_id,
        "token_hash": hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        "network_hash": network,
        "created_at": at,
        "expires_at": at + timedelta(hours=24),
        "confirmed_at": confirmed,
    }
