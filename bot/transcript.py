"""What of a thread may leave the bot: the privacy filter between a thread and any summarizer.

Before anything is summarized (by the model or offline), each message becomes a transcript line:
- a member who opted out (`/wg privacy opt-out`) is reduced to a placeholder: none of their text,
  and no label that could be tied back to them;
- e-mail addresses and phone numbers are redacted;
- speakers become pseudonyms (`Person-3`) carrying only their stakeholder group; handles, display
  names, platform user ids and mention markup of known people inside the text become the same
  pseudonyms (or `someone`);
- every line gets a short label (`m12`) the summary cites instead of a link.

`Transcript.names` maps the pseudonyms back to display names, after the answer has been validated
and filtered. The per-line hash (`fingerprint`) is taken over what would be sent, so an edit, a new
opt-out or a renamed speaker all make the cached summary stale.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.sanitize import clean
from bot.threads import ChatLine

OPTED_OUT = "[message left out: its author opted out of AI summaries]"
OPTED_OUT_SPEAKER = "a member"
#: the lookbehind only lets a match start where an address can (not inside a word): the same matches,
#: without trying, and failing, from every letter of every word (which cost ~60 µs a message)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().\-/]{5,}\d(?!\w)")
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$|^\d{1,2}:\d{2}")
_MENTION = re.compile(r"<[@#][!&]?([A-Za-z0-9]+)(?:\|[^>]*)?>")
URL = re.compile(r"https?://[^\s<>\"'`)\]]+")
PSEUDONYM = re.compile(r"\bPerson-(\d{1,4})\b")
#: names that are also everyday words: replaced only where written as a name (capitalised, or as an
#: @mention), so a member called Will or May does not turn every "will" and "may" into a pseudonym
WORD_NAMES = frozenset(
    """will may can mark bill art hope grace faith joy rose jack frank max rich drew sunny summer dawn
    april june august autumn amber ruby pearl ivy iris lily daisy holly heather robin wren hunter chase
    cash gene guy ray sky river rain storm young king major judge page baker miller price lane hall
    wood brown green white black gray grey long short small love star sam pat rob sue don ben""".split()
)


@dataclass(frozen=True)
class Speaker:
    """Who a platform account is in the working group (None fields for someone who never joined)."""

    display_name: str
    group: str
    opted_out: bool = False
    #: handles and user ids of this person on every platform (all are scrubbed from text)
    aliases: tuple[str, ...] = ()
    #: the member's id: kept with what is stored (action items' owners), never sent anywhere
    member_id: int | None = None


@dataclass(frozen=True)
class Line:
    ref: str
    speaker: str
    group: str
    text: str
    at: datetime
    link: str | None
    digest: str

    def render(self) -> str:
        who = f"{self.speaker} ({self.group})" if self.group else self.speaker
        return f"[{self.ref}] {who}: {self.text}"


@dataclass
class Transcript:
    lines: list[Line] = field(default_factory=list)
    #: pseudonym → display name
    names: dict[str, str] = field(default_factory=dict)
    #: pseudonym → member id, for members (what a stored summary may keep to name people later)
    members: dict[str, int] = field(default_factory=dict)
    #: message ref → link to the source message
    links: dict[str, str] = field(default_factory=dict)
    #: URLs present verbatim in what was sent (the only links a summary may keep)
    urls: set[str] = field(default_factory=set)
    opted_out_lines: int = 0
    #: message ids in order, for the fingerprint
    message_ids: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> list[list[str]]:
        return [[mid, line.digest] for mid, line in zip(self.message_ids, self.lines, strict=True)]

    def speakers(self) -> set[str]:
        return {line.speaker for line in self.lines if line.speaker.startswith("Person-")}

    def unname(self, text: str) -> str:
        """Pseudonyms in a validated answer → display names (unknown ones → `someone`)."""
        return PSEUDONYM.sub(lambda m: self.names.get(m.group(0), "someone"), text)


def redact(text: str) -> str:
    """E-mail addresses and phone numbers out; dates and times that look numeric stay."""
    if "@" in text:
        text = _EMAIL.sub("[e-mail redacted]", text)

    def phone(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = sum(c.isdigit() for c in raw)
        if digits < 8 or _DATE_LIKE.match(raw.strip()):
            return raw
        return "[phone redacted]"

    return _PHONE.sub(phone, text)


def _digest(speaker: str, text: str) -> str:
    return hashlib.sha256(f"{speaker}\x00{text}".encode()).hexdigest()[:16]


def build_transcript(lines: list[ChatLine], speakers: dict[tuple[str, str], Speaker]) -> Transcript:
    """`speakers` is keyed by (platform, user id); authors not in it are non-members."""
    out = Transcript()
    labels: dict[tuple[str, str], str] = {}
    alias_to_label: dict[str, str] = {}
    opted_aliases: set[str] = set()
    # every known person's aliases map to their pseudonym (assigned on first appearance in the thread)
    for key, sp in speakers.items():
        names = {*sp.aliases, key[1], sp.display_name}
        if sp.opted_out:
            opted_aliases.update(n.lower() for n in names if n)

    def label_of(line: ChatLine) -> str:
        key = (line.platform, line.author_id)
        if key not in labels:
            sp = speakers.get(key)
            # one person linked across platforms keeps one pseudonym
            same = next((lab for k, lab in labels.items() if sp is not None and speakers.get(k) == sp), None)
            labels[key] = same or f"Person-{len(set(labels.values())) + 1}"
            name = sp.display_name if sp is not None else line.author_name
            out.names[labels[key]] = name
            if sp is not None and sp.member_id is not None:
                out.members[labels[key]] = sp.member_id
            for alias in {*(sp.aliases if sp else ()), line.author_id, line.author_name, name}:
                if alias and len(alias) >= 3:
                    alias_to_label[alias.lower()] = labels[key]
        return labels[key]

    for key, sp in speakers.items():
        if sp.opted_out:
            continue
        for alias in {*sp.aliases, key[1], sp.display_name}:
            if alias and len(alias) >= 3:
                alias_to_label.setdefault(alias.lower(), "")  # filled when the person speaks

    for i, line in enumerate(lines, 1):
        ref = f"m{i}"
        author = speakers.get((line.platform, line.author_id))
        if author is not None and author.opted_out:
            speaker, group, text = OPTED_OUT_SPEAKER, "", OPTED_OUT
            out.opted_out_lines += 1
        else:
            speaker = label_of(line)
            group = author.group if author is not None else "non-member"
            text = redact(clean(line.text))
        out.lines.append(Line(ref, speaker, group, text, line.at, line.link, ""))
        out.message_ids.append(line.message_id)
        if line.link:
            out.links[ref] = line.link

    # scrub people from the text once every speaker has a pseudonym
    replacements = {
        a: ("someone" if a in opted_aliases else (alias_to_label.get(a) or "someone"))
        for a in (*alias_to_label, *opted_aliases)
    }
    names_re = _names_pattern(replacements)

    # mention markup names a user id: looked up exactly, whatever its length
    by_id: dict[str, str] = {}
    for (platform, user_id), sp in speakers.items():
        label = labels.get((platform, user_id))
        by_id[user_id.lower()] = "someone" if sp.opted_out or label is None else label
    for (_platform, author_id), label in labels.items():
        by_id.setdefault(author_id.lower(), label)

    def scrub(text: str) -> str:
        def mention(m: re.Match[str]) -> str:
            return by_id.get(m.group(1).lower()) or replacements.get(m.group(1).lower()) or "someone"

        text = _MENTION.sub(mention, text)
        if names_re is not None:
            text = names_re.sub(lambda m: _replace_name(m, replacements), text)
        return text

    final: list[Line] = []
    for entry in out.lines:
        text = entry.text if entry.text == OPTED_OUT else scrub(entry.text)
        final.append(
            Line(entry.ref, entry.speaker, entry.group, text, entry.at, entry.link, _digest(entry.speaker, text))
        )
        if text != OPTED_OUT:
            out.urls.update(URL.findall(text))
    out.lines = final
    return out


def _names_pattern(replacements: dict[str, str]) -> re.Pattern[str] | None:
    if not replacements:
        return None
    alternatives = "|".join(re.escape(a) for a in sorted(replacements, key=len, reverse=True))
    return re.compile(r"(?<![\w@.-])(@?)(" + alternatives + r")(?![\w-])", re.IGNORECASE)


def _replace_name(m: re.Match[str], replacements: dict[str, str]) -> str:
    at, written = m.group(1), m.group(2)
    key = written.lower()
    if key in WORD_NAMES and not at and written.islower():
        return m.group(0)  # "will", "may": the everyday word, not the member
    return replacements.get(key, "someone")
