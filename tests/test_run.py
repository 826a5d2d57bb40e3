"""`wgbot run` as an operator meets it, in a subprocess against the loopback fakes: credentials are
checked before anything starts (one line naming the variable, exit 1), the logs are quiet (and JSON
on request), /healthz tells the truth, a platform lost after a good start is retried without
tracebacks while the other adapter keeps serving, and SIGTERM shuts down cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.discord.conftest import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_server import DiscordServer
from tests.fakes.slack_api import FakeSlackAPI
from tests.slack.conftest import SECRET, TOKEN

ROOT = Path(__file__).resolve().parent.parent
APP_TOKEN = "xapp-1-A1-fake-app-token-value"
NOISE = (
    "Traceback",
    "Added job",
    "Removed job",
    "alembic",
    "PyNaCl",
    "voice will NOT",
    "will be unused",
    "Unclosed client session",
)


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackAPI]:
    fake = FakeSlackAPI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def discord_api() -> AsyncIterator[DiscordServer]:
    fake = DiscordServer()
    await fake.start()
    yield fake
    await fake.stop()


class Run:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    async def wait_for(self, pattern: str, within: float = 60) -> re.Match[str]:
        regex = re.compile(pattern)

        async def scan() -> re.Match[str]:
            for line in self.lines:
                if m := regex.search(line):
                    return m
            assert self.proc.stderr is not None
            while True:
                raw = await self.proc.stderr.readline()
                if not raw:
                    raise AssertionError(f"process ended before {pattern!r}:\n" + "\n".join(self.lines))
                self.lines.append(raw.decode().rstrip("\n"))
                if m := regex.search(self.lines[-1]):
                    return m

        return await asyncio.wait_for(scan(), within)

    async def finish(self, within: float = 60) -> int:
        assert self.proc.stderr is not None
        rest = await asyncio.wait_for(self.proc.stderr.read(), within)
        self.lines += rest.decode().splitlines()
        code = await asyncio.wait_for(self.proc.wait(), within)
        transport = getattr(self.proc, "_transport", None)  # closed now, not when the test's loop is gone
        if transport is not None:
            transport.close()
        return code


async def start_run(tmp_path: Path, env: dict[str, str], *args: str) -> Run:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WGBOT_", "SLACK_", "DISCORD_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from adapters.cli import main; main()",
        "run",
        *args,
        cwd=tmp_path,
        env={
            **clean,
            "PYTHONPATH": str(ROOT),
            "COLUMNS": "300",
            "WGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'wg.db'}",
            **env,
        },
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return Run(proc)


async def refused(tmp_path: Path, env: dict[str, str], *args: str) -> str:
    run = await start_run(tmp_path, env, *args)
    code = await run.finish()
    lines = [line for line in run.lines if line.strip()]
    assert code == 1, lines
    assert len(lines) == 1 and lines[0].startswith("wgbot: "), lines
    for secret in (TOKEN, APP_TOKEN, DISCORD_TOKEN, SECRET):
        assert secret not in lines[0]
    assert not (tmp_path / "wg.db").exists(), "nothing starts before the credentials are checked"
    return lines[0]


async def test_refused_slack_tokens_end_the_process_with_one_line(tmp_path: Path, slack_api: FakeSlackAPI) -> None:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": slack_api.url}
    slack_api.fail_next("auth.test", error="invalid_auth")
    line = await refused(tmp_path, env)
    assert "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)" in line
    slack_api.fail_next("apps.connections.open", error="invalid_auth")
    line = await refused(tmp_path, env)
    assert "SLACK_APP_TOKEN was refused by Slack (invalid_auth)" in line
    line = await refused(tmp_path, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack_api.url})
    assert "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN" in line and "SLACK_SIGNING_SECRET" in line


async def test_a_refused_discord_token_ends_the_process_even_with_slack_healthy(
    tmp_path: Path, slack_api: FakeSlackAPI, discord_api: DiscordServer
) -> None:
    discord_api.fail("GET", r"^/users/@me$", 401, message="401: Unauthorized")
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_api.url,
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "DISCORD_API_BASE": discord_api.api_base,
        "DISCORD_GATEWAY_URL": discord_api.gateway_url,
    }
    line = await refused(tmp_path, env, "--slack-http", "--port", "0")
    assert "DISCORD_TOKEN was refused by Discord" in line


async def test_unreachable_platform_at_start_is_one_line(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": "http://127.0.0.1:1/api/"}
    line = await refused(tmp_path, env)
    assert "cannot reach Slack at http://127.0.0.1:1/api/" in line


async def test_a_healthy_run_is_quiet_reports_health_survives_a_lost_platform_and_stops_cleanly(
    tmp_path: Path, slack_api: FakeSlackAPI, discord_api: DiscordServer
) -> None:
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_api.url,
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "DISCORD_API_BASE": discord_api.api_base,
        "DISCORD_GATEWAY_URL": discord_api.gateway_url,
        "WGBOT_LOG_FORMAT": "json",
    }
    run = await start_run(tmp_path, env, "--slack-http", "--host", "127.0.0.1", "--port", "0")
    try:
        port = int((await run.wait_for(r"serving /slack/events on 127\.0\.0\.1:(\d+)")).group(1))
        await run.wait_for("wgbot running")
        await run.wait_for("Discord: connected")
        await run.wait_for("engine leadership acquired")  # the only process on this database leads
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
                report = await resp.json()
            assert report == {
                "status": "ok",
                "database": "ok",
                "adapters": {"discord": "connected", "slack": "connected"},
                "engine": "leader",
            }

            await discord_api.stop()  # Discord goes away after a good start
            await run.wait_for(r"Attempting a reconnect", within=120)  # a bound for a loaded machine
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                # Slack's traffic does not need Discord: reported, but the load balancer keeps this process
                assert resp.status == 200
                assert (await resp.json())["adapters"] == {"discord": "connecting", "slack": "connected"}
            assert run.proc.returncode is None, "Slack keeps running while Discord is away"
    finally:
        if run.proc.returncode is None:
            run.proc.send_signal(signal.SIGTERM)
    assert await run.finish() == 0
    entries = [json.loads(line) for line in run.lines if line.strip()]
    assert entries and all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    text = "\n".join(e["message"] + e.get("exception", "") for e in entries)
    for noise in NOISE:
        assert noise not in text, noise
    retries = [e for e in entries if "reconnect" in e["message"]]
    assert all("\n" not in e["message"] and "exception" not in e for e in retries)
    for secret in (TOKEN, DISCORD_TOKEN, SECRET):
        assert secret not in text


async def test_a_web_only_run_serves_healthz_beside_the_record(tmp_path: Path) -> None:
    """`wgbot run --web` with no chat platform: the host still answers /healthz (database and
    engine), and the record's 404 guard leaves it alone."""
    run = await start_run(tmp_path, {}, "--web", "--host", "127.0.0.1", "--port", "0")
    try:
        port = int((await run.wait_for(r"serving the web record and /healthz on 127\.0\.0\.1:(\d+)")).group(1))
        await run.wait_for("engine leadership acquired")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
                report = await resp.json()
            assert report == {"status": "ok", "database": "ok", "adapters": {"web": "connected"}, "engine": "leader"}
            async with http.get(f"http://127.0.0.1:{port}/r/{'A' * 43}/") as resp:
                assert resp.status == 404  # the record is served on the same port
    finally:
        if run.proc.returncode is None:
            run.proc.send_signal(signal.SIGTERM)
    assert await run.finish() == 0
    assert not any("Traceback" in line for line in run.lines)
