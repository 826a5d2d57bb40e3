"""Run every benchmark figure of issue 15 and print ONE JSON object.

    .venv/bin/python bench/run.py [--quick] [--only fig_tally,fig_digest] [--pg postgresql://…]

## The interface every figure module follows (agreed between the engineers of issue 15)

- A figure module is `bench/fig_<name>.py` (or `bench/bench_web.py`) and exposes

      def run(quick: bool) -> dict[str, float | int | str]

  returning flat figures keyed by the names the issue uses (`command_p99_ms`, `slack_ack_overhead_ratio`,
  …). A figure measured against a floor returns the floor in the same dict, measured in the same run
  (e.g. `command_floor_sqlite_ms` next to `command_p99_sqlite_ms`), so the ratio means something on a
  noisy machine. `quick=True` must keep the module well under a minute here (2 shared cores); the full
  run is what bench/README.md reports.
- PostgreSQL: a module that needs it reads `WGBOT_BENCH_DATABASE_URL` (set from `--pg`, default
  `postgresql://postgres@127.0.0.1:5432/wgbot_test`) and creates/drops a database of its own; when the server
  cannot be reached it returns its PostgreSQL figures as the string "skipped: <reason>".
- run.py runs each module in its own subprocess (fresh interpreter: RSS figures are not polluted by
  the other modules, and a crash or hang of one module cannot take down the others), with a timeout.
  A module that is missing, raises, or times out is reported as `null` for each figure it was expected
  to produce, with the reason in `errors[<module>]`; run.py itself never crashes because of one.
- Every run also records `load_avg_1m` before and after each module (`load[<module>]`) and the
  machine (`machine`), because figures on this shared machine are only comparable at similar load.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/wgbot_test"

# module -> the figures it is expected to return (reported as null when the module fails or is missing)
MODULES: dict[str, list[str]] = {
    "fig_commands": [  # 1 (perf)
        "command_p50_sqlite_ms",
        "command_p99_sqlite_ms",
        "command_floor_sqlite_ms",
        "command_p50_postgresql_ms",
        "command_p99_postgresql_ms",
        "command_floor_postgresql_ms",
    ],
    "fig_slack": [  # 2 (fuzz)
        "slack_ack_overhead_ratio",
        "slack_answer_p99_ms",
        "commands_per_s",
    ],
    "fig_tally": ["tally_ranked_100k_ms"],  # 3 (perf)
    "fig_digest": ["digest_build_ms", "digest_peak_rss_mb"],  # 4 (perf)
    "fig_outbox": ["outbox_efficiency", "outbox_lost", "outbox_duplicates"],  # 5 (scale)
    "fig_summary": [  # 6 (fuzz)
        "summary_calls",
        "summary_calls_min",
        "summary_wall_ratio",
        "summary_incremental_token_ratio",
    ],
    "fig_startup": ["startup_10k_reminders_s", "idle_rss_mb"],  # 7 (perf)
    "bench_web": ["web_record_p99_ms"],  # web record (web)
}
TIMEOUT_S = {"quick": 240, "full": 1800}


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def run_one(name: str, quick: bool) -> dict[str, Any]:
    """In the child: import the module and print its figures as JSON on the last stdout line."""
    sys.path.insert(0, str(HERE))
    module = importlib.import_module(name)
    figures = module.run(quick)
    return dict(figures)


def run_in_subprocess(name: str, quick: bool, timeout: float) -> tuple[dict[str, Any] | None, str | None]:
    if not (HERE / f"{name}.py").exists():
        return None, f"bench/{name}.py does not exist yet"
    cmd = [sys.executable, str(HERE / "run.py"), "--child", name] + (["--quick"] if quick else [])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=HERE.parent)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        return None, f"exit {proc.returncode}: {tail[-600:]}"
    try:
        return json.loads(lines[-1]), None
    except ValueError as exc:
        return None, f"unreadable output: {exc}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller loads; the whole run stays under 5 minutes")
    parser.add_argument("--only", default="", help="comma-separated module names (default: all)")
    parser.add_argument("--pg", default=os.environ.get("WGBOT_BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["WGBOT_BENCH_DATABASE_URL"] = args.pg

    if args.child:
        figures = run_one(args.child, args.quick)
        print(json.dumps(figures, sort_keys=True))
        return

    names = [n for n in args.only.split(",") if n] or list(MODULES)
    timeout = TIMEOUT_S["quick" if args.quick else "full"]
    out: dict[str, Any] = {
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load": {},
        "seconds": {},
        "errors": {},
    }
    started = time.perf_counter()
    for name in names:
        before = _load()
        t0 = time.perf_counter()
        figures, error = run_in_subprocess(name, args.quick, timeout)
        out["seconds"][name] = round(time.perf_counter() - t0, 1)
        out["load"][name] = [before, _load()]
        if figures is None:
            out["errors"][name] = error
            for key in MODULES.get(name, []):
                out[key] = None
        else:
            out.update(figures)
        print(f"[bench] {name}: {out['seconds'][name]} s{' — ' + error if error else ''}", file=sys.stderr)
    out["seconds"]["total"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
