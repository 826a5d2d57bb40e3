"""The closest matches for what someone typed: command names, time zones, any closed vocabulary.

Offline and deterministic (difflib plus a small table of everyday words), so a typo or a plain
sentence gets a useful answer whether or not an LLM is configured. Nothing here knows a platform or
the database: callers pass the names to choose from, which keeps it reusable (commands, zones,
plain-words DMs and @mentions).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Protocol

from bot.reply import Context, Reply, Text

#: everyday words → the command (first word) a person most likely means
SYNONYMS: dict[str, str] = {
    "schedule": "meeting",
    "meet": "meeting",
    "call": "meeting",
    "calendar": "ics",
    "invite": "meeting",
    "reschedule": "meeting",
    "attend": "rsvp",
    "coming": "rsvp",
    "ballot": "vote",
    "elect": "vote",
    "idea": "propose",
    "suggestion": "propose",
    "suggest": "propose",
    "proposal": "propose",
    "change": "amend",
    "edit": "amend",
    "register": "join",
    "signup": "join",
    "member": "join",
    "profile": "me",
    "standup": "checkin",
    "check-in": "checkin",
    "question": "checkin",
    "reply": "answer",
    "respond": "answer",
    "summary": "summarize",
    "summarise": "summarize",
    "tldr": "summarize",
    "newsletter": "digest",
    "weekly": "digest",
    "zone": "settings",
    "timezone": "settings",
    "connect": "link",
    "discord": "link",
    "slack": "link",
    "delete": "privacy",
    "forget": "privacy",
    "gdpr": "privacy",
    "task": "todo",
    "tasks": "todo",
    "pending": "todo",
    "commands": "help",
}
_STOP = frozenset(
    "a an and are can do does for from how i in is it me my of on or please the this to what when "
    "where which who why will with you your we our us".split()
)
_WORD = re.compile(r"[a-z][a-z-]*")


def closest(word: str, choices: Iterable[str], *, limit: int = 3, cutoff: float = 0.6) -> list[str]:
    """The choices closest to `word` (any case), best first: a unique prefix, then spelling distance."""
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    w = word.strip().lower()
    if not w or limit <= 0:
        return []
    if w in by_lower:
        return [by_lower[w]]
    found = [by_lower[c] for c in difflib.get_close_matches(w, list(by_lower), n=limit, cutoff=cutoff)]
    if len(w) >= 3:
        prefixed = sorted(c for c in by_lower if c.startswith(w) and by_lower[c] not in found)
        found = [by_lower[c] for c in prefixed] + found
    return found[:limit]


def phrase(options: Iterable[str], *, quote: str = "`") -> str:
    """`Did you mean `a`?` / `Did you mean `a` or `b`?`; empty when there is nothing to offer."""
    items = [f"{quote}{o}{quote}" for o in options]
    if not items:
        return ""
    if len(items) == 1:
        return f"Did you mean {items[0]}?"
    return f"Did you mean {', '.join(items[:-1])} or {items[-1]}?"


def closest_commands(typed: str, names: Iterable[str], *, limit: int = 3) -> list[str]:
    """Dotted command names (`meeting.move`) closest to the first one or two words typed."""
    words = [w.lower() for w in typed.split()[:2]]
    if not words:
        return []
    names = list(names)
    firsts = sorted({n.split(".")[0] for n in names})
    heads = closest(words[0], firsts, limit=limit)
    found: list[str] = []
    for head in heads:
        subs = [n for n in names if n.startswith(head + ".")]
        if len(words) == 2 and subs:
            tails = closest(words[1], [n.split(".", 1)[1] for n in subs], limit=1)
            if tails:
                found.append(f"{head}.{tails[0]}")
                continue
        found.append(head if head in names else (subs[0] if subs else head))
    return found[:limit]


def commands_about(text: str, summaries: Mapping[str, str], *, limit: int = 3) -> list[str]:
    """For plain words ("how do I schedule a meeting?"): the commands they are most likely about.

    `summaries` maps dotted command names to their one-line summary. A word naming a command, or an
    everyday synonym of one, weighs most; a word shared with a summary counts a little.
    """
    words = [w.rstrip("?!.,").removesuffix("s") or w for w in _WORD.findall(text.lower())]
    words = [w for w in words if w not in _STOP]
    scores: dict[str, float] = {}
    firsts: dict[str, str] = {}
    for name in sorted(summaries, key=lambda n: "." in n):  # `meeting` before `meeting.move`
        firsts.setdefault(name.split(".")[0], name)
    for w in words:
        head = w if w in firsts else SYNONYMS.get(w) or SYNONYMS.get(w + "s")
        if head is None and len(w) >= 4:
            near = closest(w, firsts, limit=1, cutoff=0.8)
            head = near[0] if near else None
        if head is not None and head in firsts:
            scores[firsts[head]] = scores.get(firsts[head], 0) + 3
        for name, summary in summaries.items():
            summary_words = {s.removesuffix("s") for s in _WORD.findall(summary.lower())} - _STOP
            if len(w) >= 4 and w in summary_words:
                scores[name] = scores.get(name, 0) + 1
    ranked = sorted(scores, key=lambda n: (-scores[n], list(summaries).index(n)))
    return ranked[:limit]


class Described(Protocol):
    @property
    def usage(self) -> str: ...
    @property
    def summary(self) -> str: ...


_GREETINGS = frozenset("hi hello hey hiya yo thanks thank thx cheers bonjour hola hallo ciao ok okay".split())
#: words a question or a request starts with (no command is named so): "how do I vote" is a sentence,
#: not a typo of `show`, with or without its question mark
_QUESTION_WORDS = frozenset(
    "how what when where why who which can could would should is are do does please i i'm im".split()
)


def is_plain_words(text: str, names: Iterable[str] = ()) -> bool:
    """A sentence rather than a mistyped command: a greeting, a question (a question mark, or three
    words or more starting with a question word), or three words or more with neither an option
    (`key:value`) nor quotes, whose first word is not a near miss of a command."""
    words = text.split()
    if not words:
        return False
    if words[0].lower().strip("!,.?") in _GREETINGS or text.rstrip().endswith("?"):
        return True
    if any(":" in w or '"' in w or "“" in w for w in words):
        return False
    if len(words) >= 3 and words[0].lower().strip("!,.?") in _QUESTION_WORDS:
        return True
    firsts = {n.split(".")[0] for n in names}
    return len(words) >= 3 and not closest(words[0], firsts, limit=1, cutoff=0.75)


def answer_unknown(typed: str, commands: Mapping[str, Described]) -> Reply:
    """The answer to text that is no command: the closest commands for a typo, a short how-to for
    plain words. `commands` maps the dotted names that exist to their grammar spec."""
    first = typed.split()[0][:40] if typed.split() else ""
    if is_plain_words(typed, commands):
        about = commands_about(typed, {n: c.summary for n, c in commands.items()})
        blocks: list[Text | Context] = [Text(text="I answer /wg commands; I cannot read plain sentences (yet).")]
        if about:
            lines = "\n".join(f"{commands[n].usage}\n    {commands[n].summary}" for n in about)
            blocks.append(Text(text=f"These look closest to what you wrote:\n{lines}"))
        blocks.append(Context(text="/wg help lists every command; /wg help <command> explains one."))
        return Reply(blocks=list(blocks), private=True)
    near = closest_commands(typed, commands)
    if not near:
        return Reply.error(f"Unknown command `{first}`. Type /wg help for the list.", "/wg help [command]")
    words = [f"/wg {n.replace('.', ' ')}" for n in near]
    return Reply.error(f"Unknown command `{first}`. {phrase(words)}", commands[near[0]].usage)
