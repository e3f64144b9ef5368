"""Speed of the evaluation phase's pure building blocks on synthetic data: assignment and aggregation.

Run: `.venv/bin/python benchmarks/bench_evaluacion.py [--submissions 5000] [--reviews 3] [--reviewers 60]`.
Synthetic call: submissions spread over the 16 regions, reviewers likewise, about 2 % of reviewers declaring a
conflict with some organisation and one region each, own-region exclusion on. Prints readable figures, and as
its last line one JSON object (`assign_s`, `aggregate_s`, ...) for scripts. Target on this 2-core machine:
5,000 submissions x 3 reviews with 60 reviewers, assignment and aggregation each well under 5 s.
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
    print(
        json.dumps(
            {
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


if __name__ == "__main__":
    main()
