"""The synthesis of a pause-and-react round, through the summarizer: the LLM when one is configured,
the offline theme grouper (bot/live_themes.py) otherwise or when the model fails.

Reactions are user text and get the thread summarizer's treatment:
- a member who opted out of AI summaries (`/wg privacy opt-out`) has their reaction kept out of what
  is sent to the model (it is still counted, and listed under "other" in the post, as offline);
- e-mail addresses and phone numbers are redacted, and the prompt and reactions go to the model only
  between boundary markers drawn per request (spotlighting, bot/spotlight.py), never as instructions;
- the answer is validated against a schema (one repair, then the offline grouper answers) and
  filtered: links not present in the reactions are dropped with their sentence, mentions and
  broadcasts neutralised, lengths bounded. Theme membership is by reaction label, and the post shows
  the reactions' own text from the database, never the model's version of it;
- a model that is unreachable, keeps failing, or takes longer than `TIMEOUT` gives way to the offline
  grouper, with a note saying so.
The share of reactions per stakeholder group is counted by the caller, not by the model.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

import prompts
from bot import live_themes
from bot.llm import LLMError, Message
from bot.spotlight import OutputFilter, defuse, new_boundary
from bot.structured import Usage
from bot.summarizer import Summarizer
from bot.summary_schema import _strict
from bot.transcript import Transcript, redact

log = logging.getLogger(__name__)
#: the whole model exchange (retries and repair included) must fit in this, well within a job's lease
TIMEOUT = 60.0
MAX_THEMES = 8
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Reaction:
    id: int
    text: str
    group: str
    opted_out: bool = False


class PauseTheme(BaseModel):
    name: str = Field(max_length=200)
    reactions: list[str] = Field(default_factory=list, max_length=100)


class PauseDoc(BaseModel):
    synthesis: str = Field(max_length=3000)
    themes: list[PauseTheme] = Field(default_factory=list, max_length=20)

    @classmethod
    def llm_json_schema(cls) -> dict[str, Any]:
        return _strict(cls.model_json_schema())


@dataclass
class Synthesis:
    text: str
    #: (theme name, [(reaction text, stakeholder group)]), largest first
    themes: list[tuple[str, list[tuple[str, str]]]]
    engine: str  # "llm" or "offline"
    model: str | None = None
    note: str | None = None
    #: the reactions it was made from (id, text): a synthesis prepared earlier is used only if they are unchanged
    basis: tuple[tuple[int, str], ...] = field(default_factory=tuple)

    def label(self) -> str:
        if self.engine == "llm":
            return f"AI-generated synthesis ({self.model})"
        return "offline synthesis" + (f" — {self.note}" if self.note else "")


def basis_of(reactions: list[Reaction]) -> tuple[tuple[int, str], ...]:
    return tuple((r.id, r.text) for r in reactions)


def offline(prompt: str, reactions: list[Reaction], note: str | None = None) -> Synthesis:
    themes = live_themes.group([(r.text, r.group) for r in reactions], prompt)
    return Synthesis(
        text=live_themes.synthesis(themes),
        themes=[(t.name, list(t.items)) for t in themes],
        engine="offline",
        note=note,
        basis=basis_of(reactions),
    )


async def synthesize(summarizer: Summarizer | None, prompt: str, reactions: list[Reaction]) -> Synthesis:
    structured = summarizer.structured if summarizer is not None else None
    llm = summarizer.llm if summarizer is not None else None
    if structured is None or llm is None or not reactions:
        return offline(prompt, reactions)
    sent = [r for r in reactions if not r.opted_out]
    if not sent:
        return offline(prompt, reactions, "every reaction's author opted out of AI summaries")
    refs = {f"r{i}": r for i, r in enumerate(sent, 1)}
    lines = "\n".join(f"[{ref}] ({r.group}): {defuse(redact(r.text))}" for ref, r in refs.items())
    user = prompts.render("pause_user.j2", boundary=new_boundary(), prompt=defuse(redact(prompt)), reactions=lines)
    messages = [Message("system", prompts.text("pause_system.txt")), Message("user", user)]
    usage = Usage(model=llm.model)
    try:
        doc = await asyncio.wait_for(structured.ask(messages, PauseDoc, name="pause_synthesis", usage=usage), TIMEOUT)
    except (LLMError, TimeoutError) as exc:
        why = str(exc) or f"no answer within {TIMEOUT:.0f} s"
        log.warning("pause-round synthesis by the LLM failed, the offline grouper answers instead: %s", why)
        return offline(prompt, reactions, f"the AI model gave no usable synthesis ({why[:160]})")
    return _checked(doc, prompt, reactions, refs, usage.model or llm.model)


def _checked(doc: PauseDoc, prompt: str, reactions: list[Reaction], refs: dict[str, Reaction], model: str) -> Synthesis:
    """The model's answer, filtered: its text without foreign links or mentions; its themes as
    groups of our reactions (unknown or repeated labels ignored; what it left out goes to "other")."""
    source = "\n".join([prompt, *(r.text for r in refs.values())])
    filt = OutputFilter(Transcript(), source)
    kept = [t for part in _SENTENCES.split(doc.synthesis) if (t := filt.text(part, 600, drop_on_link=True))]
    text = " ".join(kept)[:900] or "(the model's synthesis was left out: it did not pass the output filter)"
    placed: set[int] = set()
    grouped: list[tuple[str, list[Reaction]]] = []
    for theme in doc.themes:
        items = []
        for ref in theme.reactions:
            r = refs.get(ref.strip().strip("[]").lower())
            if r is not None and r.id not in placed:
                placed.add(r.id)
                items.append(r)
        if items:
            grouped.append((filt.text(theme.name, 60) or "theme", items))
    grouped = sorted(grouped, key=lambda t: -len(t[1]))[:MAX_THEMES]
    shown = {r.id for _, items in grouped for r in items}
    rest = [r for r in reactions if r.id not in shown]
    if rest:
        grouped.append(("other", rest))
    themes = [(name, [(r.text, r.group) for r in items]) for name, items in grouped]
    total = len(reactions)
    head = f"{total} reaction(s) in {len(themes)} theme(s)."
    return Synthesis(text=f"{head} {text}", themes=themes, engine="llm", model=model, basis=basis_of(reactions))
