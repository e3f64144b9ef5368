"""Throughput of the public voting pages under a burst, against the app's trivial endpoint.

Run: `.venv/bin/python benchmarks/bench_votacion.py [SECONDS_PER_ENDPOINT]` (default 8). Needs PostgreSQL
and Redis (DATABASE_URL, REDIS_URL; defaults postgresql://postgres@127.0.0.1:5432 and
redis://127.0.0.1:6379/0). It creates a throwaway database with a call in the vote and 300 shortlisted
ideas (and drops it at the end), starts the app under gunicorn on 127.0.0.1 with the production
configuration (README: 4 sync workers), and drives each endpoint for the same time (in ROUNDS turns) with
the same client: a Python asyncio HTTP/1.1 client holding 50 concurrent connections. Page requests send no
cookie (each request is a new visitor: the worst case of a link shared on WhatsApp); vote confirmation is a
POST with a session's CSRF token, one fresh confirmation link per request. Endpoints: (a) /salud, (b) the
voting page, (c) an idea's page, (d) vote confirmation, (e) the public call page, (f) the home page. The
per-address limit on confirmations is raised for the run (every request comes from 127.0.0.1). Prints
requests/s, p50 and p99 per endpoint; the last line is one JSON object. Targets on a 2-core machine: page,
idea, call, home >= 0.5 x trivial; confirm >= 0.2 x; p99 of the voting page < 100 ms.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONNECTIONS = 50
PORT = 8765
WORKERS = 4
IDEAS = 300
TOKENS = 30000
ROUNDS = 3


def _env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        IDEA_ENV="production",
        SECRET_KEY=env.get("BENCH_SECRET_KEY") or "bench-" + "s" * 40,
        VOTE_HASH_KEY="bench-" + "v" * 40,
        DATABASE_URL=db_url,
        REDIS_URL=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        PUBLIC_BASE_URL="https://fondoidea.example",
        RQ_QUEUE=f"idea-bench-{secrets.token_hex(4)}",
        INSTANCE_PATH=tempfile.mkdtemp(prefix="idea-bench-"),
    )
    return env


def create_database() -> tuple[str, sa.Engine, str]:
    raw = os.environ.get("DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if not raw.startswith("postgresql"):
        sys.exit("bench_votacion needs PostgreSQL: set DATABASE_URL=postgresql://...")
    url = sa.make_url(raw.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"idea_bench_vot_{secrets.token_hex(4)}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin, name


def seed(env: dict[str, str]) -> dict[str, object]:
    """The call in the vote, 300 shortlisted ideas, and TOKENS pending confirmation links (signed)."""
    os.environ.update(env)
    from convocatorias.models import (
        Convocatoria,
        Desafio,
        EstadoPostulacion,
        Fase,
        Madurez,
        Organizacion,
        Postulacion,
        TipoOrganizacion,
    )
    from evaluacion import votacion
    from evaluacion.votacion_models import ConfiguracionVotacion, Preseleccion, SolicitudVoto, Votante
    from idea import create_app
    from idea.chile import REGIONS, compute_check_digit, utcnow
    from idea.extensions import db
    from idea.models import User

    app = create_app("production")
    with app.app_context():
        db.create_all()
        now = utcnow()
        owner = User(email="owner@bench.cl", name="Owner", email_confirmed_at=now)
        call = Convocatoria(
            slug="votacion-bench",
            title="Convocatoria en votación",
            year=2026,
            summary="Ideas contra la pobreza",
            description="Descripción. " * 40,
            rules="Bases. " * 40,
            total_budget=650_000_000,
            min_amount=20_000_000,
            max_amount=30_000_000,
            fase=Fase.VOTACION,
            published_at=now - timedelta(days=60),
            submissions_open_at=now - timedelta(days=60),
            submissions_close_at=now - timedelta(days=30),
            vote_open_at=now - timedelta(days=1),
            vote_close_at=now + timedelta(days=6),
        )
        db.session.add_all([owner, call])
        db.session.flush()
        desafios = [
            Desafio(convocatoria_id=call.id, title=f"Desafío {i}", problem="Problema " * 30, position=i)
            for i in range(6)
        ]
        orgs = [
            Organizacion(
                owner_id=owner.id,
                name=f"Org {i}",
                rut=f"{70_000_000 + i}-{compute_check_digit(70_000_000 + i)}",
                tipo=TipoOrganizacion.SIN_FINES_DE_LUCRO,
                region=REGIONS[i % 16].code,
                comuna="Comuna",
            )
            for i in range(30)
        ]
        db.session.add_all(desafios + orgs)
        db.session.flush()
        db.session.add(
            ConfiguracionVotacion(
                convocatoria_id=call.id, show_counts=True, published_at=now, max_votes_per_person=1
            )
        )
        rows = [
            dict(
                convocatoria_id=call.id,
                desafio_id=desafios[i % 6].id,
                organizacion_id=orgs[i % 30].id,
                created_by_id=owner.id,
                status=EstadoPostulacion.ENVIADA,
                folio_number=i + 1,
                folio=f"IDEA-2026-{i + 1:05d}",
                title=f"Idea para la comunidad número {i}",
                problem="Problema " * 40,
                solution="Solución " * 40,
                beneficiaries="Familias",
                region=orgs[i % 30].region,
                comuna="Comuna",
                maturity=Madurez.IDEA_CLARA,
                coproduction="Talleres",
                requested_amount=25_000_000,
                team="Equipo",
                version=1,
                submitted_at=now,
                created_at=now,
                updated_at=now,
            )
            for i in range(IDEAS)
        ]
        db.session.execute(sa.insert(Postulacion), rows)
        ids = db.session.scalars(sa.select(Postulacion.id).order_by(Postulacion.id)).all()
        db.session.execute(
            sa.insert(Preseleccion),
            [
                dict(
                    convocatoria_id=call.id,
                    postulacion_id=pid,
                    summary="Un resumen público de la idea. " * 6,
                    vote_count=0,
                    internal_score=50.0,
                    created_at=now,
                )
                for pid in ids
            ],
        )
        presel = db.session.scalars(sa.select(Preseleccion.id).order_by(Preseleccion.id)).all()
        db.session.execute(
            sa.insert(Votante),
            [
                dict(
                    convocatoria_id=call.id,
                    rut_hash=hashlib.sha256(f"v{i}".encode()).hexdigest(),
                    email=f"v{i}@correo.cl",
                    email_domain="correo.cl",
                    created_at=now,
                )
                for i in range(TOKENS)
            ],
        )
        votantes = db.session.scalars(sa.select(Votante.id).order_by(Votante.id)).all()
        raw_tokens = [secrets.token_urlsafe(32) for _ in range(TOKENS)]
        db.session.execute(
            sa.insert(SolicitudVoto),
            [
                dict(
                    convocatoria_id=call.id,
                    preseleccion_id=presel[i % len(presel)],
                    votante_id=votantes[i],
                    token_hash=votacion.token_hash(raw_tokens[i]),
                    network_hash="",
                    created_at=now,
                    expires_at=now + timedelta(hours=24),
                )
                for i in range(TOKENS)
            ],
        )
        db.session.commit()
        signed = [votacion.sign_token(token) for token in raw_tokens]
        result = {
            "slug": call.slug,
            "idea": presel[17],
            "tokens": signed,
            "counted_before": db.session.scalar(sa.select(sa.func.sum(Preseleccion.vote_count))),
        }
        db.session.remove()
        db.engine.dispose()
    return result


# --- the client ---------------------------------------------------------------------------------------------


class Conn:
    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookie = ""

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: str = ""
    ) -> tuple[int, bytes, str]:
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", PORT)
            extra = f"Cookie: {self.cookie}\r\n" if self.cookie else ""
            if body:
                extra += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            self.writer.write(
                f"{method} {path} HTTP/1.1\r\nHost: fondoidea.example\r\n{extra}{headers}\r\n".encode() + body
            )
            try:
                assert self.reader is not None
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt:
                    raise
                continue
            text = head.decode("latin-1")
            status = int(text.split(" ", 2)[1])
            length = re.search(r"(?im)^content-length:\s*(\d+)", text)
            data = await self.reader.readexactly(int(length.group(1))) if length else b""
            if re.search(r"(?im)^connection:\s*close", text) or not length:
                self.close()
            return status, data, text
        raise RuntimeError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(make_request, seconds: float, warmup: float = 1.0) -> dict[str, float]:
    """CONNECTIONS loops sending requests for `seconds` (after `warmup`), with their latencies."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + seconds

    async def loop(n: int) -> None:
        nonlocal errors
        conn = Conn()
        state: dict[str, object] = {}
        while True:
            t0 = time.perf_counter()
            if t0 >= stop:
                break
            try:
                ok = await make_request(conn, n, state)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                conn.close()
                ok = False
            t1 = time.perf_counter()
            if t0 >= measure_from:
                latencies.append(t1 - t0)
                errors += 0 if ok else 1
        conn.close()

    await asyncio.gather(*(loop(n) for n in range(CONNECTIONS)))
    return {"latencies": latencies, "errors": errors, "seconds": seconds}


