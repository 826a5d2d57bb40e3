"""A replayed Slack request: a signed request captured (a proxy's log, a compromised host between
Slack and the bot) and sent again within Slack's 5-minute signature window passes the signature check.

Events carry an `event_id` that the core records in the database (a redelivery runs once, whichever
process gets it): those are left to it (`deduplicated_by_event_id`, decided by the body, not by the
Content-Type header). Slash commands and interactivity (buttons, selects, forms, shortcuts) carry nothing
of the kind, and Slack never sends one twice: it does not retry them. So a request of those whose
signature this process has already seen is a replay, and is dropped. The signature is the HMAC of the
timestamp and the body, so one signature is one (timestamp, body) pair; it is kept until its timestamp
leaves the window, after which the signature check refuses the request anyway.

Per process, in memory: nothing is written per command (no database transaction), and a restart forgets
what it saw, as does another process behind the same load balancer — a replay sent to a process that
did not see the original runs there (see the README). Memory is bounded by the window and by `limit`
(past it, the entries closest to leaving the window go first).
"""

from __future__ import annotations

import heapq
import json
from typing import Any

#: Slack's signature window (seconds): `X-Slack-Request-Timestamp` within this of the clock
WINDOW = 5 * 60
#: signatures kept at most; a process handles far fewer Slack commands in five minutes
LIMIT = 100_000


def deduplicated_by_event_id(body: bytes) -> bool:
    """Whether a signed request is one the guard leaves alone: a JSON `event_callback` carrying an
    `event_id` (the core records that id in the database, so a redelivery runs once and Slack's genuine
    retries, which may repeat the very same signed request, still reach it) or a `url_verification`
    (it only echoes its challenge). Every other request is guarded.

    Decided by the body, never by the Content-Type header, which the signature does not cover: Bolt
    reads a body starting with `{` as JSON whatever the header says, and anything else as a form (a
    slash command, or an interaction's `payload`), so a replayed form sent as `text/plain`, as
    `application/octet-stream` or with no Content-Type runs just the same and must be guarded."""
    if not body.startswith(b"{"):  # Bolt's own test (on the UTF-8 text, which starts the same way)
        return False
    try:
        parsed: Any = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return False
    if not isinstance(parsed, dict):
        return False
    if parsed.get("type") == "url_verification":
        return True
    event_id = parsed.get("event_id")
    return parsed.get("type") == "event_callback" and isinstance(event_id, str) and bool(event_id)


class ReplayGuard:
    def __init__(self, *, window: int = WINDOW, limit: int = LIMIT) -> None:
        self.window = window
        self.limit = limit
        self._seen: set[str] = set()
        self._expiry: list[tuple[float, str]] = []  # (when the signature leaves the window, signature)

    def __len__(self) -> int:
        return len(self._seen)

    def first_time(self, signature: str, timestamp: int, now: float) -> bool:
        """True the first time `signature` (made at `timestamp`) is seen within the window, and remember
        it; False for a replay. No await inside: check and record are one step on the event loop."""
        while self._expiry and self._expiry[0][0] < now:
            self._seen.discard(heapq.heappop(self._expiry)[1])
        if signature in self._seen:
            return False
        while len(self._seen) >= self.limit:
            self._seen.discard(heapq.heappop(self._expiry)[1])
        self._seen.add(signature)
        heapq.heappush(self._expiry, (timestamp + self.window, signature))
        return True
