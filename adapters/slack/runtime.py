"""`wgbot run` for Slack: Socket Mode when SLACK_APP_TOKEN is set, else (or with --slack-http) HTTP.

Socket Mode needs no public URL and suits one process for a small group. HTTP mode serves
`/slack/events` for deployments behind a proxy and for several processes behind one URL (event
deduplication and the outbox claim work across processes because both live in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.httphost import HttpHost
from adapters.runtime import StartupError, one_line
from adapters.slack.app import SlackAdapter
from adapters.slack.client import api_url, interactive_client, web_client
from adapters.slack.sender import SlackSender
from adapters.slack.threads import SlackThreadSource
from bot.bootstrap import App
from bot.config import Settings

log = logging.getLogger(__name__)


class SlackConfigError(StartupError):
    pass


def create_adapter(app: App, settings: Settings, *, min_interval: float = 1.0) -> SlackAdapter:
    """Build the adapter, register its outbox sender and thread source on the app."""
    if settings.slack_bot_token is None:
        raise SlackConfigError("SLACK_BOT_TOKEN is not set")
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    adapter = SlackAdapter(
        app.core, interactive_client(settings), signing_secret=secret, concurrency=settings.slack_concurrent_commands
    )
    app.dispatcher.add_sender(
        SlackSender(web_client(settings), min_interval=min_interval, per_second=settings.slack_posts_per_second)
    )
    app.extras["slack"] = adapter
    sources = app.extras.setdefault("thread_sources", {})
    assert isinstance(sources, dict)
    sources["slack"] = SlackThreadSource(adapter.client, adapter.users)
    return adapter


@dataclass
class HttpServer:
    runner: web.AppRunner
    host: str
    port: int

    async def close(self) -> None:
        await self.runner.cleanup()


async def open_http(adapter: SlackAdapter, host: str, port: int) -> HttpServer:
    """Serve /slack/events; port 0 picks a free port (tests), reported in `HttpServer.port`."""
    runner = web.AppRunner(adapter.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    actual = sockets[0].getsockname()[1] if sockets else port
    return HttpServer(runner, host, actual)


async def _serve_http(adapter: SlackAdapter, host: str, port: int) -> None:
    server = await open_http(adapter, host, port)
    log.info("Slack HTTP mode: serving /slack/events on %s:%s", host, server.port)
    try:
        await asyncio.Event().wait()
    finally:
        await adapter.tasks.join()
        await server.close()
        await adapter.close()


async def _serve_socket_mode(adapter: SlackAdapter, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(adapter.app, app_token, web_client=adapter.client)
    await handler.connect_async()
    log.info("Slack Socket Mode connected")
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await handler.close_async()
        await adapter.tasks.join()
        await adapter.close()


async def verify(settings: Settings, options: dict[str, Any]) -> None:
    """Before anything starts: is the configuration complete, and does Slack accept the tokens?
    Raises StartupError with one line naming the variable to fix."""
    if settings.slack_bot_token is None:
        return
    socket_mode = settings.slack_app_token is not None and not options.get("slack_http")
    if not socket_mode and settings.slack_signing_secret is None:
        needs = "" if settings.slack_app_token is None else " (--slack-http ignores SLACK_APP_TOKEN)"
        raise StartupError(
            f"SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) "
            f"is{needs}: set one (the app's Basic Information page)."
        )
    try:
        await web_client(settings).auth_test()
    except SlackApiError as exc:
        raise StartupError(
            f"SLACK_BOT_TOKEN was refused by Slack ({exc.response.get('error')}): copy the Bot User OAuth Token "
            "(xoxb-…) from OAuth & Permissions again, or reinstall the app."
        ) from None
    except (TimeoutError, OSError, aiohttp.ClientError) as exc:
        raise StartupError(f"cannot reach Slack at {api_url(settings)}: {one_line(exc)}") from None
    if socket_mode:
        assert settings.slack_app_token is not None
        try:
            await AsyncWebClient(base_url=api_url(settings), timeout=15).apps_connections_open(
                app_token=settings.slack_app_token.get_secret_value()
            )
        except SlackApiError as exc:
            raise StartupError(
                f"SLACK_APP_TOKEN was refused by Slack ({exc.response.get('error')}): it must be an app-level token "
                "(xapp-…) with connections:write, and Socket Mode must be on."
            ) from None
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            raise StartupError(f"cannot reach Slack at {api_url(settings)}: {one_line(exc)}") from None


async def start(app: App, settings: Settings, options: dict[str, Any]) -> list[Awaitable[None]]:
    adapter = create_adapter(app, settings)
    if settings.slack_app_token is not None and not options.get("slack_http"):
        return [_serve_socket_mode(adapter, settings.slack_app_token.get_secret_value())]
    if settings.slack_signing_secret is None:
        raise SlackConfigError(
            "Slack HTTP mode needs SLACK_SIGNING_SECRET (Basic Information → App Credentials); "
            "or set SLACK_APP_TOKEN to use Socket Mode."
        )
    if not options.get("slack_http"):
        log.info("no SLACK_APP_TOKEN: serving Slack over HTTP (as with --slack-http)")
    host = options.get("http")
    if isinstance(host, HttpHost):
        # `wgbot run` serves one HTTP host for every adapter (Slack events and the web record)
        host.mount(adapter.web_app())
        return [_wait_then_join(adapter)]
    return [_serve_http(adapter, str(options.get("host", "0.0.0.0")), int(options.get("port", 3000)))]


async def _wait_then_join(adapter: SlackAdapter) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await adapter.tasks.join()
        await adapter.close()
