"""Figure 3: a ranked tally (instant runoff + Condorcet + breakdowns) of 100,000 ballots over 10 options.

    .venv/bin/python bench/fig_tally.py [--ballots 100000]

`bot.tally.tally` is what `/wg results` and a vote's close run once the ballots are loaded. The ballots
are random partial and full rankings with a mild bias (so the runoff takes several rounds), spread
over every stakeholder group and region. The best of three runs is reported (quick: one), with the
balanced (group-weighted) tally timed too.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from bot.tally import Cast, tally
from bot.vocab import REGIONS, STAKEHOLDER_GROUPS

OPTIONS = [f"Option {i}" for i in range(10)]


def ballots(n: int, seed: int = 3) -> list[Cast]:
    rng = random.Random(seed)
    weights = [1.0 + 0.15 * i for i in range(10)]
    out = []
    for k in range(n):
        pool = list(range(10))
        ranking = []
        for _ in range(rng.choice((3, 5, 10, 10))):
            pick = rng.choices(pool, [weights[i] for i in pool])[0]
            pool.remove(pick)
            ranking.append(pick)
        out.append(Cast({"ranking": ranking}, STAKEHOLDER_GROUPS[k % 6], REGIONS[k % 5]))
    return out


def best_of(casts: list[Cast], repeats: int, balanced: bool) -> tuple[float, str]:
    best = float("inf")
    outcome = ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = tally("ranked", OPTIONS, casts, roll=len(casts), balanced=balanced)
        best = min(best, (time.perf_counter() - t0) * 1000)
        outcome = f"{result.outcome}; {len(result.rounds)} rounds; condorcet {result.condorcet}"
    return best, outcome


def run(quick: bool, n: int = 100_000) -> dict[str, float | int | str]:
    casts = ballots(n)
    repeats = 1 if quick else 3
    plain, outcome = best_of(casts, repeats, balanced=False)
    balanced, _ = best_of(casts, repeats, balanced=True)
    return {
        "tally_ranked_100k_ms": round(plain, 1),
        "tally_ranked_100k_balanced_ms": round(balanced, 1),
        "tally_ranked_outcome": outcome,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true")
    a = parser.parse_args()
    print(json.dumps(run(a.quick, a.ballots), indent=1))
