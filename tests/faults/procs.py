"""`wgbot run --slack-http` as a real subprocess against the loopback fake Slack, for fault tests
that kill it: its log (stderr) is read continuously, so a chatty process never blocks on a full pipe."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path

from tests.fakes.slack_api import FakeSlackAPI
from tests.slack.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]


class Proc:
    """A `wgbot run` subprocess whose log (stderr) is read continuously."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while raw := await self.proc.stderr.readline():
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    async def wait_for(self, pattern: str, within: float = 60) -> re.Match[str]:
        regex = re.compile(pattern)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for line in self.lines:
                if m := regex.search(line):
                    return m
            if self._reader.done():
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {pattern!r} in the log:\n" + "\n".join(self.lines[-40:]))

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        await asyncio.gather(self._reader, return_exceptions=True)


async def start(tmp_path: Path, db_url: str, api: FakeSlackAPI) -> tuple[Proc, int]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WGBOT_", "SLACK_", "DISCORD_", "OPENAI_"))}
    env = {
        **clean,
        "PYTHONPATH": str(ROOT),
        "WGBOT_DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-two-processes",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api.url,
        # longer than Slack holds the posts here (a post that hangs past its lease may go twice:
        # the outbox's documented at-least-once edge), short enough for the test to see a takeover
        "WGBOT_OUTBOX_LEASE_SECONDS": "20",
        "WGBOT_JOB_LEASE_SECONDS": "3",
        "WGBOT_LEADER_RETRY_SECONDS": "1",
        "WGBOT_SCHEDULER_POLL_SECONDS": "1",
    }
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
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    p = Proc(proc)
    port = int((await p.wait_for(r"serving /slack/events on 127\.0\.0\.1:(\d+)")).group(1))
    return p, port
