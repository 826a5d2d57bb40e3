"""`wgbot simulate`: replay a script against a database on a virtual clock, printing all that is sent.

Script lines (see SPEC.md): `@<ISO time>` sets the start (first line) or moves the clock forward;
`+90m` advances it, firing every job that falls due in time order; `name[@platform] [thread]: text`
is a message — `/wg …` a command, anything else chat. Output is deterministic: the random source is
seeded, ids come from the database, and every timestamp from the virtual clock.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from adapters.console.chatlog import ChatLog
from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.command import PLATFORMS, UserRef, Where
from bot.config import Settings
from bot.outbox import Outgoing
from bot.reply import Actions, Block, Button, Reply
from bot.vocab import DEFAULT_THEMES
from storage.db import Database
from storage.models import Channel, WorkingGroup

DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SIM_CHANNEL = "wg"
_SPEAKER = re.compile(
    r"^(?P<name>[A-Za-z0-9_.\-]+)(?:@(?P<platform>[a-z]+))?\s*(?:\[(?P<thread>[^\]]+)\])?\s*:\s?(?P<text>.*)$"
)
_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|s)")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
#: the longest step a script may take at once (about ten years, as for any span people type)
MAX_ADVANCE = timedelta(days=3660)
#: script times stay well inside the calendar: the bot looks years ahead (leases, series, the five-year
#: horizon of a meeting), and every one of those dates must exist
FIRST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LAST_TIME = datetime(9000, 1, 1, tzinfo=UTC)


class ScriptError(ValueError):
    def __init__(self, line_no: int, message: str) -> None:
        super().__init__(f"line {line_no}: {message}")


def parse_advance(text: str) -> timedelta:
    """`90m`, `2h`, `1d12h`, `1w` → a timedelta."""
    t = text.strip().replace(" ", "")
    if not t or _DURATION.sub("", t) != "":
        raise ValueError(f"cannot read `{text[:40]}` as a duration (use e.g. 90m, 2h, 1d12h)")
    delta = timedelta()
    try:
        for amount, unit in _DURATION.findall(t):
            if len(amount) > 9:
                raise OverflowError
            delta += timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        delta = MAX_ADVANCE * 2
    if delta > MAX_ADVANCE:
        raise ValueError(f"`{text[:40]}` is too long a step; advance at most {MAX_ADVANCE.days} days at a time")
    return delta


def parse_time(text: str) -> datetime:
    t = text.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(t)
        at = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except ValueError:
        raise ValueError(f"cannot read `{text[:60]}` as an ISO 8601 time") from None
    except OverflowError:  # 0001-01-01T00:00+01:00: before the first representable instant
        at = FIRST_TIME - timedelta(days=1)
    if not FIRST_TIME <= at < LAST_TIME:
        raise ValueError(
            f"`{text[:60]}` is outside the years a simulation runs in ({FIRST_TIME.year} to {LAST_TIME.year - 1})"
        )
    return at


def _later(now: datetime, delta: timedelta) -> datetime:
    if now + delta >= LAST_TIME:
        raise ValueError(f"that moves the clock past the years a simulation runs in (to {LAST_TIME.year - 1})")
    return now + delta


@dataclass
class Event:
    """One thing the bot sent, as the simulation prints it."""

    at: datetime
    platform: str
    to: str
    kind: str
    text: str

    def as_json(self) -> str:
        return json.dumps(
            {
                "at": self.at.isoformat().replace("+00:00", "Z"),
                "platform": self.platform,
                "to": self.to,
                "text": self.text,
                "kind": self.kind,
            },
            ensure_ascii=False,
        )

    def as_text(self) -> str:
        head = f"[{self.at:%Y-%m-%d %H:%M} UTC] {self.platform} {self.to} ({self.kind})"
        body = "\n".join("    " + line for line in self.text.splitlines())
        return f"{head}\n{body}"


def as_email(message: Outgoing) -> str:
    """An e-mail's text as its reader sees it: a digest's unsubscribe button is no command for them to
    type but the e-mail's footer (adapters/email/render.py; here without WGBOT_PUBLIC_URL's link)."""
    from bot.emaillinks import UNSUBSCRIBE_ACTION

    reply = message.reply

    def unsubscribe(block: Block) -> bool:
        return isinstance(block, Actions) and all(
            isinstance(el, Button) and el.action == UNSUBSCRIBE_ACTION for el in block.elements
        )

    if not any(unsubscribe(b) for b in reply.blocks):
        return reply.to_text()
    from adapters.email.render import footer

    body = reply.model_copy(update={"blocks": [b for b in reply.blocks if not unsubscribe(b)]}).to_text()
    return body + "\n" + footer(message.kind, message.destination.address.removeprefix("email:"))


class RecordingSender:
    """Delivers outbox messages of one platform to the simulation's output, in-process (exactly once)."""

    def __init__(self, platform: str, clock: VirtualClock, emit: Callable[[Event], None]) -> None:
        self.platform = platform
        self.clock = clock
        self.emit = emit

    async def send(self, message: Outgoing) -> str | None:
        label = message.destination.label
        text = as_email(message) if self.platform == "email" else message.reply.to_text()
        self.emit(Event(self.clock.now(), self.platform, label, message.kind, text))
        return f"{message.id}"

    async def edit(self, message: Outgoing) -> str | None:
        """An earlier message replaced in place (a vote card with fresh counts): printed as such."""
        text = "(edits the earlier message)\n" + message.reply.to_text()
        self.emit(Event(self.clock.now(), self.platform, message.destination.label, message.kind, text))
        return message.edit_ref


