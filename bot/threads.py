"""The port through which the core reads a discussion thread (for summaries and digests).

Each platform adapter implements `ThreadSource` with its own history API (Slack
conversations.replies, Discord channel.history), paging through long threads and giving each
message a link back to its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ChatLine:
    platform: str
    message_id: str
    author_id: str
    author_name: str
    text: str
    at: datetime
    #: a permalink / jump link to the message, when the platform has one
    link: str | None = None


class ThreadSource(Protocol):
    platform: str

    async def fetch_thread(self, channel_id: str, thread_id: str, *, limit: int = 1000) -> list[ChatLine]:
        """The thread's messages, oldest first (the parent message included), up to `limit`."""
        ...
