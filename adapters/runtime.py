"""`wgbot run`: the long-running process. Builds the app, adds a sender per configured platform,
starts the scheduler and the outbox dispatcher, and runs until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.web import Application, Request, Response, json_response

from adapters.health import Advisory, Probe, health
from adapters.httphost import HttpHost
from adapters.llm import llm_from_settings
from bot.bootstrap import App, build
from bot.config import Settings, ShardSettingsError

log = logging.getLogger(__name__)


class NothingConfigured(Exception):
    pass


class StartupError(Exception):
    """The configuration cannot work (a refused token, a missing setting, an unreachable platform at
    start). The message is one line that names the variable to fix; `wgbot run` exits with status 1."""


class AdaptersStopped(Exception):
    """Every chat adapter has stopped and none could recover: the process ends with a non-zero status."""


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


#: a platform starter adds its sender to the app and returns the coroutines to run
Starter = Callable[[App, Settings, dict[str, Any]], Awaitable[list[Awaitable[None]]]]
#: a platform check run before anything starts; raises StartupError
Verifier = Callable[[Settings, dict[str, Any]], Awaitable[None]]


def platform_starters(settings: Settings) -> list[tuple[str, Verifier | None, Starter]]:
    starters: list[tuple[str, Verifier | None, Starter]] = []
    if settings.slack_bot_token is not None:
        from adapters.slack.runtime import start as start_slack
        from adapters.slack.runtime import verify as verify_slack

        starters.append(("Slack", verify_slack, start_slack))
    if settings.discord_configured:
        from adapters.discord.runtime import start as start_discord
        from adapters.discord.runtime import verify as verify_discord

        starters.append(("Discord", verify_discord, start_discord))
    if settings.smtp_configured:
        with contextlib.suppress(ModuleNotFoundError):
            from adapters.email.runtime import start as start_email

            starters.append(("e-mail", None, start_email))
    return starters


async def serve(
    settings: Settings, *, slack_http: bool = False, host: str = "0.0.0.0", port: int = 3000, web: bool = False
) -> None:
    """Verify every configured platform's credentials, then run the adapters and the background
    loops until SIGINT/SIGTERM. An adapter that stops (its token revoked, a bug) is logged in one
    line and the others keep running; when none is left the process ends with AdaptersStopped."""
    if settings.discord_configured:
        try:  # read here, not when Settings load: only the command that starts Discord refuses them
            settings.discord_sharding()
        except ShardSettingsError as problem:
            raise StartupError(f"{problem} (fix it in the environment or .env; see .env.example)") from None
    elif settings.discord_shard_settings_set:
        # a Slack-only deployment reading a shared environment file: nothing here runs Discord
        log.warning("DISCORD_SHARD_* settings ignored: DISCORD_TOKEN is not set, so this process runs no Discord")
    starters = platform_starters(settings)
    if settings.slack_bot_token is None and not settings.discord_configured and not web:
        raise NothingConfigured
    http = HttpHost(host, port)
    options: dict[str, Any] = {"slack_http": slack_http, "host": host, "port": port, "http": http}
    for _name, verify, _start in starters:
        if verify is not None:
            await verify(settings, options)
    app = await build(settings, llm=llm_from_settings(settings))
    status: dict[str, str] = {}
    app.extras["adapter_status"] = status
    platform: dict[asyncio.Future[None], str] = {}
    try:
        for name, _verify, starter in starters:
            for job in await starter(app, settings, options):
                platform[asyncio.ensure_future(job)] = name
                status[name] = "running"
        if web:
            from adapters.web.server import WebRecord

            http.extend(WebRecord(app.db, app.clock).install)
        _add_probes(app, status, http)
        if http.used:
            # one server for Slack's HTTP mode and the web record: the router is complete by now
            platform[asyncio.ensure_future(http.serve())] = "HTTP"
            status["HTTP"] = "running"
        internal = [asyncio.ensure_future(j) for j in app.background()]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        log.info("wgbot running (worker %s): %s", app.worker_id, ", ".join(sorted(set(platform.values()))))
        waiter = asyncio.ensure_future(stop.wait())
        pending: set[asyncio.Future[Any]] = {waiter, *platform, *internal}
        failure: str | None = None
        while failure is None and not waiter.done():
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is waiter:
                    continue
                exc = None if task.cancelled() else task.exception()
                reason = one_line(exc) if exc is not None else "ended"
                if task in platform:
                    status[platform[task]] = "stopped"
                    log.error("%s adapter stopped (%s); the others keep running", platform[task], reason)
                    if not any(t in pending for t in platform):
                        failure = "every chat adapter has stopped"
                else:
                    failure = f"a background loop stopped ({reason})"
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if failure is not None:
            raise AdaptersStopped(failure)
    finally:
        await app.close()


def _add_probes(app: App, status: dict[str, str], http: HttpHost) -> None:
    """/healthz wherever `wgbot run` serves HTTP. Slack's HTTP mode brings its own endpoint: it is
    told about the Discord connection and the engine role too. Without it (`--web` alone, or beside
    Discord or Slack's Socket Mode) the host gets one, reporting the same things. Only what is served
    over that HTTP port (Slack's HTTP mode, the web record) and the database decide the status: the
    Discord gateway and Socket Mode are reported as advisory, so a Discord outage does not make a
    load balancer drop every process and Slack's traffic with them."""
    slack = app.extras.get("slack")
    client = app.extras.get("discord_client")

    def discord_state() -> str:
        if status.get("Discord") == "stopped":
            return "stopped"
        ws = getattr(client, "ws", None)
        ready = getattr(client, "is_ready", lambda: False)() and not getattr(client, "is_closed", lambda: True)()
        return "connected" if ready and ws is not None and ws.open else "connecting"

    def engine_role() -> str:
        return app.leadership.role if app.leadership is not None else "leader"

    probes = getattr(slack, "probes", None)
    roles = getattr(slack, "roles", None)
    if http.serves("/healthz") and isinstance(probes, dict) and isinstance(roles, dict):
        if app.leadership is not None:
            roles["engine"] = engine_role
        if client is not None:
            probes["discord"] = Advisory(discord_state)
        return
    if not http.used:
        return
    own: dict[str, Probe] = {"web": lambda: "connected"}  # it is answering this very request
    if client is not None:
        own["discord"] = Advisory(discord_state)
    if slack is not None:  # Socket Mode: its task running is all this process can tell
        own["slack"] = Advisory(lambda: "stopped" if status.get("Slack") == "stopped" else "connected")
    own_roles: dict[str, Probe] = {"engine": engine_role} if app.leadership is not None else {}

    async def healthz(request: Request) -> Response:
        ok, report = await health(app.db, own, own_roles)
        return json_response(report, status=200 if ok else 503)

    def install(a: Application) -> None:
        a.router.add_get("/healthz", healthz)

    http.extend(install, name="/healthz")
