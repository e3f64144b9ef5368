"""Concurrent confirmations on PostgreSQL: 8 processes (not threads), each with its own app and engine,
confirm the same links in different orders through the pages. The unique constraints decide; the counters,
the votes and what each voter is owed must agree exactly, with no duplicate vote and no 500."""

# ruff: noqa: F811  (fixtures imported to be used as fixtures)

from __future__ import annotations

import multiprocessing
import random
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from evaluacion import votacion as ops
from evaluacion.votacion_models import Preseleccion, SolicitudVoto, Votante, Voto
from idea.chile import utcnow
from idea.extensions import db
from tests.evaluacion.votacion_fixtures import Votacion, votacion  # noqa: F401  (fixture)

PROCESSES = 8
VOTERS = 126  # in three groups of 42, see `_requests`: 504 links, each confirmed by every process
MAX_VOTES = 3
OUTCOME = re.compile(rb'data-outcome="([a-z_]+)"')


def _worker(database_url: str, tokens: list[str], seed: int, barrier: Any, results: Any) -> None:
    try:
        results.put(_confirm_all(database_url, tokens, seed, barrier))
    except BaseException:  # reported to the test, which fails with it
        import traceback

        results.put({"error": traceback.format_exc()})


def _confirm_all(database_url: str, tokens: list[str], seed: int, barrier: Any) -> dict[str, Any]:
    """One process: its own app (and engine), every token in its own order, through the confirm page."""
    from idea import create_app

    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=None,
        RATELIMIT_ENABLED=False,
        RATELIMIT_STORAGE_URI="memory://",
    )
    client = app.test_client()
    order = list(tokens)
    random.Random(seed).shuffle(order)
    seen: Counter[str] = Counter()
    barrier.wait(timeout=180)
    started = time.monotonic()
    for token in order:
        response = client.post(f"/votar/confirmar/{token}")
        match = OUTCOME.search(response.data)
        seen[f"{response.status_code}:{match.group(1).decode() if match else '-'}"] += 1
    seen["seconds"] = round(time.monotonic() - started)
    with app.app_context():
        db.engine.dispose()
    return dict(seen)


def _requests(v: Votacion) -> tuple[list[str], dict[int, int]]:
    """Confirmation requests written directly (as `request_vote` writes them), with what each voter is owed:
    - a third of the voters ask twice for each of 2 ideas: 2 votes;
    - a third ask three times for 1 idea: 1 vote;
    - a third ask once for each of 5 ideas, more than their 3 votes: 3 votes."""
    now = utcnow()
    entries = v.entries
    tokens: list[str] = []
    owed: dict[int, int] = {}
    for i in range(VOTERS):
        votante = Votante(
            convocatoria_id=v.convocatoria.id,
            rut_hash=secrets.token_hex(32),
            email=f"v{i}@ejemplo.cl",
            email_domain="ejemplo.cl",
        )
        db.session.add(votante)
        db.session.flush()
        group = i % 3
        if group == 0:
            ideas = [entries[i % 10], entries[(i + 1) % 10]] * 2
        elif group == 1:
            ideas = [entries[i % 10]] * 3
        else:
            ideas = [entries[(i + k) % 10] for k in range(5)]
        owed[votante.id] = min(MAX_VOTES, len({e.id for e in ideas}))
        for entry in ideas:
            raw = secrets.token_urlsafe(16)
            db.session.add(
                SolicitudVoto(
                    convocatoria_id=v.convocatoria.id,
                    preseleccion_id=entry.id,
                    votante_id=votante.id,
                    token_hash=ops.token_hash(raw),
                    network_hash=ops.network_hash(f"200.1.{i % 7}.9"),
                    created_at=now,
                    expires_at=now + timedelta(hours=24),
                )
            )
            tokens.append(ops.sign_token(raw))
    db.session.commit()
    return tokens, owed


def test_concurrent_confirmations_count_exactly(
    app: Any, database_url: str, votacion: Callable[..., Votacion]
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the concurrency test needs PostgreSQL (DATABASE_URL=postgresql+psycopg://...)")
    v = votacion(n=10, max_votes=MAX_VOTES)
    tokens, owed = _requests(v)
    expected = sum(owed.values())
    # Forked, so that the processes start in a second rather than importing the app again each; every one
    # builds its own app and engine, and the parent closes its connections first so none is shared.
    db.session.remove()
    db.engine.dispose()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(database_url, tokens, seed, barrier, results))
        for seed in range(PROCESSES)
    ]
    started = time.monotonic()
    for w in workers:
        w.start()
    outcomes: Counter[str] = Counter()
    seconds = []
    try:
        for _ in workers:
            result = results.get(timeout=300)
            assert "error" not in result, result["error"]
            seconds.append(result.pop("seconds"))
            outcomes.update(result)
        for w in workers:
            w.join(timeout=30)
            assert w.exitcode == 0
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
                w.join(timeout=10)
    elapsed = time.monotonic() - started

    attempts = sum(outcomes.values())
    assert attempts == PROCESSES * len(tokens) >= 4000
    # Every answer is a page with an outcome, never an error.
    assert {key.split(":")[0] for key in outcomes} == {"200"}, outcomes
    assert outcomes["200:counted"] == expected, outcomes
    assert set(k.split(":")[1] for k in outcomes) <= {
        "counted", "already_counted", "already_voted", "no_votes_left"
    }

    db.session.expire_all()
    votes = db.session.scalar(sa.select(sa.func.count(Voto.id)))
    assert votes == expected
    counters = dict(db.session.execute(sa.select(Preseleccion.id, Preseleccion.vote_count)).all())
    per_entry = dict(
        db.session.execute(
            sa.select(Voto.preseleccion_id, sa.func.count(Voto.id))
            .where(Voto.annulled_at.is_(None))
            .group_by(Voto.preseleccion_id)
        ).all()
    )
    assert counters == {pid: per_entry.get(pid, 0) for pid in counters}
    assert sum(counters.values()) == expected
    per_voter = dict(
        db.session.execute(sa.select(Voto.votante_id, sa.func.count(Voto.id)).group_by(Voto.votante_id)).all()
    )
    assert per_voter == owed
    duplicates = db.session.execute(
        sa.select(Voto.votante_id, Voto.preseleccion_id)
        .group_by(Voto.votante_id, Voto.preseleccion_id)
        .having(sa.func.count(Voto.id) > 1)
    ).all()
    assert duplicates == []
    confirmed = db.session.scalar(
        sa.select(sa.func.count(SolicitudVoto.id)).where(SolicitudVoto.confirmed_at.is_not(None))
    )
    assert confirmed == expected
    # About 20 s on an idle 2-core machine; the bound only catches a hang (the machine may be shared).
    assert elapsed < 400, f"{attempts} confirmations took {elapsed:.0f} s"
    print(f"\n{attempts} confirmations in {elapsed:.1f} s ({seconds} s of confirming per process) over "
          f"{PROCESSES} processes: {dict(outcomes)}")
