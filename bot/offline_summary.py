"""The offline summarizer: extractive, rule-based, no model, no network — the embedded default.

It reads the same privacy-filtered transcript a model would get and picks sentences rather than
writing new ones, so it can only ever repeat what was said:
- decisions: sentences with decision markers ("we agreed", "decided", "decision:", "let's go with");
- action items: commitments and requests ("I'll …", "X will …", "action:", "TODO", "can you … by …"),
  with the owner (the speaker for "I", the named person otherwise) and a stated due date;
- open questions: questions nobody answered afterwards (a later message by someone else that
  shares its key words counts as an answer);
- key points: the highest-scoring remaining sentences (word frequency over the thread, favouring
  longer content sentences), in thread order;
- positions: per stakeholder group, its members' most representative sentence.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.summary_schema import ActionItem, Point, Position, SummaryDoc
from bot.transcript import OPTED_OUT, Line, Transcript

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_DECISION = re.compile(
    r"\b(we|the group|everyone|all)\s+(have\s+)?(agreed|decided|agree)\b|\bdecision\s*:|\bdecided\b|"
    r"\b(let'?s|we'?ll|we will)\s+go\s+with\b|\bconsensus\b|\bit'?s (settled|agreed)\b|\bagreed\s*[:.!]|"
    r"\bapproved\b|\bresolved\s*:",
    re.IGNORECASE,
)
_ACTION_MARK = re.compile(r"^\s*(action( item)?|todo|to-do|task)\s*[:\-]", re.IGNORECASE)
_I_WILL = re.compile(r"\b(I'?ll|I will|I can take|I'm going to|I am going to|I'll take|leave it with me)\b", re.I)
_X_WILL = re.compile(r"\b(Person-\d+)\s+(will|to|should|needs to|is going to)\b", re.IGNORECASE)
_REQUEST = re.compile(r"\b(can|could|would) (you|someone|somebody)\b.*\b(by|before)\b|\bplease\b", re.I)
_DUE = re.compile(
    r"\b(?:by|before|until|due|no later than)\s+((?:next\s+|this\s+)?(?:mon|tues|wednes|thurs|fri|satur|sun)day|"
    r"tomorrow|tonight|end of (?:the )?(?:day|week|month)|eo[dw]|\d{4}-\d{2}-\d{2}|"
    r"\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}(?:st|nd|rd|th)?|next week|"
    r"the (?:next )?meeting)",
    re.IGNORECASE,
)
STOPWORDS = frozenset(
    """the and for that this with have from they will what when where which there their about would
    could should been were into than then them also just like more some only over such very your
    yours ours here does done doing being well still even much many most other these those because
    while after before again each both same can't don't won't it's that's let's what's person
    message left opted summaries author""".split()
)


@dataclass
class _Sentence:
    line: Line
    text: str
    index: int
    score: float = 0.0


def _sentences(lines: list[Line]) -> list[_Sentence]:
    out: list[_Sentence] = []
    for line in lines:
        if line.text == OPTED_OUT:
            continue
        for part in _SENTENCE.split(line.text):
            part = part.strip(" -•*")
            if len(part) >= 8:
                out.append(_Sentence(line, part, len(out)))
    return out


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS]


def _clip(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _action(s: _Sentence) -> ActionItem | None:
    text = s.text
    owner: str | None = None
    if _ACTION_MARK.search(text):
        m = _X_WILL.search(text)
        owner = m.group(1) if m else s.line.speaker
    elif _I_WILL.search(text) and not text.rstrip().endswith("?"):
        owner = s.line.speaker
    elif m := _X_WILL.search(text):
        owner = m.group(1)
    elif _REQUEST.search(text) and _DUE.search(text):
        owner = None
    else:
        return None
    due = _DUE.search(text)
    return ActionItem(text=_clip(text), owner=owner, due=due.group(1) if due else None, sources=[s.line.ref])


def _answered(q: _Sentence, later: list[_Sentence]) -> bool:
    keys = set(_words(q.text))
    if not keys:
        return False
    for s in later:
        if s.text.rstrip().endswith("?"):
            continue
        if s.line.speaker == q.line.speaker and not _DECISION.search(s.text):
            continue
        if len(keys & set(_words(s.text))) >= max(1, min(2, len(keys) // 3)):
            return True
    return False


def summarize_offline(transcript: Transcript) -> SummaryDoc:
    sentences = _sentences(transcript.lines)
    if not sentences:
        return SummaryDoc(tldr="The thread has no messages that can be summarized.")
    freq = Counter(w for s in sentences for w in _words(s.text))
    top = max(freq.values()) if freq else 1
    for s in sentences:
        words = _words(s.text)
        if words:
            s.score = sum(freq[w] / top for w in set(words)) / (len(set(words)) ** 0.5)
        s.score *= 1.15 if s.index == 0 else 1.0
        if "redacted]" in s.text:
            s.score *= 0.3  # what is left of a sentence after redaction says little

    used: set[int] = set()
    decisions: list[Point] = []
    actions: list[ActionItem] = []
    questions: list[Point] = []
    for s in sentences:
        if _DECISION.search(s.text) and not s.text.rstrip().endswith("?"):
            decisions.append(Point(text=_clip(s.text), sources=[s.line.ref]))
            used.add(s.index)
        elif (a := _action(s)) is not None:
            actions.append(a)
            used.add(s.index)
        elif s.text.rstrip().endswith("?") and not _answered(s, sentences[s.index + 1 :]):
            questions.append(Point(text=_clip(s.text), sources=[s.line.ref]))
            used.add(s.index)

    rest = sorted((s for s in sentences if s.index not in used), key=lambda s: (-s.score, s.index))
    key = sorted(rest[:5], key=lambda s: s.index)
    key_points = [Point(text=_clip(s.text), sources=[s.line.ref]) for s in key]

    by_group: dict[str, _Sentence] = {}
    for s in sorted(sentences, key=lambda s: (-s.score, s.index)):
        group = s.line.group
        if group and group != "non-member" and group not in by_group:
            by_group[group] = s
    positions = [Position(group=g, position=_clip(s.text), sources=[s.line.ref]) for g, s in sorted(by_group.items())]

    people = len({line.speaker for line in transcript.lines if line.text != OPTED_OUT})
    lead = _clip(key[0].text if key else sentences[0].text, 220)
    counts = (
        f"{len(transcript.lines)} message{'s' if len(transcript.lines) != 1 else ''} from {people} "
        f"{'people' if people != 1 else 'person'}: {len(decisions)} decision{'s' if len(decisions) != 1 else ''}, "
        f"{len(actions)} action item{'s' if len(actions) != 1 else ''}, "
        f"{len(questions)} open question{'s' if len(questions) != 1 else ''}."
    )
    return SummaryDoc(
        tldr=f"{counts} Most discussed: “{lead}”",
        key_points=key_points,
        decisions=decisions[:8],
        action_items=actions[:10],
        open_questions=questions[:8],
        positions=positions[:6],
    )
