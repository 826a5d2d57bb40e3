"""`/wg help <command>` in detail: every form of a command, every option it takes, and an example.

The grammar (`bot/grammar.py`) holds what a command accepts; this module holds the words that
explain it. A test checks that every option and flag of every registered command is explained here,
so a new option cannot ship without its line in the help.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.grammar import Spec
from bot.reply import Block, Context, Divider, Heading, Reply, Text

#: option → what it means, for any command that takes it; `command:option` overrides for one command
OPTIONS: dict[str, str] = {
    "region": "your UN region: african, asia-pacific, eastern-european, latin-american-caribbean, weog",
    "tz": "an IANA time zone such as Europe/Paris or America/New_York (not EST or CET)",
    "lang": "a language code such as en, fr, es, pt-BR",
    "summarize:lang": "the language of the summary (default: the group's), a code such as en, fr, es",
    "email": "an e-mail address",
    "name": "your display name, in quotes if it has spaces",
    "settings:name": "the working group's new name",
    "member:email": "the address that reaches this member (required)",
    "member:tz": "their IANA time zone (default: the group's)",
    "member:region": "their UN region: african, asia-pacific, eastern-european, latin-american-caribbean, weog",
    "digest:email": "receive it by e-mail at this address",
    "settings:lang": "the language thread summaries are written in, a code such as en, fr, es",
    "settings:digest": 'the weekly digest time, "<weekday> <HH:MM>", or off',
    "settings:web": "who can read the group's web record: private (only through its secret link) or public",
    "settings:summaries": "on shows thread summaries on the web record; off (the default) leaves them out",
    "theme": "one of the group's themes (see /wg show on a proposal, or the settings)",
    "title": "the title (the form field; on one line you quote it instead)",
    "body": "the text (the form field; on one line it follows the title)",
    "at": 'when: "tomorrow 15:00", "friday 10:00 Europe/Paris", "2026-05-04 14:30"',
    "checkin:at": "the time of day, HH:MM (or give it inside every:)",
    "every": 'how it repeats: "weekly", "every friday 10:00", "every weekday 9am", "mondays at 14:30 Europe/Paris"',
    "duration": "how long: 30m, 1h, 1h30",
    "remind": "reminders before the start, comma-separated: 24h,1h,15m",
    "link": "the video-call address (https://…)",
    "within": "look this many days ahead (default 14)",
    "method": "the voting method: consent, yes-no, choice, approval, score, ranked or time",
    "vote:choice": "your ballot (the form field; on one line it follows V<n>)",
    "options": 'the choices, comma-separated in quotes: "a, b, c"',
    "closes": "when it closes",
    "quorum": "how many ballots are needed, a number or a percentage",
    "reason": "why, in quotes",
    "for": "how long it stays open: 90s, 2m, 1h (30 seconds to a day)",
    "rsvp:for": "(convener) record the answer of a member reachable only by e-mail, who replied by e-mail",
    "digest.unsubscribe:for": "(convener) stop this member's e-mailed digest; the member is told privately",
    "digest.subscribe:for": (
        "(convener) subscribe this member's address (with email:) without a confirmation link; "
        "the member is told privately"
    ),
    "answer:for": "(convener) record the answer of a member reachable only by e-mail, who replied by e-mail",
    "rsvp:date": "one occurrence of a series, YYYY-MM-DD in the meeting's zone; all for the whole series",
    "react:text": "your one-line reaction (the form field; on one line it follows react)",
    "ask:anonymous": "(flag) your name is shown nowhere, not even to conveners",
    "anonymous": "(flag) hide who said what",
    "hidden": "(flag) hide results until it closes",
    "balanced": "(flag) weigh each stakeholder group equally",
    "invite": "a convener's invitation code: lets you join from a direct message to the bot",
    "expires": "how long the code stays valid: 1d, 7d, 48h (default 7 days, at most 30)",
    "confirm": "(flag) yes, erase it now: without it you are only told what would be erased",
}

EXAMPLES: dict[str, str] = {
    "help": "/wg help meeting",
    "join": '/wg join civil-society region:weog tz:Europe/Paris lang:fr name:"Ana Diaz"',
    "me": "/wg me",
    "todo": "/wg todo",
    "bind": "/wg bind AI Security WG",
    "settings": '/wg settings tz:Europe/Paris digest:"monday 09:00"',
    "role": "/wg role @ana convener",
    "propose": '/wg propose "Shared glossary" Let us agree on one glossary. theme:"cybersecurity of AI"',
    "proposals": "/wg proposals open",
    "show": "/wg show P3",
    "amend": "/wg amend P3 Let us agree on one glossary by June.",
    "withdraw": "/wg withdraw P3",
    "meeting": '/wg meeting "Weekly sync" every:"friday 10:00" duration:1h remind:24h,1h',
    "meeting.move": '/wg meeting move M2 at:"thursday 16:00"',
    "meeting.cancel": "/wg meeting cancel M2",
    "meeting.suggest": "/wg meeting suggest duration:1h within:7",
    "rsvp": "/wg rsvp M2 yes",
    "agenda": "/wg agenda M2",
    "ics": "/wg ics M2",
    "checkin": '/wg checkin "What did you finish this week?" every:"every friday 16:00"',
    "checkin.stop": "/wg checkin stop C1",
    "answer": "/wg answer C1 Drafted the glossary.",
    "link": "/wg link",
    "member.invite": "/wg member invite 3 expires:2d",
    "member.add": '/wg member add "Ngozi Okafor" government email:ngozi@example.org tz:Africa/Lagos region:african',
    "digest.preview": "/wg digest preview",
    "digest.send": "/wg digest send",
    "digest.subscribe": "/wg digest subscribe email:ana@example.org",
    "digest.unsubscribe": "/wg digest unsubscribe dm",
    "privacy.export": "/wg privacy export",
    "privacy.erase": "/wg privacy erase",
    "vote.open": '/wg vote open "Which venue?" method:ranked options:"Geneva, Nairobi, Bangkok" closes:"friday 17:00"',
    "vote": '/wg vote V2 "B > A > C"',
    "vote.close": "/wg vote close V2",
    "results": "/wg results V2",
    "live.start": "/wg live start M2",
    "live.end": "/wg live end",
    "live.here": "/wg live here",
    "ask": "/wg ask Who maintains the glossary after June? anonymous",
    "upvote": "/wg upvote Q3",
    "queue": "/wg queue",
    "answered": "/wg answered Q3",
    "dismiss": "/wg dismiss Q4",
    "poll": '/wg poll "Start with a pilot?" options:"yes, later, no" for:2m',
    "pause": '/wg pause "What worries you most about sharing data?" for:5m',
    "react": "/wg react Liability when data crosses borders",
    "web.link": "/wg web link rotate",
    "web.feed": "/wg web feed rotate",
    "summarize": "/wg summarize lang:fr",
    "privacy.opt-out": "/wg privacy opt-out",
    "privacy.opt-in": "/wg privacy opt-in",
}


def option_help(spec: Spec, option: str) -> str | None:
    head = spec.name.split(".")[0]
    return OPTIONS.get(f"{spec.name}:{option}") or OPTIONS.get(f"{head}:{option}") or OPTIONS.get(option)


def forms(topic: Spec, commands: Mapping[str, Spec]) -> list[Spec]:
    """The command itself and its sub-commands that exist (`meeting`, `meeting move`, …)."""
    head = topic.name.split(".")[0]
    return [s for n, s in commands.items() if n == head or n.startswith(head + ".")] or [topic]


#: `/wg help <topic>` for a family of commands that is not one command's name
TOPICS: dict[str, tuple[str, ...]] = {
    "live": (
        "live.start",
        "live.here",
        "live.end",
        "ask",
        "upvote",
        "queue",
        "answered",
        "dismiss",
        "poll",
        "pause",
        "react",
    ),
}


def detail(topic: Spec, commands: Mapping[str, Spec], specs: list[Spec] | None = None) -> Reply:
    """Help on one command and its sub-commands (or on `specs`, a topic's commands)."""
    blocks: list[Block] = []
    for i, spec in enumerate(specs if specs is not None else forms(topic, commands)):
        if i:
            blocks.append(Divider())
        blocks.append(Heading(text=spec.usage))
        lines = [spec.summary]
        names = sorted(spec.options) + sorted(spec.flags)
        if names:
            lines.append("Options:")
            for name in names:
                label = name if name in spec.flags else f"{name}:"
                lines.append(f"  {label} {option_help(spec, name) or ''}".rstrip())
        if spec.name in EXAMPLES:
            lines.append(f"Example: {EXAMPLES[spec.name]}")
        blocks.append(Text(text="\n".join(lines)))
    blocks.append(Context(text="/wg help lists every command."))
    return Reply(blocks=blocks, private=True)
