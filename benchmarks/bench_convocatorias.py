"""Speed and memory of the pages that grow with a call: the public call page, the lead's list, the exports.

Run: `.venv/bin/python benchmarks/bench_convocatorias.py [N_SUBMISSIONS]` (default 5000). Uses a throwaway
SQLite file, or DATABASE_URL's server (a database of its own is created and dropped). Prints, per page, the
median and worst time over repeated requests (after untimed warm-up requests), the SQL statements issued,
and the peak Python memory of the exports (measured in a separate, untimed pass: tracemalloc slows what it
traces). Public pages are requested anonymously, staff pages as a technical lead. The last line printed is
one JSON object with every figure. Targets (a laptop, 5000 submissions): call page < 50 ms with a constant
query count; every lead list page < 200 ms; CSV and XLSX export of every row < 2 s with peak memory < 100 MB.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convocatorias.models import (  # noqa: E402
    Convocatoria,
    Desafio,
    EstadoPostulacion,
    Fase,
    IndicadorLineaBase,
    Madurez,
    Organizacion,
    Postulacion,
    TipoOrganizacion,
)
from idea import create_app  # noqa: E402
from idea.chile import REGIONS, compute_check_digit, utcnow  # noqa: E402
from idea.extensions import db  # noqa: E402
from idea.models import Role, RoleAssignment, User  # noqa: E402


def database_url(tmp: Path) -> tuple[str, sa.Engine | None, str | None]:
    raw = os.environ.get("DATABASE_URL", "")
    if not raw.startswith("postgresql"):
        return f"sqlite:///{tmp / 'bench.db'}", None, None
    url = sa.make_url(raw.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"idea_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin, name


def seed(n: int) -> tuple[Convocatoria, User]:
    from datetime import timedelta

    now = utcnow()
    lead = User(email="lead@bench.cl", name="Lead", email_confirmed_at=now)
    lead.roles.append(RoleAssignment(role=Role.ENCARGADO_TECNICO))
    call = Convocatoria(
        slug="bench",
        title="Benchmark",
        year=2026,
        total_budget=650_000_000,
        min_amount=20_000_000,
        max_amount=30_000_000,
        max_submissions_per_org=1000,
        fase=Fase.POSTULACION,
        published_at=now,
        submissions_open_at=now - timedelta(days=5),
        submissions_close_at=now + timedelta(days=20),
    )
    db.session.add_all([lead, call])
    db.session.flush()
    desafios = []
    for i in range(6):
        desafio = Desafio(convocatoria_id=call.id, title=f"Desafío {i}", problem="Problema", position=i)
        desafio.indicadores.append(IndicadorLineaBase(name="Tasa", unit="%", value=10, source="Casen 2022"))
        desafios.append(desafio)
    db.session.add_all(desafios)
    orgs = [
        Organizacion(
            owner_id=lead.id,
            name=f"Org {i}",
            rut=f"{70_000_000 + i}-{compute_check_digit(70_000_000 + i)}",
            tipo=TipoOrganizacion.SIN_FINES_DE_LUCRO,
            region=REGIONS[i % 16].code,
            comuna="Comuna",
        )
        for i in range(50)
    ]
    db.session.add_all(orgs)
    db.session.flush()
    rows = []
    for i in range(n):
        org = orgs[i % len(orgs)]
        rows.append(
            dict(
                convocatoria_id=call.id,
                desafio_id=desafios[i % 6].id,
                organizacion_id=org.id,
                created_by_id=lead.id,
                status=EstadoPostulacion.ENVIADA,
                folio_number=i + 1,
                folio=f"IDEA-2026-{i + 1:05d}",
                title=f"Idea {i}",
                problem="Problema " * 40,
                solution="Solución " * 40,
                beneficiaries="Familias",
                beneficiaries_count=100,
                region=org.region,
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
        )
    db.session.execute(sa.insert(Postulacion), rows)
    db.session.commit()
    return call, lead


def measure(engine: sa.Engine, client, url: str, repeat: int, warmup: int = 2) -> dict[str, float]:
    """Median and worst time of `repeat` requests after `warmup` untimed ones, and the SQL statements of
    the last request."""
    statements = []

    def count(*_args: object) -> None:
        statements.append(1)

    for _ in range(warmup):  # templates compiled, caches and connections warm before timing
        assert client.get(url).status_code == 200, url
    sa.event.listen(engine, "before_cursor_execute", count)
    times = []
    size = 0
    try:
        for _ in range(repeat):
            statements.clear()
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            size = len(response.data)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return {"median_ms": round(statistics.median(times), 1), "worst_ms": round(max(times), 1),
            "queries": len(statements), "bytes": size}


def export_peak_memory(client, url: str) -> float:
    """Peak Python memory (MB) of one export, in a pass of its own: tracemalloc slows the code it traces
    (about threefold here), so the timed runs are never traced."""
    tracemalloc.start()
    try:
        response = client.get(url)
        assert response.status_code == 200, url
        return round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
    finally:
        tracemalloc.stop()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    results: dict[str, object] = {"submissions": n}
    with tempfile.TemporaryDirectory() as tmp:
        url, admin, name = database_url(Path(tmp))
        # Exports are timed as the direct (in-request) path, which is also what the background job does.
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, UPLOAD_DIR=tmp, REDIS_URL=None,
                         RATELIMIT_ENABLED=False, EXPORT_ASYNC_ROWS=10**9)
        try:
            with app.app_context():
                db.create_all()
                start = time.perf_counter()
                call, lead = seed(n)
                seconds = time.perf_counter() - start
                results["database"] = db.engine.dialect.name
                print(f"{n} submissions on {db.engine.dialect.name}, seeded in {seconds:.1f} s")
                if db.engine.dialect.name == "postgresql":
                    with db.engine.begin() as conn:
                        conn.execute(sa.text("ANALYZE"))
                call_id, lead_id = call.id, lead.get_id()
                engine = db.engine
            anonymous = app.test_client()  # public pages as the public sees them: no session, no menus
            staff = app.test_client()
            with staff.session_transaction() as session:
                session["_user_id"] = lead_id
            last_page = (n + 49) // 50
            listing = f"/gestion/convocatorias/{call_id}/postulaciones"
            pages = [
                ("public call page", anonymous, "/convocatorias/bench", 30),
                ("home", anonymous, "/", 30),
                ("lead list (page 1)", staff, listing, 10),
                ("lead list (last page)", staff, f"{listing}?page={last_page}", 10),
                ("lead list (search)", staff, f"{listing}?q=Idea+12", 10),
                ("lead list (region)", staff, f"{listing}?region=08", 10),
            ]
            print(f"{'page':<24}{'median ms':>11}{'worst ms':>10}{'queries':>9}{'bytes':>10}")
            for label, client, path, repeat in pages:
                figures = measure(engine, client, path, repeat)
                results[label] = figures
                print(f"{label:<24}{figures['median_ms']:>11.1f}{figures['worst_ms']:>10.1f}"
                      f"{figures['queries']:>9}{figures['bytes']:>10}")
            for fmt in ("csv", "xlsx"):
                path = f"/gestion/convocatorias/{call_id}/postulaciones.{fmt}"
                figures = measure(engine, staff, path, 3, warmup=1)
                figures["peak_mb"] = export_peak_memory(staff, path)
                results[f"export {fmt}"] = figures
                print(f"export {fmt:<5} median {figures['median_ms'] / 1000:>6.2f} s  "
                      f"worst {figures['worst_ms'] / 1000:>6.2f} s  "
                      f"peak Python memory {figures['peak_mb']:>6.1f} MB  "
                      f"{figures['bytes'] / 1e6:.1f} MB file  {figures['queries']} queries")
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(json.dumps(results, sort_keys=True))  # the last line: one JSON object, for scripts


if __name__ == "__main__":
    main()
