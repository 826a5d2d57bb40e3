"""Figure 4: the weekly digest of a large working group — time to build and deliver it, and peak memory.

    .venv/bin/python bench/fig_digest.py [--db URL]

A group with 2,000 members (a third take the digest by DM, a quarter by e-mail), 1,000 proposals
(spread over 20 weeks), 100 votes with 50,000 ballots (some opened, some closed during the week) and
200 meetings, written directly (the digest is under test, not the commands). Then a FRESH process
(its peak RSS is the figure: interpreter, imports and the digest, nothing of the set-up) builds the
app on a virtual clock at the digest's due time and runs the engine once: the real digest job
composes every section, renders it for each reader's zone, writes every message to the outbox and
archives the digest. `digest_build_ms` is that run; `digest_peak_rss_mb` the child's ru_maxrss;
`digest_baseline_rss_mb` its RSS just before (the app built, nothing composed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import col, select

from adapters.console.simulate import ensure_sim_group
from bot.bootstrap import build
from bot.clock import VirtualClock
from bot.config import Settings
from bot.tally import Cast, tally
from bot.vocab import DEFAULT_THEMES, REGIONS, STAKEHOLDER_GROUPS
from storage.models import (
    Ballot,
    Identity,
    Meeting,
    Member,
    OutboxMessage,
    Proposal,
    ScheduledJob,
    Sequence,
    Vote,
    VoteVoter,
    WorkingGroup,
)

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SIZES = {"members": 2000, "proposals": 1000, "votes": 100, "ballots": 50_000, "meetings": 200}
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Africa/Lagos", "America/Sao_Paulo"]


async def populate(url: str) -> datetime:
    """The group, written in bulk; returns the due time of its next digest."""
    clock = VirtualClock(START)
    app = await build(Settings(WGBOT_DATABASE_URL=url), clock=clock, rng=random.Random(0), worker_id="setup")
    await ensure_sim_group(app)
    rng = random.Random(4)
    async with app.db.transaction() as s:
        wg = (await s.exec(select(WorkingGroup))).one()
        due = (await s.exec(select(func.min(ScheduledJob.due_at)).where(ScheduledJob.kind == "digest.send"))).one()
        assert wg.id is not None and due is not None
        week = due - timedelta(days=7)
        n = SIZES["members"]
        await s.exec(
            insert(Member),
            params=[
                {
                    "wg_id": wg.id,
                    "display_name": f"Member {i}",
                    "stakeholder_group": STAKEHOLDER_GROUPS[i % 6],
                    "region": REGIONS[i % 5],
                    "timezone": ZONES[i % len(ZONES)],
                    "language": "en",
                    "role": "convener" if i == 0 else "member",
                    "ai_opt_out": False,
                    "digest_dm": i % 3 == 0,
                    "digest_email": i % 4 == 0,
                    "email": f"m{i}@example.org" if i % 4 == 0 else None,
                    "joined_at": START - timedelta(weeks=30),
                }
                for i in range(n)
            ],
        )
        ids = list((await s.exec(select(Member.id).order_by(col(Member.id)))).all())
        await s.exec(
            insert(Identity),
            params=[
                {
                    "wg_id": wg.id,
                    "member_id": m,
                    "platform": ("slack", "discord", "console")[k % 3],
                    "workspace": "",
                    "user_id": f"u{k}",
                    "handle": f"member{k}",
                    "dm_channel": f"D{k}",
                    "created_at": START - timedelta(weeks=30),
                }
                for k, m in enumerate(ids)
            ],
        )
        await s.exec(
            insert(Proposal),
            params=[
                {
                    "wg_id": wg.id,
                    "number": k,
                    "title": f"Proposal {k}: shared evaluation of model supply chains",
                    "body": "Body of the proposal. " * 20,
                    "theme": DEFAULT_THEMES[k % 4],
                    "author_id": rng.choice(ids),
                    "status": ("open", "voting", "accepted", "rejected", "withdrawn")[k % 5],
                    "created_at": due - timedelta(minutes=rng.randrange(1, 60 * 24 * 7 * 20)),
                    "updated_at": due - timedelta(minutes=rng.randrange(1, 60 * 24 * 7)),
                }
                for k in range(1, SIZES["proposals"] + 1)
            ],
        )
        s.add(Sequence(wg_id=wg.id, kind="P", value=SIZES["proposals"]))
        per_vote = SIZES["ballots"] // SIZES["votes"]
        for v in range(1, SIZES["votes"] + 1):
            opened = week - timedelta(days=rng.randrange(0, 60)) if v % 5 else week + timedelta(hours=v)
            closed = v % 4 == 0
            closed_at = week + timedelta(hours=v) if closed else None
            vote = Vote(
                wg_id=wg.id,
                number=v,
                question=f"Question {v}?",
                method="yes-no",
                options=[],
                salt=f"{v:032d}",
                opened_at=opened,
                closes_at=(closed_at or due + timedelta(days=7)),
                status="closed" if closed else "open",
                closed_at=closed_at,
            )
            voters = rng.sample(range(n), min(n, per_vote + 100))
            answers = [rng.choice(("yes", "no", "abstain")) for _ in range(per_vote)]
            if closed:  # frozen at close, as vote_store.close does
                chosen = zip(answers, voters[:per_vote], strict=True)
                casts = [Cast({"answer": a}, STAKEHOLDER_GROUPS[i % 6], REGIONS[i % 5]) for a, i in chosen]
                result = tally("yes-no", [], casts, roll=len(voters))
                vote.result, vote.outcome = result.model_dump(mode="json"), result.outcome[:300]
            s.add(vote)
            await s.flush()
            await s.exec(
                insert(VoteVoter),
                params=[
                    {
                        "vote_id": vote.id,
                        "member_id": ids[i],
                        "stakeholder_group": STAKEHOLDER_GROUPS[i % 6],
                        "region": REGIONS[i % 5],
                        "nudged": False,
                    }
                    for i in voters
                ],
            )
            await s.exec(
                insert(Ballot),
                params=[
                    {
                        "vote_id": vote.id,
                        "member_id": ids[i],
                        "choice": {"answer": answers[k]},
                        "reason": None,
                        "log_seq": k + 1,
                        "cast_at": week + timedelta(minutes=rng.randrange(0, 60 * 24 * 7)),
                    }
                    for k, i in enumerate(voters[:per_vote])
                ],
            )
        await s.exec(
            insert(Meeting),
            params=[
                {
                    "wg_id": wg.id,
                    "number": k,
                    "title": f"Meeting {k}",
                    "start_at": week + timedelta(hours=6 * k),
                    "timezone": ZONES[k % len(ZONES)],
                    "duration_minutes": 60,
                    "remind_minutes": [],
                    "status": "scheduled",
                    "revision": 1,
                    "created_at": week - timedelta(days=30),
                    "updated_at": week - timedelta(days=30),
                }
                for k in range(1, SIZES["meetings"] + 1)
            ],
        )
    clock.set(due - timedelta(minutes=1))
    await app.run_due()  # what fell due before (the retention purge), so the child runs the digest alone
    await app.close()
    return due


async def build_digest(url: str, due: datetime) -> dict[str, Any]:
    """In the fresh child: the engine runs the due digest job once."""
    app = await build(
        Settings(WGBOT_DATABASE_URL=url), clock=VirtualClock(due), rng=random.Random(0), worker_id="d", upgrade=False
    )
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    ran = await app.run_due()
    ms = (time.perf_counter() - t0) * 1000
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    async with app.db.session() as s:
        queued = (await s.exec(select(func.count()).select_from(OutboxMessage))).one()
    await app.close()
    return {
        "digest_build_ms": round(ms, 1),
        "digest_peak_rss_mb": round(peak, 1),
        "digest_baseline_rss_mb": round(baseline, 1),
        "digest_jobs_run": ran,
        "digest_messages_queued": int(queued),
    }


def run(quick: bool) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'digest.db'}"
        due = asyncio.run(populate(url))
        proc = subprocess.run(
            [sys.executable, __file__, "--child", url, due.isoformat()], capture_output=True, text=True, timeout=600
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"digest child failed: {proc.stderr.strip()[-800:]}")
        out: dict[str, float | int | str] = json.loads(lines[-1])
    out["digest_load_avg_1m"] = round(os.getloadavg()[0], 2)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("URL", "DUE"))
    parser.add_argument("--quick", action="store_true")
    a = parser.parse_args()
    if a.child:
        print(json.dumps(asyncio.run(build_digest(a.child[0], datetime.fromisoformat(a.child[1])))))
    else:
        print(json.dumps(run(a.quick), indent=1))
