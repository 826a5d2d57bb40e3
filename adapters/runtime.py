"""`wgbot run`: the long-running process. Builds the app, adds a sender per configured platform,
starts the scheduler and the outbox dispatcher, and runs until interrupted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.llm import llm_from_settings
from bot.bootstrap import App, build
from bot.config import Settings

log = logging.getLogger(__name__)


class NothingConfigured(Exception):
    pass


#: a platform starter adds its sender to the app and returns the coroutines to run
Starter = Callable[[App, Settings, dict[str, Any]], Awaitable[list[Awaitable[None]]]]


def platform_starters(settings: Settings) -> list[Starter]:
    starters: list[Starter] = []
    if settings.slack_configured:
        from adapters.slack.runtime import start as start_slack

        starters.append(start_slack)
    if settings.discord_configured:
        from adapters.discord.runtime import start as start_discord

        starters.append(start_discord)
    if settings.smtp_configured:
        with contextlib.suppress(ModuleNotFoundError):
            from adapters.email.runtime import start as start_email

            starters.append(start_email)
    return starters


async def serve(settings: Settings, *, slack_http: bool = False, host: str = "0.0.0.0", port: int = 3000) -> None:
    starters = platform_starters(settings)
    if not (settings.slack_configured or settings.discord_configured):
        raise NothingConfigured
    app = await build(settings, llm=llm_from_settings(settings))
    options = {"slack_http": slack_http, "host": host, "port": port}
    jobs: list[Awaitable[None]] = []
    for starter in starters:
        jobs += await starter(app, settings, options)
    jobs += app.background()
    tasks = [asyncio.ensure_future(j) for j in jobs]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    log.info("wgbot running (worker %s)", app.worker_id)
    waiter = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not waiter and task.exception():
            log.error("a component stopped: %r", task.exception())
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await app.close()
