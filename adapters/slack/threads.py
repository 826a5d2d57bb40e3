"""Reading a Slack thread for summaries: conversations.replies, page by page, with permalinks.

Permalinks are built from the workspace URL (`auth.test`, asked once) rather than one
chat.getPermalink call per message, which would cost a rate-limited call for every line of a long
thread; chat.getPermalink is the fallback when the workspace URL is unknown (it is asked once, for
the parent, and the thread links derived from it).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.text import decode
from adapters.slack.users import UserDirectory
from bot.threads import ChatLine

log = logging.getLogger(__name__)
PAGE = 200
SKIPPED_SUBTYPES = frozenset({"channel_join", "channel_leave", "bot_add", "bot_remove"})


def permalink(workspace_url: str, channel_id: str, ts: str, thread_ts: str) -> str:
    base = workspace_url if workspace_url.endswith("/") else workspace_url + "/"
    link = f"{base}archives/{channel_id}/p{ts.replace('.', '')}"
    if ts != thread_ts:
        link += f"?thread_ts={thread_ts}&cid={channel_id}"
    return link


class SlackThreadSource:
    platform = "slack"

    def __init__(self, client: AsyncWebClient, users: UserDirectory | None = None) -> None:
        self.client = client
        self.users = users or UserDirectory(client)
        self._workspace_url: str | None = None

    async def _base_url(self, channel_id: str, thread_id: str) -> str | None:
        if self._workspace_url is None:
            try:
                self._workspace_url = str((await self.client.auth_test()).get("url") or "") or None
            except SlackApiError:
                self._workspace_url = None
        if self._workspace_url:
            return self._workspace_url
        try:
            link = str((await self.client.chat_getPermalink(channel=channel_id, message_ts=thread_id))["permalink"])
        except (SlackApiError, KeyError):
            return None
        return link.split("archives/", 1)[0] if "archives/" in link else None

    async def fetch_thread(self, channel_id: str, thread_id: str, *, limit: int = 1000) -> list[ChatLine]:
        raw: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        while len(raw) < limit:
            resp = await self.client.conversations_replies(
                channel=channel_id, ts=thread_id, limit=min(PAGE, limit), cursor=cursor
            )
            for message in resp.get("messages") or []:
                ts = str(message.get("ts") or "")
                if ts and ts not in raw and message.get("subtype") not in SKIPPED_SUBTYPES:
                    raw[ts] = message
            cursor = ((resp.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                break
        base = await self._base_url(channel_id, thread_id)
        lines: list[ChatLine] = []
        for ts in sorted(raw, key=float)[:limit]:
            message = raw[ts]
            author = str(message.get("user") or message.get("bot_id") or "unknown")
            name = (
                (await self.users.get(author)).name if message.get("user") else str(message.get("username") or author)
            )
            lines.append(
                ChatLine(
                    platform="slack",
                    message_id=ts,
                    author_id=author,
                    author_name=name,
                    text=decode(str(message.get("text") or "")),
                    at=datetime.fromtimestamp(float(ts), UTC),
                    link=permalink(base, channel_id, ts, thread_id) if base else None,
                )
            )
        return lines
