"""The one text grammar of `/wg` commands, shared by the console, Slack, button actions and forms.

`parse()` never raises anything but `UserError` (property-tested): any text gets either a Command or a
short, specific error with the usage line. Discord's typed options are turned back into this text
with `format_command()` so that every platform goes through the same validation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.command import Command, UserRef, Where
from bot.errors import UnknownCommand, UserError
from bot.sanitize import clean

MAX_COMMAND_LENGTH = 8000
#: the limit of a proposal's or a meeting's title (bot/services/proposals.py and meetings.py)
MAX_TITLE = 200
_OPEN_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}
_KEY = re.compile(r"^([a-z][a-z0-9-]*):(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Spec:
    name: str
    usage: str
    summary: str
    positional: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    rest: str | None = None
    rest_required: bool = False
    options: frozenset[str] = frozenset()
    greedy: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    #: option families named by prefix (a form's `score-a:`, `rank-1:` fields)
    prefixes: tuple[str, ...] = ()

    def takes(self, key: str) -> bool:
        return key in self.options or any(key.startswith(p) and len(key) > len(p) for p in self.prefixes)

    @property
    def words(self) -> list[str]:
        return self.name.split(".")


def _spec(name: str, usage: str, summary: str, **kw: Any) -> Spec:
    for key in ("options", "greedy", "flags"):
        if key in kw:
            kw[key] = frozenset(kw[key])
    return Spec(name, usage, summary, **kw)


SPECS: dict[str, Spec] = {
    s.name: s
    for s in [
        _spec("help", "/wg help [command]", "List commands, or explain one.", rest="topic"),
        _spec(
            "join",
            "/wg join <stakeholder-group> [region:<region>] [tz:<IANA zone>] [lang:<code>] [email:<address>] "
            '[name:"<display name>"] [invite:<code>]',
            "Join the working group (in its channel, or anywhere with a convener's invitation code).",
            positional=("group",),
            options={"region", "tz", "lang", "email", "name", "invite"},
        ),
        _spec("me", "/wg me", "Show your membership."),
        _spec(
            "todo",
            "/wg todo [done|reopen A<n>]",
            "What still needs you: RSVPs, check-ins, votes, your action items; or mark an action item done.",
            optional=("action", "id"),
        ),
        _spec("bind", "/wg bind [<wg name>]", "Bind this channel to a working group.", rest="wg"),
        _spec(
            "settings",
            '/wg settings [tz:<zone>] [digest:"<weekday> <HH:MM>"|digest:off] [name:"<name>"] [lang:<code>] '
            "[web:private|public] [summaries:on|off]",
            "Change the working group's settings (convener).",
            options={"tz", "digest", "name", "lang", "web", "summaries"},
        ),
        _spec(
            "role",
            "/wg role <member> convener|member|observer",
            "Change a member's role (convener).",
            positional=("member", "role"),
        ),
        _spec(
            "member.add",
            "/wg member add <name> <stakeholder-group> email:<address> [tz:<zone>] [region:<region>]",
            "Add a member reachable only by e-mail (convener).",
            positional=("name", "group"),
            options={"email", "tz", "region"},
        ),
        _spec(
            "member.invite",
            "/wg member invite [<uses>] [expires:<d>]",
            "Get an invitation code to join from a direct message (convener; single-use, 7 days by default).",
            optional=("uses",),
            options={"expires"},
        ),
        _spec(
            "propose",
            '/wg propose "<title>" <body> [theme:<theme>]',
            "Make a proposal.",
            optional=("title",),
            rest="body",
            options={"theme", "title", "body"},
        ),
        _spec(
            "proposals",
            "/wg proposals [open|voting|accepted|rejected|withdrawn|all]",
            "List proposals.",
            optional=("status",),
        ),
        _spec("show", "/wg show P<n>|M<n>|C<n>", "Show one item.", positional=("id",)),
        _spec(
            "amend",
            "/wg amend P<n> <new body>",
            "Amend a proposal (author or convener).",
            positional=("id",),
            rest="body",
            rest_required=True,
        ),
        _spec("withdraw", "/wg withdraw P<n>", "Withdraw a proposal (author or convener).", positional=("id",)),
        _spec(
            "vote.open",
            '/wg vote open P<n>|"<question>" [method:<m>] [options:"a, b, c"] [closes:<time>] '
            "[quorum:<n>|<n>%] [anonymous] [hidden] [balanced]",
            "Open a vote (convener).",
            positional=("subject",),
            options={"method", "options", "closes", "quorum"},
            greedy={"closes"},
            flags={"anonymous", "hidden", "balanced"},
        ),
        _spec("vote.close", "/wg vote close V<n>", "Close a vote now (convener).", positional=("id",)),
        _spec(
            "vote",
            '/wg vote V<n> <choice> [reason:"..."]',
            "Cast or change your ballot.",
            positional=("id",),
            rest="choice",
            options={"reason", "choice"},
            prefixes=("score-", "rank-"),
        ),
        _spec("results", "/wg results V<n>", "Show a vote's results.", positional=("id",)),
        _spec(
            "meeting.suggest",
            "/wg meeting suggest [duration:<d>] [within:<days>]",
            "Suggest meeting slots that suit the most members.",
            options={"duration", "within"},
        ),
        _spec(
            "meeting.move",
            "/wg meeting move M<n> at:<time>",
            "Move a meeting (convener).",
            positional=("id",),
            options={"at"},
            greedy={"at"},
        ),
        _spec("meeting.cancel", "/wg meeting cancel M<n>", "Cancel a meeting (convener).", positional=("id",)),
        _spec(
            "meeting",
            '/wg meeting "<title>" at:<time> [every:<rule>] [duration:<d>] [remind:24h,1h] [link:<url>]',
            "Schedule a meeting (convener).",
            positional=("title",),
            options={"at", "every", "duration", "remind", "link"},
            greedy={"at", "every"},
        ),
        _spec(
            "rsvp",
            "/wg rsvp M<n> yes|no|maybe [date:<YYYY-MM-DD>|all] [for:<member>]",
            "Answer a meeting invitation (date: one occurrence of a series; for: a convener records it for an "
            "e-mail-only member).",
            positional=("id", "answer"),
            options={"date", "for"},
        ),
        _spec("agenda", "/wg agenda M<n>", "Show a meeting's agenda.", positional=("id",)),
        _spec("ics", "/wg ics M<n>", "Get a meeting as an .ics calendar file.", positional=("id",)),
        _spec(
            "checkin",
            '/wg checkin "<question>" every:<rule> [at:<HH:MM>] [tz:<zone>]',
            "Schedule a check-in question (convener).",
            positional=("question",),
            options={"every", "at", "tz"},
            greedy={"every"},
        ),
        _spec("checkin.stop", "/wg checkin stop C<n>", "Stop a check-in (convener).", positional=("id",)),
        _spec(
            "answer",
            "/wg answer C<n> <text> [for:<member>]",
            "Answer a check-in (a convener may record it for an e-mail-only member).",
            positional=("id",),
            rest="text",
            rest_required=True,
            options={"for"},
        ),
        _spec(
            "summarize",
            "/wg summarize [<thread>] [lang:<code>]",
            "Summarize a discussion thread.",
            optional=("thread",),
            options={"lang"},
        ),
        _spec("digest.preview", "/wg digest preview", "Preview this week's digest."),
        _spec("digest.send", "/wg digest send", "Send the digest now (convener)."),
        _spec(
            "digest.subscribe",
            "/wg digest subscribe [dm|email:<address>] [for:<member>]",
            "Receive the digest by DM or e-mail (a convener: subscribe a member's address).",
            optional=("how",),
            options={"email", "for"},
        ),
        _spec(
            "digest.unsubscribe",
            "/wg digest unsubscribe [dm|email] [for:<member>]",
            "Stop receiving the digest (by DM, by e-mail, or both).",
            optional=("how",),
            options={"for"},
        ),
        _spec(
            "web.link",
            "/wg web link [rotate]",
            "Show the address of the group's web record, or replace it and every link given out (convener).",
            optional=("action",),
        ),
        _spec(
            "web.feed",
            "/wg web feed [rotate]",
            "Show the address of the group's calendar feed, or replace it alone (convener).",
            optional=("action",),
        ),
        _spec("link", "/wg link [<code>]", "Link your Slack and Discord identities.", optional=("code",)),
        _spec("privacy.opt-out", "/wg privacy opt-out", "Leave your messages out of AI summaries."),
        _spec("privacy.opt-in", "/wg privacy opt-in", "Include your messages in AI summaries again."),
        _spec("privacy.export", "/wg privacy export", "Export your data."),
        _spec(
            "privacy.erase",
            "/wg privacy erase [confirm]",
            "Erase your data (vote tallies are kept, unlinked).",
            flags={"confirm"},
        ),
        _spec("live.start", "/wg live start M<n>", "Start a live session (convener).", positional=("id",)),
        _spec("live.end", "/wg live end", "End the live session and post its minutes (convener)."),
        _spec("live.here", "/wg live here", "Mark yourself as attending the live session (observers too)."),
        _spec(
            "ask",
            "/wg ask <question> [anonymous]",
            "Ask a question in the live session.",
            rest="question",
            rest_required=True,
            flags={"anonymous"},
        ),
        _spec("upvote", "/wg upvote Q<n>", "Upvote a question.", positional=("id",)),
        _spec("queue", "/wg queue", "Show the question queue."),
        _spec("answered", "/wg answered Q<n>", "Mark a question answered (convener).", positional=("id",)),
        _spec("dismiss", "/wg dismiss Q<n>", "Dismiss a question (convener).", positional=("id",)),
        _spec(
            "poll",
            '/wg poll "<question>" options:"a, b" [for:<d>]',
            "Run a quick poll (convener).",
            positional=("question",),
            options={"options", "for"},
        ),
        _spec(
            "pause",
            '/wg pause "<prompt>" [for:<d>]',
            "Open a pause-and-react round (convener).",
            positional=("prompt",),
            options={"for"},
        ),
        _spec(
            "react",
            "/wg react <text>",
            "React in the open pause round (one line; a second replaces the first).",
            rest="text",
            options={"text"},
        ),
    ]
}


@dataclass
class Token:
    text: str
    start: int
    end: int
    quoted: bool = False
    key: str | None = None
    value: str = ""
    extra: list[Token] = field(default_factory=list)


def tokenize(text: str) -> list[Token]:
    """Split on white space; double quotes (straight or typographic) group, `\\"` escapes inside them."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, buf, quoted = i, [], False
        while i < n and not text[i].isspace():
            ch = text[i]
            if ch in _OPEN_QUOTES:
                close = _OPEN_QUOTES[ch]
                j = i + 1
                part: list[str] = []
                while j < n and text[j] != close and not (close == "“" and text[j] == '"'):
                    if text[j] == "\\" and j + 1 < n and text[j + 1] in ('"', close):
                        j += 1
                    part.append(text[j])
                    j += 1
                if j >= n:
                    raise UserError('Unbalanced quotes: a " is opened but never closed.')
                buf.append("".join(part))
                quoted = True
                i = j + 1
            else:
                buf.append(ch)
                i += 1
        tokens.append(Token("".join(buf), start, i, quoted))
    return tokens


