"""Figure 7: `wgbot run` start-up with 10,000 pending reminders, and its idle memory with both adapters.

    .venv/bin/python bench/fig_startup.py [--reminders 10000]

A SQLite database with 5,000 upcoming meetings, each with two reminders planned by the real
`plan_meeting` (10,000 pending reminder jobs). Then `wgbot run --slack-http` starts as an operator
starts it — a separate process, Slack (HTTP mode) and Discord both configured, their APIs and the
Discord gateway served by the loopback fakes of the test suite. `startup_10k_reminders_s`: from
spawning the process to both "wgbot running" and "Discord: connected" in its log.
`idle_rss_mb`: its resident memory (VmRSS) after 5 idle seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from adapters.console.simulate import ensure_sim_group  # noqa: E402
from bot.bootstrap import build  # noqa: E402
from bot.clock import VirtualClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.services.meetings import plan_meeting  # noqa: E402
from storage.models import Meeting, ScheduledJob, WorkingGroup  # noqa: E402
from tests.discord.conftest import TOKEN as DISCORD_TOKEN  # noqa: E402
from tests.fakes.discord_server import DiscordServer  # noqa: E402
from tests.fakes.slack_api import FakeSlackAPI  # noqa: E402
from tests.slack.conftest import SECRET, TOKEN  # noqa: E402


async def populate(url: str, reminders: int) -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    app = await build(Settings(WGBOT_DATABASE_URL=url), clock=VirtualClock(now), rng=random.Random(0), worker_id="s")
    await ensure_sim_group(app)
    async with app.db.transaction() as s:
        wg = (await s.exec(select(WorkingGroup))).one()
        assert wg.id is not None
        for i in range(reminders // 2):
            m = Meeting(
                wg_id=wg.id,
                number=i + 1,
                title=f"M{i + 1}",
                start_at=now + timedelta(days=2, minutes=i),
                remind_minutes=[60, 24 * 60],
                created_at=now,
                updated_at=now,
            )
            s.add(m)
            await s.flush()
            await plan_meeting(s, m, now, after=now, late_ok=False)
        q = select(func.count()).where(ScheduledJob.status == "pending", ScheduledJob.kind != "digest.send")
        pending = (await s.exec(q)).one()
    await app.close()
    return int(pending)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(tmp: Path, reminders: int) -> dict[str, float | int | str]:
    url = f"sqlite:///{tmp / 'wg.db'}"
    pending = await populate(url, reminders)
    slack, discord = FakeSlackAPI(), DiscordServer()
    await slack.start()
    await discord.start()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WGBOT_", "SLACK_", "DISCORD_"))}
    env = {
        **clean,
        "PYTHONPATH": str(ROOT),
        "WGBOT_DATABASE_URL": url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.url,
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "DISCORD_API_BASE": discord.api_base,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
    }
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from adapters.cli import main; main()",
        "run",
        "--slack-http",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        cwd=tmp,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    lines: list[str] = []
    try:
        wanted = {"wgbot running": None, "Discord: connected": None}

        async def scan() -> None:
            assert proc.stderr is not None
            while any(v is None for v in wanted.values()):
                raw = await proc.stderr.readline()
                if not raw:
                    raise RuntimeError("wgbot run ended: " + " | ".join(lines[-5:]))
                lines.append(raw.decode().rstrip())
                for key in wanted:
                    if wanted[key] is None and re.search(re.escape(key), lines[-1]):
                        wanted[key] = time.perf_counter() - t0

        await asyncio.wait_for(scan(), 120)
        ready = max(v for v in wanted.values() if v is not None)

        async def drain() -> None:
            assert proc.stderr is not None
            while await proc.stderr.readline():
                pass

        drainer = asyncio.create_task(drain())
        await asyncio.sleep(5)
        idle = rss_mb(proc.pid)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
        await slack.stop()
        await discord.stop()
    drainer.cancel()
    return {
        "startup_10k_reminders_s": round(ready, 2),
        "startup_pending_reminders": pending,
        "idle_rss_mb": round(idle, 1),
    }


def run(quick: bool, reminders: int = 10_000) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(measure(Path(tmp), reminders))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true")
    a = parser.parse_args()
    print(json.dumps(run(a.quick, a.reminders), indent=1))
