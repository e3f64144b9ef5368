"""Speed of the evaluation phase's pure building blocks on synthetic data: assignment and aggregation.

Run: `.venv/bin/python benchmarks/bench_evaluacion.py [--submissions 5000] [--reviews 3] [--reviewers 60]`.
Synthetic call: submissions spread over the 16 regions, reviewers likewise, about 2 % of reviewers declaring a
conflict with some organisation and one region each, own-region exclusion on. Prints readable figures, and as
its last line one JSON object (`assign_s`, `aggregate_s`, `dashboard_ms`, `dashboard_queries`, ...) for
scripts. The dashboard and ranking figures come from the lead's pages rendered through the test client over a
database (SQLite in a temporary directory, or a fresh database made and dropped on the server of DATABASE_URL)
holding `--dashboard-submissions` (by default `--submissions`) scored submissions x `--reviews`. Targets on
this 2-core machine: at 5,000 submissions x 3 reviews with 60 reviewers, assignment and aggregation each well
under 5 s, and the dashboard under 1,000 ms on PostgreSQL with as many queries as at 50 submissions.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluacion.aggregation import Rubric, Score, aggregate  # noqa: E402
from evaluacion.assignment import Conflict, Reviewer, Submission, assign_reviewers  # noqa: E402
from idea.chile import REGIONS  # noqa: E402

CRITERIA = {
    "Pertinencia al desafío": 25,
    "Innovación": 20,
    "Coproducción con usuarios": 20,
    "Factibilidad": 20,
    "Potencial de aprendizaje y escalamiento": 15,
}


def synthetic(n_sub: int, n_rev: int, rng: random.Random):
    regions = [r.code for r in REGIONS]
    organisations = [f"{76_000_000 + i}-K" for i in range(max(1, n_sub // 3))]
    submissions = [
        Submission(
            i, f"IDEA-2026-{i:04d}", region=rng.choice(regions), organisation_rut=rng.choice(organisations)
        )
        for i in range(1, n_sub + 1)
    ]
    reviewers = [Reviewer(100_000 + j, region=rng.choice(regions)) for j in range(n_rev)]
    conflicts = []
    for r in reviewers:
        conflicts += [Conflict(r.id, submission_id=rng.randint(1, n_sub)) for _ in range(3)]
        if rng.random() < 0.2:
            conflicts.append(Conflict(r.id, organisation_rut=rng.choice(organisations)))
        if rng.random() < 0.05:
            conflicts.append(Conflict(r.id, region=rng.choice(regions)))
    return submissions, reviewers, conflicts


def synthetic_scores(pairs, rng: random.Random) -> list[Score]:
    # Each reviewer has a habit (harsh or lenient) on top of each submission's quality.
    quality: dict[int, float] = {}
    habit: dict[int, float] = {}
    scores = []
    for reviewer_id, submission_id in pairs:
        q = quality.setdefault(submission_id, rng.uniform(2.5, 6.5))
        h = habit.setdefault(reviewer_id, rng.gauss(0, 0.7))
        for criterion in CRITERIA:
            value = round(min(7, max(1, q + h + rng.gauss(0, 0.8))))
            scores.append(Score(reviewer_id, submission_id, criterion, value))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=5000)
    parser.add_argument("--reviews", type=int, default=3, help="reviewers per submission (k)")
    parser.add_argument("--reviewers", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--dashboard-submissions", type=int, default=None,
                        help="submissions in the database behind the pages (default: --submissions)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    submissions, reviewers, conflicts = synthetic(args.submissions, args.reviewers, rng)
    start = time.perf_counter()
    result = assign_reviewers(
        submissions, reviewers, k=args.reviews, conflicts=conflicts, exclude_own_region=True
    )
    assign_s = time.perf_counter() - start
    print(
        f"assignment: {args.submissions} submissions x {args.reviews} reviews, {args.reviewers} reviewers, "
        f"{len(conflicts)} declared conflicts, own region excluded"
    )
    print(
        f"  {len(result.pairs)} pairs in {assign_s:.2f} s; loads {result.min_load}..{result.max_load} "
        f"({'balanced' if result.balanced else 'spread ' + str(result.spread)}); "
        f"{len(result.ineligible)} reviewers free for nothing"
    )

    rubric = Rubric.from_weights(CRITERIA)
    scores = synthetic_scores(result.pairs, rng)
    start = time.perf_counter()
    summary = aggregate(rubric, scores)
    aggregate_s = time.perf_counter() - start
    moved = sum(1 for s in summary.submissions.values() if s.rank_change)
    print(f"aggregation: {len(scores)} criterion scores, {len(summary.reviewers)} reviewers")
    print(
        f"  {aggregate_s:.2f} s; {len(summary.outliers)} outliers (> 2 points apart); "
        f"{moved} submissions change rank once normalised"
    )
    n_pages = args.dashboard_submissions or args.submissions
    pages = bench_pages(n_pages, args.reviews, rng)
    print(f"lead pages over {n_pages} submissions x {args.reviews} scored reviews ({pages['database']}):")
    for name, (ms, queries) in pages["pages"].items():
        print(f"  {name:<24} median {ms:6.0f} ms, {queries} queries")
    dashboard_ms, dashboard_queries = pages["pages"]["dashboard"]
    ranking_ms, ranking_queries = pages["pages"]["ranking"]
    print(
        json.dumps(
            {
                "dashboard_ms": round(dashboard_ms, 1),
                "dashboard_queries": dashboard_queries,
                "ranking_ms": round(ranking_ms, 1),
                "ranking_queries": ranking_queries,
                "pages": {name: round(ms, 1) for name, (ms, _q) in pages["pages"].items()},
                "page_submissions": n_pages,
                "database": pages["database"],
                "submissions": args.submissions,
                "reviews": args.reviews,
                "reviewers": args.reviewers,
                "assign_s": round(assign_s, 3),
                "aggregate_s": round(aggregate_s, 3),
                "load_min": result.min_load,
                "load_max": result.max_load,
                "outliers": len(summary.outliers),
            }
        )
    )


def bench_pages(n_sub: int, k: int, rng: random.Random, repeat: int = 5) -> dict:
    """Median time and query count of the lead's dashboard and ranking pages over `n_sub` admissible
    submissions, each with `k` submitted evaluations."""
    import os
    import secrets
    import statistics
    import tempfile
    from datetime import timedelta

    import sqlalchemy as sa

    from convocatorias.models import Convocatoria, Desafio, EstadoPostulacion, Fase, Organizacion, Postulacion
    from evaluacion.models import Asignacion, Criterio, EstadoAsignacion, Puntaje, Rubrica
    from idea import create_app
    from idea.chile import compute_check_digit, utcnow
    from idea.extensions import db
    from idea.models import Role, RoleAssignment, User

    with tempfile.TemporaryDirectory() as tmp:
        raw = os.environ.get("DATABASE_URL", "")
        admin = name = None
        url = f"sqlite:///{tmp}/bench.db"
        if raw.startswith("postgresql"):
            base = sa.make_url(raw.replace("postgresql://", "postgresql+psycopg://", 1))
            name = f"idea_bench_{secrets.token_hex(4)}"
            admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = base.set(database=name).render_as_string(hide_password=False)
            print(f"benchmark database: {name}", file=sys.stderr)
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, UPLOAD_DIR=tmp, REDIS_URL=None,
                         RATELIMIT_ENABLED=False)
        try:
            with app.app_context():
                db.create_all()
                now = utcnow()
                lead = User(email="lead@bench.cl", name="Lead", email_confirmed_at=now)
                lead.roles.append(RoleAssignment(role=Role.ENCARGADO_TECNICO))
                call = Convocatoria(slug="bench", title="Bench", year=2026, total_budget=650_000_000,
                                    min_amount=20_000_000, max_amount=30_000_000, fase=Fase.EVALUACION,
                                    submissions_close_at=now - timedelta(days=30), published_at=now)
                call.desafios = [Desafio(title="Desafío", problem="Problema")]
                reviewers = [User(email=f"r{i}@bench.cl", name=f"Evaluador {i}", email_confirmed_at=now)
                             for i in range(max(k, n_sub * k // 60))]
                for r in reviewers:
                    r.roles.append(RoleAssignment(role=Role.EVALUADOR))
                db.session.add_all([lead, call, *reviewers])
                db.session.flush()
                rubrica = Rubrica(convocatoria_id=call.id)
                rubrica.criterios = [Criterio(name=n, weight=w, position=i)
                                     for i, (n, w) in enumerate(CRITERIA.items())]
                db.session.add(rubrica)
                orgs = [Organizacion(owner_id=lead.id, name=f"Org {i}", rut=f"{76_000_000 + i}-"
                                     f"{compute_check_digit(76_000_000 + i)}", tipo="sin_fines_de_lucro",
                                     region=REGIONS[i % 16].code, comuna="Comuna") for i in range(n_sub)]
                db.session.add_all(orgs)
                db.session.flush()
                posts = [Postulacion(convocatoria_id=call.id, desafio_id=call.desafios[0].id,
                                     organizacion_id=o.id, created_by_id=lead.id,
                                     status=EstadoPostulacion.ADMISIBLE, folio_number=i + 1,
                                     folio=f"IDEA-2026-{i + 1:05d}", title=f"Idea {i}", region=o.region)
                         for i, o in enumerate(orgs)]
                db.session.add_all(posts)
                db.session.flush()
                criterios = [c.id for c in rubrica.criterios]
                # Core bulk inserts: the ORM unit of work would take minutes for 75,000 scores.
                db.session.execute(sa.insert(Asignacion), [
                    {"convocatoria_id": call.id, "postulacion_id": p.id,
                     "user_id": reviewers[(i * k + j) % len(reviewers)].id,
                     "status": EstadoAsignacion.ENVIADA, "submitted_at": now, "created_at": now,
                     "overall_comment": ""}
                    for i, p in enumerate(posts) for j in range(k)
                ])
                ids = db.session.scalars(sa.select(Asignacion.id).order_by(Asignacion.id)).all()
                db.session.execute(sa.insert(Puntaje), [
                    {"asignacion_id": a, "criterio_id": c, "value": rng.randint(1, 7), "comment": ""}
                    for a in ids for c in criterios
                ])
                db.session.commit()
                # Planner statistics, as autovacuum would have them on a live database after such a load.
                db.session.execute(sa.text("ANALYZE"))
                db.session.commit()
                engine, call_id, lead_id = db.engine, call.id, lead.get_id()
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = lead_id
            base = f"/gestion/evaluacion/convocatorias/{call_id}"
            paths = {
                "dashboard": base,
                "dashboard, page 100": f"{base}?page=100",
                "ranking": f"{base}/ranking",
                "ranking normalised, p.50": f"{base}/ranking?orden=normalizado&page=50",
                "outliers": f"{base}/ranking?orden=discrepancia",
            }
            statements: list[int] = []
            sa.event.listen(engine, "before_cursor_execute", lambda *_a: statements.append(1))
            figures = {}
            for label, path in paths.items():  # not `name`: that is the database dropped below
                times = []
                for _ in range(repeat):
                    statements.clear()
                    start = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                figures[label] = (statistics.median(times), len(statements))
            return {"database": engine.dialect.name, "pages": figures}
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            if admin is not None and not os.environ.get("BENCH_KEEP_DB"):
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
