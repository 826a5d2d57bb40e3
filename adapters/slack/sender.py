"""The outbox's Slack sender: announcements, reminders, check-ins and digests posted with chat.postMessage.

Why it looks like this:
- Slack allows about one chat.postMessage per second per channel (bursts are tolerated briefly); the
  sender waits between posts to one channel instead of provoking 429s. Waiting happens in the
  sender, per channel, so other destinations keep flowing (the dispatcher sends them concurrently).
  Across channels it keeps to `per_second` posts (SLACK_POSTS_PER_SECOND, the workspace's overall
  limit): posts take evenly spaced slots, so a digest to 1,000 members goes out at that rate rather
  than as a burst answered by 429s.
- A 429 is not retried here: the client has no RateLimitErrorRetryHandler, so the error reaches us
  and becomes `DeliveryError(retry_after=Retry-After)`; the outbox records it and sends the message
  again when it falls due, surviving a restart in between. 5xx and network errors are transient
  too; errors that retrying cannot fix (channel gone, bot removed, bad blocks) are permanent.
- A reply longer than one message is sent as pages; each delivered page is recorded in the outbox
  row (`Outgoing.page_sent`, committed before the next page goes), so a retry after a 429 on page 2
  — or a restart after a crash there — does not repeat page 1.
- `not_in_channel` on a public channel: the bot joins it (channels:join) and posts again, so binding
  a channel does not also require inviting the bot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import Message, render_reply, render_single
from bot.outbox import DeliveryError, Outgoing

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "ekm_access_denied",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "team_access_not_granted",
        "as_user_not_supported",
    }
)


def parse_address(address: str) -> tuple[str, str | None]:
    """`channel:C1` → (C1, None); `thread:C1/1700.1` → (C1, 1700.1); `dm:U1` → (U1, None).

    Posting to a user id delivers to the app's direct message with that user (chat:write), without a
    conversations.open round trip.
    """
    kind, _, rest = address.partition(":")
    if kind == "channel" and rest:
        return rest, None
    if kind == "thread" and "/" in rest:
        channel, _, ts = rest.partition("/")
        return channel, ts
    if kind == "dm" and rest:
        return rest, None
    raise DeliveryError(f"not a Slack address: {address[:60]}", permanent=True)


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def delivery_error(exc: SlackApiError, what: str) -> DeliveryError:
    """Classify a Slack error for the outbox: when to retry and whether retrying can help."""
    status = exc.response.status_code
    error = str(exc.response.get("error") or "")
    retry_after = _header(exc.response.headers, "Retry-After")
    wait: float | None
    try:
        wait = float(retry_after) if retry_after is not None else None
    except ValueError:
        wait = None
    if status == 429 or error == "ratelimited":
        return DeliveryError(f"{what}: rate limited", retry_after=wait if wait is not None else 1.0)
    if status >= 500:
        return DeliveryError(f"{what}: Slack answered {status}", retry_after=wait)
    if error in PERMANENT_ERRORS:
        return DeliveryError(f"{what}: {error}", permanent=True)
    return DeliveryError(f"{what}: {error or status}")


#: posts allowed back to back across channels when catching up (Slack tolerates short bursts)
OVERALL_BURST = 3


class SlackSender:
    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        min_interval: float = 1.0,
        per_second: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.min_interval = min_interval
        #: the spacing of posts across all channels (None: only the per-channel pacing)
        self.overall_interval = 1.0 / per_second if per_second else 0.0
        self._next_slot = 0.0
        self._overall = asyncio.Lock()
        self._monotonic = monotonic
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def send(self, message: Outgoing) -> str | None:
        channel, thread_ts = parse_address(message.destination.address)
        pages = render_reply(message.reply)
        first_ts = message.first_ref
        for index in range(message.pages_sent, len(pages)):
            ts = await self._post(channel, thread_ts, pages[index], label=message.destination.label)
            first_ts = first_ts or ts
            if index + 1 < len(pages):
                await message.page_sent(index + 1, first_ts)
        return first_ts

    async def edit(self, message: Outgoing) -> str | None:
        """Replace a sent message (its first page) in place: chat.update with the original's ts."""
        channel, _ = parse_address(message.destination.address)
        assert message.edit_ref is not None
        page = render_single(message.reply)
        try:
            await self.client.chat_update(channel=channel, ts=message.edit_ref, text=page.text, blocks=page.blocks)
        except SlackApiError as exc:
            raise delivery_error(exc, f"chat.update in {message.destination.label}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"chat.update in {message.destination.label}: {type(exc).__name__}") from None
        return message.edit_ref

    async def _post(self, channel: str, thread_ts: str | None, page: Message, *, label: str) -> str | None:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            last = self._last.get(channel)
            if last is not None:
                wait = last + self.min_interval - self._monotonic()
                if wait > 0:
                    await self._sleep(wait)
            if self.overall_interval:
                # a generic cell rate algorithm, one post at a time: slots `overall_interval` apart
                # on a fixed schedule (no drift from late wake-ups), and after the event loop
                # stalls at most OVERALL_BURST posts go at once to catch up
                async with self._overall:
                    now = self._monotonic()
                    tat = max(self._next_slot, now)
                    wait = tat - (OVERALL_BURST - 1) * self.overall_interval - now
                    if wait > 0:
                        await self._sleep(wait)
                    self._next_slot = tat + self.overall_interval
            try:
                return await self._post_once(channel, thread_ts, page, label=label, may_join=True)
            finally:
                self._last[channel] = self._monotonic()

    async def _post_once(
        self, channel: str, thread_ts: str | None, page: Message, *, label: str, may_join: bool
    ) -> str | None:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": page.text,
            "blocks": page.blocks,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        try:
            resp = await self.client.chat_postMessage(**kwargs)
        except SlackApiError as exc:
            if may_join and exc.response.get("error") == "not_in_channel" and await self._join(channel):
                return await self._post_once(channel, thread_ts, page, label=label, may_join=False)
            raise delivery_error(exc, f"chat.postMessage to {label}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"chat.postMessage to {label}: {type(exc).__name__}") from None
        ts = resp.get("ts")
        return str(ts) if ts else None

    async def _join(self, channel: str) -> bool:
        try:
            await self.client.conversations_join(channel=channel)
        except SlackApiError as exc:
            log.warning("cannot join Slack channel %s: %s", channel, exc.response.get("error"))
            return False
        return True