def _option(tok: Token, raw: str) -> tuple[str, str] | None:
    """`key:value` when the key part was not quoted (so `"a: b"` stays text)."""
    m = _KEY.match(raw[tok.start : tok.end])
    if not m:
        return None
    key = m.group(1)
    return key, tok.text[len(key) + 1 :]


def find_spec(words: list[str]) -> tuple[Spec | None, int]:
    lowered = [w.lower() for w in words[:2]]
    if len(lowered) == 2 and f"{lowered[0]}.{lowered[1]}" in SPECS:
        return SPECS[f"{lowered[0]}.{lowered[1]}"], 2
    if lowered and lowered[0] in SPECS:
        return SPECS[lowered[0]], 1
    return None, 0


def strip_prefix(text: str) -> str:
    t = text.strip()
    for prefix in ("/wg ", "wg "):
        if t.lower().startswith(prefix):
            return t[len(prefix) :].strip()
    return "" if t.lower() in ("/wg", "wg") else t


def parse(text: str, user: UserRef, where: Where) -> Command:
    """Parse a command line (with or without the leading `/wg`)."""
    if len(text) > MAX_COMMAND_LENGTH:
        _refuse_long_title(text)
        raise UserError(f"That command is too long ({len(text)} characters; the limit is {MAX_COMMAND_LENGTH}).")
    raw = strip_prefix(clean(text))
    if not raw:
        return Command(name="help", user=user, where=where, raw=raw)
    try:
        tokens = tokenize(raw)
    except UserError as exc:
        first, _ = find_spec(raw.split()[:2])
        raise UserError(exc.message, first.usage if first else None) from None
    words: list[str] = []
    for t in tokens[:2]:
        if t.quoted:
            break
        words.append(t.text)
    spec, used = find_spec(words)
    if spec is None:
        word = tokens[0].text[:40]
        raise UnknownCommand(f"Unknown command `{word}`. Type /wg help for the list.", "/wg help [command]", raw)
    cmd = Command(name=spec.name, user=user, where=where, raw=raw)
    rest_tokens: list[Token] = []
    pending = tokens[used:]
    greedy_key: str | None = None
    for tok in pending:
        opt = _option(tok, raw)
        if opt and not spec.takes(opt[0]) and opt[1].startswith("//"):
            opt = None  # `https://…` (a thread link for `summarize`) is a word, not an option `https:`
        if opt and spec.takes(opt[0]):
            key, value = opt
            if key in cmd.options:
                raise UserError(f"The option `{key}:` is given twice.", spec.usage)
            cmd.options[key] = value
            greedy_key = key if key in spec.greedy and not tok.quoted else None
            continue
        if not tok.quoted and tok.text.lower() in spec.flags:
            cmd.flags.add(tok.text.lower())
            greedy_key = None
            continue
        if greedy_key is not None and opt is None:
            cmd.options[greedy_key] = f"{cmd.options[greedy_key]} {tok.text}".strip()
            continue
        greedy_key = None
        if opt and spec.rest is None and not tok.quoted:
            known = ", ".join(f"{k}:" for k in sorted(spec.options)) or "none"
            raise UserError(f"Unknown option `{opt[0]}:` (options here: {known}).", spec.usage)
        rest_tokens.append(tok)
    n_fixed = len(spec.positional)
    n_max = n_fixed + len(spec.optional)
    if len(rest_tokens) < n_fixed:
        missing = spec.positional[len(rest_tokens)]
        raise UserError(f"Missing <{missing}>.", spec.usage)
    take = n_max if spec.rest is None else min(n_max, len(rest_tokens))
    if spec.rest is not None and spec.optional and spec.positional == () and rest_tokens:
        # `propose "<title>" <body>`: the title is the first token only when it was quoted
        take = 1 if rest_tokens[0].quoted else 0
    cmd.positionals = [t.text for t in rest_tokens[:take]]
    leftover = rest_tokens[take:]
    if leftover:
        if spec.rest is None:
            raise UserError(f"Unexpected `{leftover[0].text[:40]}`.", spec.usage)
        single_quoted = len(leftover) == 1 and leftover[0].quoted
        cmd.rest = leftover[0].text if single_quoted else _raw_span(raw, leftover)
    if spec.rest_required and not cmd.rest.strip():
        raise UserError(f"Missing <{spec.rest}>.", spec.usage)
    return cmd


