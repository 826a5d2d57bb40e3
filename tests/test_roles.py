"""Observers read and do nothing else: every registered write command refuses them.

The test walks HANDLERS, so a command added later is covered without anyone remembering to add it:
it is either read-only (listed below, and checked to change nothing), about the speaker's own
membership (listed below), or it must refuse an observer.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.grammar import SPECS, quote
from bot.services.context import HANDLERS
from tests.conftest import Harness, table_snapshot


async def refused(h: Harness, who: str, text: str, *, channel: str = "wg") -> str:
    before = await table_snapshot(h.app.db)
    sent_before = len(h.sent())
    r = await h.say(who, text, channel=channel)
    assert len(r.replies) == 1 and r.replies[0].kind == "error" and r.replies[0].private, (text, r)
    assert await table_snapshot(h.app.db) == before, text
    assert len(h.sent()) == sent_before, text
    return r.replies[0].to_text()


#: commands that only read (an observer may run them; running them changes nothing)
READ_ONLY = {
    "help",
    "me",
    "todo",
    "proposals",
    "show",
    "agenda",
    "ics",
    "meeting.suggest",
    "results",
    "queue",
    "digest.preview",
}
#: commands about the speaker's own membership and data, which observers keep
SELF_SERVICE = {
    "join",
    "link",
    "privacy.opt-out",
    "privacy.opt-in",
    "privacy.export",
    "privacy.erase",
    "digest.subscribe",
    "digest.unsubscribe",
    "live.here",  # attendance: observers attend a live session, they only cannot write in it
}
#: commands whose bare form only reads: their sample must write
_WRITING_FORM = {"settings": "/wg settings tz:Europe/Paris"}
_SAMPLE = {"member": "ana", "role": "member", "group": "academia", "answer": "yes", "status": "all"}


def sample_command(name: str) -> str:
    """A command line the grammar accepts for `name`, with placeholder values."""
    if name in _WRITING_FORM:
        return _WRITING_FORM[name]
    spec = SPECS[name]
    ids = re.findall(r"\b([A-Z])<n>", spec.usage)
    parts = ["/wg", *spec.words]
    for p in spec.positional:
        if p == "id":
            parts.append(f"{ids[0] if ids else 'P'}1")
        else:
            parts.append(quote(_SAMPLE.get(p, "some text")))
    if spec.rest is not None and spec.rest_required:
        parts.append("some text")
    return " ".join(parts)


async def _with_observer(h: Harness) -> None:
    await h.say("ana", "/wg join civil-society")
    await h.say("ana", '/wg propose "Open data" A proposal.')
    await h.say("ana", '/wg meeting "Sync" at:"2026-01-06 10:00"')
    await h.say("ana", '/wg checkin "How is it going?" every:weekly')
    await h.say("olga", "/wg join government")
    await h.say("ana", "/wg role olga observer")


async def test_every_write_command_refuses_an_observer(harness: Harness) -> None:
    await _with_observer(harness)
    write = sorted(set(HANDLERS) - READ_ONLY - SELF_SERVICE)
    assert {"propose", "amend", "withdraw", "rsvp", "answer"} <= set(write)
    for name in write:
        harness.clock.advance(timedelta(seconds=3))  # stay under the per-person command limit (not tested here)
        # (bind where the channel is bound already only says so; an unbound channel is the real test)
        text = await refused(harness, "olga", sample_command(name), channel="other" if name == "bind" else "wg")
        assert "Observers can read but not" in text or "Only a convener" in text, (name, text)


async def test_read_only_commands_change_nothing(harness: Harness) -> None:
    await _with_observer(harness)
    for name in sorted(READ_ONLY & set(HANDLERS)):
        before = await table_snapshot(harness.app.db)
        r = await harness.say("olga", sample_command(name))
        assert r.replies, name
        assert await table_snapshot(harness.app.db) == before, name


@pytest.mark.parametrize(
    ("command", "what"),
    [
        ('/wg propose "T" body', "make proposals"),
        ("/wg amend P1 new text", "amend proposals"),
        ("/wg withdraw P1", "withdraw proposals"),
        ("/wg rsvp M1 yes", "answer meeting invitations"),
        ("/wg answer C1 fine", "answer check-ins"),
    ],
)
async def test_observer_refusals_say_why(harness: Harness, command: str, what: str) -> None:
    await _with_observer(harness)
    text = await refused(harness, "olga", command)
    assert f"Observers can read but not {what}" in text
    # as a member, the same command is no longer refused for being an observer
    await harness.say("ana", "/wg role olga member")
    r = await harness.say("olga", command)
    assert r.replies and "Observers" not in r.replies[0].to_text()
