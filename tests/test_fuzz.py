"""Bad input at scale: property-based tests over everything people type.

The command grammar, ballots, time expressions, recurrence rules and simulation script lines get
generated input — random text, and text built from the grammar's own pieces so that it reaches deep
into the handlers. Each must either work or be refused with a `UserError` (for scripts: a
`ScriptError` naming the line); nothing else may escape. End to end, every command goes through the
real core on a real database: no reply may be the core's "something went wrong on our side" (an
exception a handler did not expect), and nothing may be logged as a failure.

Example counts come from the `wgbot` Hypothesis profile (tests/conftest.py): modest and derandomized,
so CI runs the same examples every time. `HYPOTHESIS_PROFILE=explore` searches more, at random.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.console.simulate import ScriptError, Simulation, parse_advance, parse_time, script_start
from bot import recurrence, timeparse
from bot.bootstrap import App, build
from bot.choices import option_list, read_ballot
from bot.clock import VirtualClock
from bot.command import UserRef, Where
from bot.config import Settings
from bot.errors import UserError
from bot.grammar import SPECS, parse
from bot.sanitize import clean
from bot.tally import ANSWERS
from storage.db import Database
from tests.conftest import PG_URL, START, reset_postgres

U = UserRef("console", "alice", "alice")
W = Where("console", "wg", "wg")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# ---- pieces people type ---------------------------------------------------------------------------

#: any text at all, lone surrogates (what invalid UTF-8 becomes) and control characters included
any_text = st.text(max_size=120)
#: text as keyboards produce it, with the grammar's own punctuation mixed in
_alphabet = st.sampled_from([*'abcXYZ019 :,;=>"“”«»\\-/@#<>!.%&\n\t', "\u202e", "\x00", "\ud800", "é", "中"])
typed = st.text(_alphabet, max_size=40)
ZONES = ["UTC", "Europe/Paris", "Asia/Kolkata", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns", "EST"]
TIMES = [
    "tomorrow 15:00", "in 2h", "in 0m", "in 99999999d", "friday 14:00 Europe/Paris", "next monday 9am",
    "2026-02-01T10:00Z", "2026-02-01 10:00", "9999-12-31T23:59", "0001-01-01T00:00", "2026-02-30T10:00",
    "8 jan 14:00", "13pm", "25:00", "-1", "yesterday", "31 feb", "in 1d 3h", "friday 14:00 Mars/Olympus",
    "2026-03-29T02:30 Europe/Paris", "monday 0:00 Pacific/Kiritimati", "",
]  # fmt: skip
SPANS = ["90m", "1h30m", "0", "45", "24h", "25h", "9999999w", "1e9", "-5m", "1h,2h", "none", "h", "٣m"]
RULES = [
    "week", "weekday", "2 weeks on thursday", "first tuesday", "last friday of the month", "monday and thursday",
    "FREQ=WEEKLY;BYDAY=TH", "FREQ=HOURLY", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=YEARLY;BYEASTER=0",
    "FREQ=WEEKLY;INTERVAL=0", "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU", "RRULE:FREQ=DAILY;UNTIL=19000101",
    "friday 10:00", "mondays at 14:30 Europe/Paris", "99 days", "every 0 weeks", "fifth monday", "day 25:61",
    "FREQ=WEEKLY;UNTIL=99991231T235959Z", "FREQ=DAILY;COUNT=99999", "FREQ=WEEKLY;BYDAY=+9MO",
]  # fmt: skip
BALLOTS = [
    "yes", "no", "abstain", "agree", "block", "A", "B", "Z", "A, C", "A,A", "B > A > C", "A > A", ">", "",
    "A=5, B=2", "A=6", "A=-1", "A=٣", "A=", "=5", "none", "-", "first", '"first" > "second"', "A; B\nC",
]  # fmt: skip
IDS = ["P1", "P2", "V1", "V2", "V3", "V4", "V5", "V6", "V7", "M1", "C1", "Q1", "P0", "p1", "V99999999999999999999"]
WORDS = [
    "civil-society", "academia", "government", "weog", "african", "yes", "no", "maybe", "all", "open", "convener",
    "member", "observer", "alice", "bob", "<@alice>", "@everyone", "<!channel>", "confirm", "anonymous", "dm",
]  # fmt: skip

value = st.one_of(st.sampled_from(TIMES + SPANS + RULES + BALLOTS + IDS + WORDS + ZONES), typed, st.text(max_size=30))
#: values that fit a slot, so that a command gets past the grammar into its handler
POOLS: dict[str, list[str]] = {
    "id": IDS, "subject": ["P1", "P2", "P9", "Adopt it?", ""], "group": [*WORDS[:3], "pirates", ""],
    "region": [*WORDS[3:5], "mars"], "tz": [*ZONES, "Mars/Olympus", ""], "lang": ["en", "fr", "xx", "en-GB", ""],
    "email": ["a@b.org", "not-an-address", "a@b", "x" * 300 + "@b.org"], "name": ["Ana", "", "x" * 300, "<@bob>"],
    "role": ["convener", "member", "observer", "king"], "member": ["bob", "alice", "<@bob>", "nobody", "@everyone"],
    "answer": ["yes", "no", "maybe", "perhaps"], "status": ["open", "voting", "all", "done"],
    "at": TIMES, "closes": TIMES, "every": RULES, "duration": SPANS, "remind": [*SPANS, "24h,1h", "1m,31d"],
    "for": [*SPANS, "bob", "nobody"], "expires": SPANS, "within": ["7", "0", "61", "x", "9999999999"],
    "uses": ["1", "0", "101", "x", "99999999999999999999"], "quorum": ["2", "50%", "0", "101%", "x", "-1", "99999"],
    "method": ["consent", "yes-no", "choice", "approval", "ranked", "score", "time", "dice"],
    "options": ["first, second, third", "a", "a, a", "tomorrow 10:00, friday 14:00", ",".join("x" * 101), ""],
    "choice": BALLOTS, "reason": ["because", "x" * 1100, ""], "digest": ["monday 09:00", "off", "funday 25:00"],
    "web": ["public", "private", "maybe"], "summaries": ["on", "off", "x"], "date": ["2026-02-03", "all", "x"],
    "how": ["dm", "email", "carrier-pigeon"], "action": ["rotate", "x"], "code": ["ABC123", ""], "invite": ["X1"],
    "thread": ["t1", "t2", "x"], "theme": ["cybersecurity of AI", "cooking"], "title": ["T", "x" * 201],
    "body": ["Body text.", "x" * 4001], "text": ["An answer.", "x" * 4001], "question": ["Why?", "x" * 501],
    "prompt": ["React!", "x" * 501], "topic": ["vote", "nothing", ""], "wg": ["wg", "other", "x" * 101],
    "key": ["x"],
}  # fmt: skip


def _slot(name: str) -> st.SearchStrategy[str]:
    pool = POOLS.get(name) or POOLS.get(name.split("-")[0]) or BALLOTS
    return st.one_of(st.sampled_from(pool), st.sampled_from(pool), st.sampled_from(pool), value)


def _quoted(v: str) -> str:
    return '"' + v.replace('"', '\\"') + '"'


def _maybe_quoted(draw: st.DrawFn, v: str) -> str:
    return _quoted(v) if not v or any(c.isspace() for c in v) or draw(st.booleans()) else v


@st.composite
def commands(draw: st.DrawFn) -> str:
    """A `/wg` line for one command of the grammar: its slots filled mostly with values that fit
    (valid or not), sometimes with anything, in any order, with its flags and the odd stray token."""
    spec = SPECS[draw(st.sampled_from(sorted(SPECS)))]
    parts = ["/wg", *spec.words]
    slots = [*spec.positional, *spec.optional[: draw(st.integers(0, len(spec.optional)))]]
    for slot in slots:
        parts.append(_maybe_quoted(draw, draw(_slot(slot))))
    if spec.rest is not None and draw(st.booleans()):
        parts.append(draw(_slot(spec.rest)))
    keys = sorted(spec.options)
    for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)) if keys else []:
        parts.append(f"{key}:{_maybe_quoted(draw, draw(_slot(key)))}")
    for flag in draw(st.lists(st.sampled_from(sorted(spec.flags)), max_size=2)) if spec.flags else []:
        parts.append(flag)
    if draw(st.integers(0, 4)) == 0:
        parts.insert(draw(st.integers(1, len(parts))), draw(st.one_of(value, typed)))
    return " ".join(parts)


# ---- pure parsers ---------------------------------------------------------------------------------
# What reaches the ballot, time and rule parsers has been through the grammar, which cleans it
# (bot/sanitize.py); the tests feed them cleaned text the same way, and check the grammar's cleaning
# on its own.


def _refused_cleanly(exc: UserError) -> None:
    assert isinstance(exc.message, str) and exc.message.strip(), "a refusal says why"
    exc.message.encode("utf-8")  # printable and sendable: no lone surrogates echoed back


@given(st.one_of(any_text, commands()))
def test_grammar_gives_a_command_or_a_user_error(text: str) -> None:
    try:
        cmd = parse(text, U, W)
    except UserError as exc:
        _refused_cleanly(exc)
        return
    assert cmd.name in SPECS
    for part in (*cmd.positionals, *cmd.options.values(), cmd.rest):
        part.encode("utf-8")  # what reaches a handler (and the database) is valid Unicode


@given(st.sampled_from([*sorted(ANSWERS), "choice", "approval", "time", "score", "ranked"]), value, st.integers(2, 12))
def test_ballots_give_a_choice_or_a_user_error(method: str, text: str, n: int) -> None:
    options = [f"option {i}" for i in range(n)]
    try:
        choice = read_ballot(method, options, clean(text))
    except UserError as exc:
        _refused_cleanly(exc)
        return
    for i in choice.get("options", []) + choice.get("ranking", []):
        assert 0 <= i < n
    for k, v in choice.get("scores", {}).items():
        assert 0 <= int(k) < n and 0 <= v <= 5


@given(st.sampled_from(["choice", "approval", "ranked", "score", "time"]), st.one_of(value, any_text))
def test_option_lists_give_options_or_a_user_error(method: str, raw: str) -> None:
    try:
        out = option_list(method, clean(raw), NOW, "UTC")
    except UserError as exc:
        _refused_cleanly(exc)
        return
    assert 2 <= len(out) <= 100 and len({o.lower() for o in out}) == len(out)


@given(st.one_of(value, any_text), st.sampled_from(ZONES[:-1]), st.booleans())
def test_times_give_an_instant_or_a_user_error(text: str, tz: str, future: bool) -> None:
    try:
        when = timeparse.parse_when(clean(text), NOW, tz, future=future)
    except UserError as exc:
        _refused_cleanly(exc)
        return
    assert when.at.tzinfo is not None and when.at - NOW <= timeparse.MAX_AHEAD
    if future:
        assert when.at > NOW


@given(st.one_of(value, any_text))
def test_spans_offsets_and_clocks_give_a_value_or_a_user_error(text: str) -> None:
    for parse_one in (timeparse.parse_duration, timeparse.parse_offsets, timeparse.parse_clock):
        try:
            parse_one(clean(text))
        except UserError as exc:
            _refused_cleanly(exc)


@given(st.one_of(value, any_text), st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)))
def test_recurrence_gives_a_rule_or_a_user_error(text: str, start: datetime) -> None:
    try:
        timed = recurrence.split_time(clean(text))
        body = recurrence.parse_rule(timed.rule, start)
    except UserError as exc:
        _refused_cleanly(exc)
        return
    first = recurrence.first_on_or_after(body, start, "UTC")
    assert first is not None  # validated: it has an occurrence


#: script lines; steps stay short (every job falling due on the way runs, which takes time)
_script_line = st.one_of(
    st.builds(lambda v: "+" + v, st.one_of(st.sampled_from(["90m", "1d", "0m", "2h30m", "x", "", "-1h"]), typed)),
    st.builds(
        lambda v: "@" + v,
        st.one_of(st.sampled_from(["2026-01-05T10:00Z", "9999-12-31T23:59", "0001-01-01T00:00+01:00", "x"]), typed),
    ),
    st.builds(lambda who, t: f"{who}: {t}", st.sampled_from(["alice", "bob@slack", "c@nowhere", "d [t1]"]), value),
    st.builds(lambda text: f"alice: {text}", commands()),
    any_text,
)


@given(st.one_of(value, any_text, st.sampled_from(["99999999999999d", "1w2d3h4m5s", "9" * 30 + "s"])))
def test_script_times_and_advances_give_a_value_or_a_value_error(text: str) -> None:
    for parse_one in (parse_advance, parse_time):
        try:
            parse_one(text)
        except ValueError as exc:
            assert str(exc)


# ---- end to end through the core ------------------------------------------------------------------


class _Failures(logging.Handler):
    """Collects what the core logs as a failure (an exception a handler did not expect)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class World:
    """A working group with a convener, a member, a proposal, one open vote per method, a meeting
    and a check-in, on a real database and a virtual clock, driven from a loop of its own."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.url = url
        self.clock = VirtualClock(START)
        self.failures = _Failures()
        self.app: App = self.run(self._build())

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    async def _build(self) -> App:
        from adapters.console.simulate import ensure_sim_group

        if PG_URL:
            await reset_postgres(self.url)
        db = Database(self.url)
        await db.upgrade()
        settings = Settings(WGBOT_DATABASE_URL=self.url, WGBOT_RATE_COMMANDS_PER_MINUTE=0)
        app = await build(settings, clock=self.clock, db=db, rng=random.Random(0), worker_id="fuzz", upgrade=False)
        await ensure_sim_group(app)
        setup = [
            ("alice", "/wg join civil-society region:weog tz:Europe/Paris"),
            ("bob", "/wg join academia region:african tz:Asia/Kolkata"),
            ("alice", '/wg propose "Shared taxonomy" One taxonomy for AI incidents.'),
            ("alice", '/wg propose "Second" Another one.'),
            ("alice", "/wg vote open P1 method:consent"),
            ("alice", '/wg vote open "Which?" method:choice options:"first, second, third"'),
            ("alice", '/wg vote open "Which ones?" method:approval options:"first, second, third"'),
            ("alice", '/wg vote open "Rank them" method:ranked options:"first, second, third"'),
            ("alice", '/wg vote open "Score them" method:score options:"first, second, third"'),
            ("alice", '/wg vote open "When?" method:time options:"tomorrow 10:00, friday 14:00"'),
            ("alice", '/wg vote open "Yes or no?" method:yes-no anonymous hidden'),
            ("alice", '/wg meeting "Monthly sync" at:"tomorrow 15:00" every:"first tuesday"'),
            ("alice", '/wg checkin "How is it going?" every:"friday 10:00"'),
        ]
        for who, text in setup:
            response = await app.core.handle_text(text, UserRef("console", who, who), W)
            assert all(r.kind != "error" for r in response.replies), (text, [r.to_text() for r in response.replies])
        logging.getLogger().addHandler(self.failures)
        return app

    def close(self) -> None:
        logging.getLogger().removeHandler(self.failures)
        self.run(self.app.close())
        self.loop.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = PG_URL or f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    w = World(url)
    yield w
    w.close()


#: mostly the convener in the channel, where most commands work; the others now and then
SPEAKERS = [("alice", "console")] * 4 + [("bob", "console"), ("bob", "slack"), ("carol", "console")]
WHERES = [W] * 4 + [Where("console", "wg", "wg", thread_id="t1"), Where("console", "dm-x", "dm", is_dm=True)]
_OUR_SIDE = "went wrong on our side"


@given(st.one_of(commands(), commands(), commands(), any_text), st.sampled_from(SPEAKERS), st.sampled_from(WHERES))
def test_every_command_works_or_is_refused_with_a_specific_error(
    world: World, text: str, speaker: tuple[str, str], where: Where
) -> None:
    name, platform = speaker
    if name == "alice" and text.split()[1:3] == ["privacy", "erase"]:
        name = "bob"  # keep the convener: the rest of the run needs her
    user = UserRef(platform, name, name)
    where = Where(platform, where.channel_id, where.channel_name, where.thread_id, where.is_dm)
    before = len(world.failures.records)
    response = world.run(world.app.core.handle_text(text, user, where))
    world.run(world.app.run_due())
    logged = [r.getMessage() for r in world.failures.records[before:]]
    assert not logged, (text, logged)
    for reply in response.replies:
        shown = reply.to_text()
        assert _OUR_SIDE not in shown, (text, shown)
        shown.encode("utf-8")
    world.clock.advance(timedelta(minutes=1))


@settings(max_examples=max(10, settings.default.max_examples // 4))
@given(st.lists(_script_line, min_size=1, max_size=5))
def test_script_lines_run_or_stop_with_a_script_error(world: World, lines: list[str]) -> None:
    before = len(world.failures.records)
    start = "@" + world.clock.now().isoformat()  # a script's first line sets its start: here, the world's now
    try:
        world.run(Simulation(world.app, world.clock, lambda _event: None).run([start, *lines]))
    except ScriptError as exc:
        assert str(exc).startswith("line ")
    logged = [r.getMessage() for r in world.failures.records[before:]]
    assert not logged, (lines, logged)


def test_a_script_with_a_bad_first_line_is_a_script_error() -> None:
    with pytest.raises(ScriptError, match="line 2"):
        script_start(["# a comment", "@not a time"])


async def test_a_clock_moved_past_the_calendar_is_a_script_error(tmp_path: Path) -> None:
    from adapters.console.simulate import simulate

    for lines in (
        ["+99999999999999d"],
        ["@8999-12-31T23:00Z", "+2h"],
        ["@9999-12-31T23:59:30Z", "alice: /wg join academia"],
        ["@0001-01-01T00:00+01:00"],
        ["@2026-01-05T10:00Z", "@2046-01-05T10:00Z"],
    ):
        with pytest.raises(ScriptError, match="line"):
            await simulate(lines, f"sqlite:///{tmp_path / 'sim.db'}", lambda _e: None)


def test_cleaned_text_is_valid_unicode() -> None:
    assert clean("a\ud800b\udfffc") == "a\ufffdb\ufffdc"


def test_a_script_that_is_not_utf8_is_a_script_error(tmp_path: Path) -> None:
    from tests.test_simulate import wgbot

    script = tmp_path / "latin1.script"
    script.write_bytes(b"# fine\nalice: /wg join academia\nbob: caf\xe9 cr\xe8me\n")
    run = wgbot("simulate", str(script))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "line 3: not valid UTF-8" in run.stderr


@settings(max_examples=max(10, settings.default.max_examples // 4))
@given(commands(), st.sampled_from(SPEAKERS))
def test_a_refused_command_leaves_the_data_as_it_was(world: World, text: str, speaker: tuple[str, str]) -> None:
    from tests.conftest import table_snapshot

    name, platform = speaker
    before = world.run(table_snapshot(world.app.db))
    response = world.run(world.app.core.handle_text(text, UserRef(platform, name, name), W))
    if response.replies and all(r.kind == "error" for r in response.replies):
        after = world.run(table_snapshot(world.app.db))
        changed = sorted(t for t in after if after[t] != before.get(t))
        assert not changed, (text, [r.to_text() for r in response.replies], changed)
    world.clock.advance(timedelta(minutes=1))
