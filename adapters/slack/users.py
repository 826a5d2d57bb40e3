"""Who a Slack user is: display name and time zone from `users.info`, cached.

`users.info` is rate limited (Tier 4); it is only needed when someone joins (their Slack `tz`
becomes their default zone) and to name thread authors for summaries, so answers are kept for an
hour and failures degrade to the user id rather than failing the command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackUser:
    user_id: str
    name: str
    timezone: str | None


class UserDirectory:
    def __init__(
        self, client: AsyncWebClient, *, ttl: float = 3600.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, SlackUser]] = {}

    async def get(self, user_id: str) -> SlackUser:
        hit = self._cache.get(user_id)
        now = self._monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            resp = await self.client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return SlackUser(user_id, user_id, None)
        data = resp.get("user") or {}
        profile = data.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or data.get("real_name") or data.get("name")
        user = SlackUser(user_id, str(name or user_id), data.get("tz") or None)
        self._cache[user_id] = (now + self.ttl, user)
        if len(self._cache) > 5000:
            self._cache.pop(next(iter(self._cache)))
        return user
