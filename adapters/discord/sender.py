"""The outbox's Discord sender: announcements, reminders, check-ins and digests, by channel, thread or DM.

Idempotency: each Discord message carries a `nonce` derived from the outbox key, and discord.py 2.7's
`Messageable.send` adds `enforce_nonce: true` whenever a nonce is given (checked by the tests on the
recorded request), so if the outbox sends a row again after a crash, Discord drops the duplicate
within its dedupe window instead of posting it twice.

Rate limits: requests go through discord.py's HTTP client, whose per-route buckets and global
limiter wait out 429s; on top of that the sender caps how many Discord sends run at once, so a
backlog after downtime is drained steadily instead of flooding the limiter.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

import aiohttp
import discord

from adapters.discord.render import render, render_update
from bot.outbox import DeliveryError, Outgoing

log = logging.getLogger(__name__)

NONCE_MAX = 25
CONCURRENCY = 4


def nonce_for(key: str, part: int = 0) -> str:
    """A stable nonce (≤ 25 characters, as Discord requires) for part `part` of the message `key`."""
    digest = hashlib.sha256(f"{key}#{part}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 1)[:NONCE_MAX]


class DiscordSender:
    platform = "discord"

    def __init__(self, client: discord.Client, *, concurrency: int = CONCURRENCY) -> None:
        self.client = client
        self._limit = asyncio.Semaphore(concurrency)

    async def _destination(self, address: str) -> discord.abc.Messageable:
        kind, _, rest = address.partition(":")
        try:
            if kind == "channel":
                return self.client.get_partial_messageable(int(rest))
            if kind == "thread":
                _parent, _, thread = rest.partition("/")
                return self.client.get_partial_messageable(int(thread))
            if kind == "dm":
                return await self.client.create_dm(discord.Object(int(rest)))
        except ValueError:
            pass
        raise DeliveryError(f"not a Discord address: {address[:60]}", permanent=True)

    async def edit(self, message: Outgoing) -> str | None:
        """Replace a sent message in place (its embeds and components)."""
        assert message.edit_ref is not None
        kind, _, rest = message.destination.address.partition(":")
        channel = rest.partition("/")[2] if kind == "thread" else rest
        if kind not in ("channel", "thread") or not channel.isdigit() or not message.edit_ref.isdigit():
            raise DeliveryError(f"cannot edit a message at {message.destination.address[:60]}", permanent=True)
        msg = render_update(message.reply)
        async with self._limit:
            try:
                target = self.client.get_partial_messageable(int(channel)).get_partial_message(int(message.edit_ref))
                await target.edit(
                    content=msg.content or None,
                    embeds=msg.embeds,
                    view=msg.view,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            except (discord.Forbidden, discord.NotFound) as exc:
                raise DeliveryError(f"Discord refused the edit ({exc.status})", permanent=True) from exc
            except discord.HTTPException as exc:
                raise DeliveryError(f"Discord edit failed ({exc.status})", retry_after=30) from exc
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise DeliveryError(f"cannot reach Discord: {type(exc).__name__}") from exc
        return message.edit_ref

    async def send(self, message: Outgoing) -> str | None:
        if self.client.http.token is None:
            raise DeliveryError("the Discord client is not logged in yet", retry_after=5)
        async with self._limit:
            try:
                target = await self._destination(message.destination.address)
                last: discord.Message | None = None
                for part, msg in enumerate(render(message.reply)):
                    files = msg.files()
                    last = await target.send(
                        content=msg.content,
                        embeds=msg.embeds,
                        view=msg.view,  # type: ignore[arg-type]
                        files=files or None,  # type: ignore[arg-type]
                        nonce=nonce_for(message.key, part),
                        allowed_mentions=discord.AllowedMentions.none(),
                    )
                return str(last.id) if last is not None else None
            except (discord.Forbidden, discord.NotFound) as exc:
                raise DeliveryError(f"Discord refused ({exc.status}): {exc.text[:200]}", permanent=True) from exc
            except discord.DiscordServerError as exc:
                raise DeliveryError(f"Discord server error {exc.status}") from exc
            except discord.HTTPException as exc:
                if exc.status == 429:
                    raise DeliveryError("Discord rate limit", retry_after=30) from exc
                raise DeliveryError(
                    f"Discord rejected the message ({exc.status}): {exc.text[:200]}", permanent=True
                ) from exc
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise DeliveryError(f"cannot reach Discord: {type(exc).__name__}") from exc