def _refuse_long_title(text: str) -> None:
    """An over-long command whose title is what is too long gets the title's limit, which is the one
    the person can act on (the services check the same limit on shorter commands)."""
    raw = strip_prefix(clean(text))
    try:
        tokens = tokenize(raw)
    except UserError:
        return
    spec, used = find_spec([t.text for t in tokens[:2] if not t.quoted])
    if spec is None or not ({"title"} & {*spec.positional, *spec.optional, *spec.options}):
        return
    rest = tokens[used:]
    titles = [t.text for t in rest[:1] if t.quoted] + [
        opt[1] for t in rest if (opt := _option(t, raw)) is not None and opt[0] == "title"
    ]
    for title in titles:
        if len(title) > MAX_TITLE:
            raise UserError(f"The title is too long ({len(title)} characters; the limit is {MAX_TITLE}).", spec.usage)


def _raw_span(raw: str, tokens: list[Token]) -> str:
    """The original text of consecutive tokens, keeping the author's line breaks."""
    parts: list[str] = []
    prev_end: int | None = None
    for t in tokens:
        if prev_end is not None:
            gap = raw[prev_end : t.start]
            parts.append("\n" * gap.count("\n") if "\n" in gap else " ")
        parts.append(raw[t.start : t.end])
        prev_end = t.end
    return "".join(parts)


def quote(value: str) -> str:
    if value and not any(c.isspace() or c in '"“”„«»:' for c in value):
        return value
    return '"' + value.replace('"', '\\"') + '"'


def format_command(
    name: str,
    positionals: Iterable[str] = (),
    options: dict[str, str | None] | None = None,
    flags: Iterable[str] = (),
    rest: str | None = None,
) -> str:
    """Build command text from typed values (Discord options, form fields), quoting as needed."""
    parts = [*name.split(".")]
    for i, p in enumerate(positionals):
        # a first value that reads as a sub-command (`meeting suggest`, `vote open`) is quoted, so it
        # stays a value: the parser takes command words only from unquoted tokens
        collides = i == 0 and "." not in name and f"{name}.{p.strip().lower()}" in SPECS
        parts.append('"' + p.replace('"', '\\"') + '"' if collides else quote(p))
    if rest:
        parts.append(quote(rest))
    for key, value in (options or {}).items():
        if value is not None and value != "":
            parts.append(f"{key}:{quote(value)}")
    parts += list(flags)
    return " ".join(parts)
