"""Chat messages typed in the console or a simulation script, kept in memory for summaries.

`bob [t1]: text` is a message in thread t1 of the channel. The console has no history API, so this
log is its `ThreadSource`; one log serves the three simulated platforms (each keyed apart), and it
lives as long as the process — which is also all the caching thread text needs.
"""

from __future__ import annotations

from collections import defaultdict

from bot.clock import Clock
from bot.command import UserRef, Where
from bot.threads import ChatLine


class ChatLog:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._threads: dict[tuple[str, str, str], list[ChatLine]] = defaultdict(list)
        self._count = 0

    async def record(self, user: UserRef, where: Where, text: str) -> None:
        if where.thread_id is None:
            return  # only threads are summarized
        self._count += 1
        self._threads[(where.platform, where.channel_id, where.thread_id)].append(
            ChatLine(
                platform=where.platform,
                message_id=str(self._count),
                author_id=user.user_id,
                author_name=user.handle,
                text=text,
                at=self.clock.now(),
            )
        )

    def source(self, platform: str) -> ChatLogSource:
        return ChatLogSource(self, platform)

    def lines(self, platform: str, channel_id: str, thread_id: str, limit: int) -> list[ChatLine]:
        return list(self._threads.get((platform, channel_id, thread_id), []))[:limit]


class ChatLogSource:
    def __init__(self, log: ChatLog, platform: str) -> None:
        self.log = log
        self.platform = platform

    async def fetch_thread(self, channel_id: str, thread_id: str, *, limit: int = 1000) -> list[ChatLine]:
        return self.log.lines(self.platform, channel_id, thread_id, limit)