async def ensure_sim_group(app: App) -> None:
    """A fresh simulation has one WG `wg` (UTC, digest Monday 09:00) bound to `wg` on every platform."""
    from bot.services.digests import ensure_planned

    async with app.db.transaction() as s:
        if (await s.exec(select(WorkingGroup))).first() is not None:
            return
        wg = WorkingGroup(name="wg", themes=list(DEFAULT_THEMES), created_at=app.clock.now())
        s.add(wg)
        await s.flush()
        assert wg.id is not None
        for platform in PLATFORMS:
            s.add(
                Channel(
                    wg_id=wg.id,
                    platform=platform,
                    channel_id=SIM_CHANNEL,
                    name=SIM_CHANNEL,
                    created_at=app.clock.now(),
                )
            )
    await ensure_planned(app.db, app.clock.now())


class Simulation:
    def __init__(self, app: App, clock: VirtualClock, emit: Callable[[Event], None]) -> None:
        self.app = app
        self.clock = clock
        self.emit = emit

    async def advance_to(self, target: datetime) -> None:
        """Move the clock to `target`, stopping at each due time on the way so jobs fire in order."""
        await self.app.run_due()
        stuck: datetime | None = None
        while True:
            due = await self.app.next_due()
            if due is None or due > target:
                break
            if due > self.clock.now():
                self.clock.set(due)
            if await self.app.run_due() == 0:
                if stuck == due:  # due, yet nothing can run at this instant: do not spin
                    break
                stuck = due
        if target > self.clock.now():
            self.clock.set(target)
        await self.app.run_due()

    async def say(self, name: str, platform: str, thread: str | None, text: str) -> None:
        user = UserRef(platform=platform, user_id=name, handle=name)
        where = Where(platform=platform, channel_id=SIM_CHANNEL, channel_name=SIM_CHANNEL, thread_id=thread)
        hook = self.app.extras.get("on_chat")
        if not text.lstrip().startswith("/"):
            if callable(hook):
                await hook(user, where, text)
            return
        response = await self.app.core.handle_text(text, user, where)
        for reply in response.replies:
            self.emit(
                Event(
                    self.clock.now(),
                    platform,
                    self._reply_to(reply, name, thread),
                    reply.kind,
                    reply.to_text(),
                )
            )
        if response.form is not None and not response.replies:
            self.emit(
                Event(
                    self.clock.now(),
                    platform,
                    f"user:{name}",
                    "reply",
                    f"(opens the form “{response.form.title}”)",
                )
            )
        await self.app.run_due()

    @staticmethod
    def _reply_to(reply: Reply, name: str, thread: str | None) -> str:
        if reply.private:
            return f"user:{name}"
        if thread:
            return f"thread:{thread}"
        return f"channel:{SIM_CHANNEL}"

    async def run(self, lines: list[str]) -> None:
        started = False
        for no, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if line.startswith("@"):
                    when = parse_time(line[1:])
                    if not started:
                        started = True
                        if when > self.clock.now():
                            self.clock.set(when)
                        await self.advance_to(self.clock.now())
                    elif when < self.clock.now():
                        raise ValueError("the clock cannot go backwards")
                    elif when - self.clock.now() > MAX_ADVANCE:
                        raise ValueError(f"that is too long a step; advance at most {MAX_ADVANCE.days} days at a time")
                    else:
                        await self.advance_to(when)
                    continue
                started = True
                if line.startswith("+"):
                    await self.advance_to(_later(self.clock.now(), parse_advance(line[1:])))
                    continue
                m = _SPEAKER.match(line)
                if not m:
                    raise ValueError("expected `name: text`, `@<time>`, `+<duration>` or a # comment")
                platform = m.group("platform") or "console"
                if platform not in PLATFORMS:
                    raise ValueError(f"unknown platform `{platform}` (use {', '.join(PLATFORMS)})")
                await self.say(m.group("name"), platform, m.group("thread"), m.group("text"))
            except ValueError as exc:
                raise ScriptError(no, str(exc)) from None


def script_start(lines: list[str]) -> datetime:
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            return parse_time(line[1:]) if line.startswith("@") else DEFAULT_START
        except ValueError as exc:
            raise ScriptError(no, str(exc)) from None
    return DEFAULT_START


async def simulate(
    lines: list[str],
    database_url: str,
    emit: Callable[[Event], None],
    *,
    settings: Settings | None = None,
) -> None:
    settings = settings or Settings(WGBOT_DATABASE_URL=database_url)
    clock = VirtualClock(script_start(lines))
    db = Database(database_url)
    senders = [RecordingSender(p, clock, emit) for p in (*PLATFORMS, "email")]
    app = await build(settings, clock=clock, db=db, rng=random.Random(0), senders=list(senders), worker_id="simulate")
    chat = ChatLog(clock)
    app.extras["on_chat"] = chat.record
    sources = app.extras["thread_sources"]
    assert isinstance(sources, dict)
    for platform in PLATFORMS:
        sources[platform] = chat.source(platform)
    try:
        await ensure_sim_group(app)
        await Simulation(app, clock, emit).run(lines)
    finally:
        await app.close()
