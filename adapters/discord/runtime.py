"""`wgbot run` with DISCORD_TOKEN set: build the client, register the outbox sender, run the gateway
(every shard, or DISCORD_SHARD_IDS of DISCORD_SHARD_COUNT: adapters/discord/client.py).

`DISCORD_API_BASE` / `DISCORD_GATEWAY_URL` point discord.py at a Discord-compatible server (a
self-hosted Spacebar instance, the tests' loopback server). discord.py keeps both as class-level
settings (`Route.BASE`, `DiscordWebSocket.DEFAULT_GATEWAY`), so they are set for the whole process,
and reset to Discord's own when unset so that one process never inherits another's choice.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from typing import Any

import aiohttp
import discord
import discord.http
import yarl
from discord.gateway import DiscordWebSocket

from adapters.discord.client import WgClient
from adapters.discord.sender import DiscordSender
from adapters.discord.threads import DiscordThreadSource
from adapters.runtime import StartupError, one_line
from bot.bootstrap import App
from bot.config import Settings

DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg/"


def api_base(value: str | None) -> str:
    """`https://host` or `https://host/api` or `https://host/api/v10` → the versioned base URL."""
    if not value:
        return DISCORD_API_BASE
    base = value.rstrip("/")
    if re.search(r"/api/v\d+$", base):
        return base
    if base.endswith("/api"):
        return f"{base}/v10"
    return f"{base}/api/v10"


def configure_endpoints(settings: Settings) -> None:
    discord.http.Route.BASE = api_base(settings.discord_api_base)
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url or DISCORD_GATEWAY)


def create_client(app: App, settings: Settings, options: dict[str, Any]) -> WgClient:
    """The client with its sender and thread source registered on the app (no network yet)."""
    configure_endpoints(settings)
    extra: dict[str, Any] = {}
    if "discord_defer_after" in options:
        extra["defer_after"] = float(options["discord_defer_after"])
    if "discord_identify_delay" in options:
        extra["identify_delay"] = float(options["discord_identify_delay"])
    if "discord_guild_ready_timeout" in options:
        extra["guild_ready_timeout"] = float(options["discord_guild_ready_timeout"])
    sharding = settings.discord_sharding()  # `serve` has refused settings that do not fit together
    if sharding is not None:
        extra.update(shard_ids=sharding[0], shard_count=sharding[1])
    client = WgClient(app.core, fixed_gateway=settings.discord_gateway_url is not None, **extra)
    app.dispatcher.add_sender(DiscordSender(client))
    app.extras["discord_client"] = client
    sources = app.extras.setdefault("thread_sources", {})
    if isinstance(sources, dict):
        sources["discord"] = DiscordThreadSource(client)
    return client


async def verify(settings: Settings, options: dict[str, Any]) -> None:
    """Before anything starts: log in once (GET /users/@me) to learn whether Discord accepts the token."""
    if settings.discord_token is None:
        return
    configure_endpoints(settings)
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(settings.discord_token.get_secret_value())
    except discord.LoginFailure:
        raise StartupError(
            "DISCORD_TOKEN was refused by Discord (401): copy the bot token again from the Developer Portal "
            "(Bot → Reset Token)."
        ) from None
    except discord.HTTPException as exc:
        raise StartupError(f"Discord refused the login ({exc.status} {one_line(exc)}): check DISCORD_TOKEN.") from None
    except (TimeoutError, OSError, aiohttp.ClientError) as exc:
        raise StartupError(f"cannot reach Discord at {discord.http.Route.BASE}: {one_line(exc)}") from None
    finally:
        await http.close()


async def run_client(client: WgClient, token: str) -> None:
    async with client:
        await client.start(token)


async def start(app: App, settings: Settings, options: dict[str, Any]) -> list[Awaitable[None]]:
    if settings.discord_token is None:
        return []
    client = create_client(app, settings, options)
    return [run_client(client, settings.discord_token.get_secret_value())]
