"""Speed and gain of the committee selection solver on a synthetic call.

Run: `.venv/bin/python benchmarks/bench_seleccion.py [--candidates 5000] [--seed 7]`.
Synthetic call: candidates over the 16 regions (skewed towards the Metropolitana, one region with no eligible
idea), 8 challenges, amounts of $20-30 MM, scores 40-100 with a minimum of 60, a budget for about 25 projects,
at most 8 per challenge. Prints readable lines, then as its last line one JSON object (`solve_s_total`,
`solve_s_rank`, `gain_vs_greedy_pct`, `regions_covered`, `regions_with_eligible`, ...). Target on this 2-core
machine: each objective solved to optimality in under 5 s at 5,000 candidates.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluacion.seleccion import (  # noqa: E402
    Candidate,
    SelectionProblem,
    best_per_region_then_greedy,
    greedy_by_score,
    solve_selection,
)
from idea.chile import REGIONS  # noqa: E402


def synthetic(n: int, rng: random.Random) -> tuple[Candidate, ...]:
    codes = [r.code for r in REGIONS]
    weights = [8.0 if c == "13" else 1.0 for c in codes]
    thin = "11"  # Aysén: a couple of candidates, none eligible
    raw = []
    for i in range(n):
        region = rng.choices(codes, weights)[0]
        score = round(rng.uniform(40, 100), 2)
        if region == thin:
            score = round(rng.uniform(40, 59), 2)
        amount = rng.randrange(20_000_000, 30_000_001, 100_000)
        raw.append((i + 1, region, rng.randrange(1, 9), amount, score))
    order = sorted(raw, key=lambda t: (-t[4], t[0]))
    rank = {t[0]: k + 1 for k, t in enumerate(order)}
    return tuple(
        Candidate(i, f"F-{i:05d}", region, d, amount, score, rank[i]) for i, region, d, amount, score in raw
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--time-limit", type=float, default=30.0, help="seconds for 'total' (past it: best found, unproven)"
    )
    args = ap.parse_args()
    rng = random.Random(args.seed)
    cands = synthetic(args.candidates, rng)
    budget = 25 * 25_000_000
    base = dict(candidates=cands, budget=budget, min_score=60.0, max_per_challenge=8)
    out: dict = {"candidates": args.candidates, "budget": budget}
    results = {}
    for objective in ("total", "rank"):
        p = SelectionProblem(objective=objective, **base)
        t0 = time.perf_counter()
        r = solve_selection(p, [x.code for x in REGIONS], time_limit=args.time_limit)
        dt = time.perf_counter() - t0
        results[objective] = r
        out[f"solve_s_{objective}"] = round(dt, 3)
        out[f"milp_solves_{objective}"] = r.milp_solves
        out[f"lp_solves_{objective}"] = r.lp_solves
        out[f"selected_{objective}"] = len(r.selected)
        out[f"proven_optimal_{objective}"] = r.proven_optimal
        print(
            f"{objective:>5}: {dt:6.2f} s, {r.milp_solves} MILP + {r.lp_solves} LP solves, "
            f"{len(r.selected)} selected, "
            f"score sum {r.objective_value:.2f}, amount ${r.total_amount:,}, "
            f"{len(r.explanations)} explanations, proven optimal: {r.proven_optimal}"
        )
    p = SelectionProblem(objective="total", **base)
    g = greedy_by_score(p)
    b = best_per_region_then_greedy(p)
    opt = results["total"].objective_value
    out["gain_vs_greedy_pct"] = round(100 * (opt - g.objective_value) / g.objective_value, 3)
    out["gain_vs_region_greedy_pct"] = round(100 * (opt - b.objective_value) / b.objective_value, 3)
    out["greedy_regions_covered"] = len(g.regions_covered)
    out["region_greedy_regions_covered"] = len(b.regions_covered)
    out["regions_covered"] = len(results["total"].regions_covered)
    out["regions_with_eligible"] = len(results["total"].regions_required)
    print(
        f"greedy by score: score sum {g.objective_value:.2f}, {len(g.regions_covered)} regions covered "
        f"(all required: {g.all_regions_covered}); optimum gains {out['gain_vs_greedy_pct']} %"
    )
    print(
        f"best per region then greedy: score sum {b.objective_value:.2f}, {len(b.regions_covered)} regions "
        f"(all required: {b.all_regions_covered}); optimum gains {out['gain_vs_region_greedy_pct']} %"
    )
    print(
        f"regions covered {out['regions_covered']} of {out['regions_with_eligible']} with an eligible idea; "
        + " ".join(results["total"].notes)
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