def summarise(runs: list[dict]) -> dict[str, float]:
    latencies = sorted(x for run in runs for x in run["latencies"])
    seconds = sum(run["seconds"] for run in runs)
    count = len(latencies)
    return {
        "rps": count / seconds,
        "p50_ms": latencies[count // 2] * 1000 if count else 0.0,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1000 if count else 0.0,
        "requests": count,
        "errors": sum(run["errors"] for run in runs),
    }


def get(path: str):
    async def make(conn: Conn, _n: int, _state: dict) -> bool:
        status, _data, _head = await conn.request("GET", path)
        return status == 200

    return make


def confirm(tokens: list[str]):
    queue = list(reversed(tokens))

    async def make(conn: Conn, _n: int, state: dict) -> bool:
        if "csrf" not in state:  # a visitor opens their link once: the session and its CSRF token
            status, data, head = await conn.request("GET", f"/votar/confirmar/{queue[-1]}")
            cookie = re.search(r"(?im)^set-cookie:\s*(session=[^;]+)", head)
            token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', data) or re.search(
                rb'name="csrf_token" value="([^"]+)"', data
            )
            if status != 200 or not cookie or not token:
                return False
            conn.cookie = cookie.group(1)
            state["csrf"] = token.group(1).decode()
        link = queue.pop()
        body = f"csrf_token={state['csrf']}".encode()
        status, data, _head = await conn.request("POST", f"/votar/confirmar/{link}", body)
        return status == 200

    return make


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0
    db_url, admin, name = create_database()
    env = _env(db_url)
    server = None
    try:
        data = seed(env)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(WORKERS),
                "-b",
                f"127.0.0.1:{PORT}",
                "--log-level",
                "warning",
                "idea:create_app('production', VOTE_LIMIT_CONFIRM_IP='100000 per minute')",
            ],
            cwd=ROOT,
            env=env,
        )
        for _ in range(100):
            try:
                import urllib.request

                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/salud", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        slug, idea = data["slug"], data["idea"]
        endpoints = [
            ("trivial", get("/salud")),
            ("page", get(f"/convocatorias/{slug}/votacion")),
            ("idea", get(f"/convocatorias/{slug}/votacion/{idea}")),
            ("confirm", confirm(data["tokens"])),  # type: ignore[arg-type]
            ("call", get(f"/convocatorias/{slug}")),
            ("home", get("/")),
        ]
        # Untimed: every worker loads its templates and connections and the caches fill (a cold worker on a
        # busy machine takes seconds for its first page).
        global CONNECTIONS
        timed_connections, CONNECTIONS = CONNECTIONS, 8
        for label, make in endpoints:
            if label != "confirm":
                asyncio.run(drive(make, 2.0, warmup=0.0))
        CONNECTIONS = timed_connections
        # The endpoints take turns, ROUNDS times: a change in the machine's load affects them alike.
        runs: dict[str, list[dict]] = {label: [] for label, _make in endpoints}
        for _round in range(ROUNDS):
            for label, make in endpoints:
                runs[label].append(asyncio.run(drive(make, seconds / ROUNDS, warmup=0.5)))
        results = {}
        for label, _make in endpoints:
            results[label] = r = summarise(runs[label])
            print(
                f"{label:8s} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
                f"  ({r['requests']} requests, {r['errors']} not 200)",
                flush=True,
            )
        engine = sa.create_engine(db_url)
        with engine.connect() as conn:
            counted = conn.execute(sa.text("SELECT count(*) FROM voto")).scalar()
            total = conn.execute(sa.text("SELECT sum(vote_count) FROM preseleccion")).scalar()
        engine.dispose()
        print(f"votes counted: {counted}, sum of counters: {total}")
        trivial = results["trivial"]["rps"]
        summary = {f"rps_{k}": round(v["rps"], 1) for k, v in results.items()}
        summary.update(
            {
                "p99_page_ms": round(results["page"]["p99_ms"], 1),
                "p50_page_ms": round(results["page"]["p50_ms"], 1),
                "ratios": {k: round(v["rps"] / trivial, 2) for k, v in results.items() if k != "trivial"},
                "errors": {k: v["errors"] for k, v in results.items()},
                "votes_counted": counted,
                "counters_sum": total,
                "workers": WORKERS,
                "connections": CONNECTIONS,
                "seconds": seconds,
                "ideas": IDEAS,
            }
        )
        print(json.dumps(summary))
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
