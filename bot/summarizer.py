"""From a privacy-filtered transcript to a validated, filtered summary: model when possible, offline otherwise.

- Unchanged thread (same per-message fingerprint, language and prompts as the cached summary): no call.
- Thread that only grew: one update call with the previous summary and the new messages.
- Otherwise the transcript is cut into chunks that fit `context_tokens` (with room for the system
  prompt and the answer), summarized in parallel with at most `concurrency` calls in flight (map),
  and the partial summaries merged in groups that fit the budget until one is left (reduce).
- Any failure (unreachable, retries exhausted, an answer that stays invalid after one repair) and the
  monthly token cap fall back to the offline summarizer, with a note saying why.
Token counts are estimated from characters (about 3 per token, on the safe side for prose) so the
budget holds without shipping a tokenizer per model.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import prompts
from bot.llm import LLM, LLMError, Message
from bot.offline_summary import summarize_offline
from bot.spotlight import OutputFilter, defuse, new_boundary
from bot.structured import Structured, Usage
from bot.summary_schema import SummaryDoc
from bot.transcript import Line, Transcript

log = logging.getLogger(__name__)
#: characters per token assumed when estimating (real prose is closer to 4)
CHARS_PER_TOKEN = 3
#: a single message longer than this is cut before it is sent
MAX_LINE_CHARS = 4000
#: template text around a chunk, beyond the system prompt
OVERHEAD_TOKENS = 250


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


@dataclass(frozen=True)
class SummaryConfig:
    context_tokens: int = 8192
    max_output_tokens: int = 1200
    concurrency: int = 3


@dataclass(frozen=True)
class Previous:
    fingerprint: list[list[str]]
    doc: SummaryDoc
    engine: str
    language: str
    prompt_version: str
    model: str | None = None


@dataclass
class Outcome:
    doc: SummaryDoc
    engine: str
    model: str | None
    prompt_version: str
    usage: Usage = field(default_factory=Usage)
    note: str | None = None
    cached: bool = False
    incremental: bool = False


class Summarizer:
    def __init__(self, llm: LLM | None, config: SummaryConfig | None = None) -> None:
        self.llm = llm
        self.config = config or SummaryConfig()
        self.structured = Structured(llm, max_tokens=self.config.max_output_tokens) if llm is not None else None
        self.system = prompts.text("summary_system.txt")

    @property
    def prompt_version(self) -> str:
        return prompts.version("summary") if self.llm is not None else "offline-1"

    @property
    def chunk_tokens(self) -> int:
        room = (
            self.config.context_tokens - self.config.max_output_tokens - estimate_tokens(self.system) - OVERHEAD_TOKENS
        )
        return max(room, 200)

    async def summarize(
        self,
        transcript: Transcript,
        *,
        lang: str,
        previous: Previous | None = None,
        tokens_left: int | None = None,
    ) -> Outcome:
        version = self.prompt_version
        if (
            previous is not None
            and previous.fingerprint == transcript.fingerprint
            and previous.language == lang
            and previous.prompt_version == version
        ):
            return Outcome(previous.doc, previous.engine, previous.model, version, cached=True)
        if self.structured is None or self.llm is None:
            return self._offline(transcript, None)
        if tokens_left is not None and tokens_left <= 0:
            return self._offline(transcript, "this group's monthly AI token allowance is used up")
        usage = Usage(model=self.llm.model)
        try:
            doc, incremental = await self._with_llm(transcript, lang, previous, usage)
        except LLMError as exc:
            log.warning("summary by the LLM failed, the offline summarizer answers instead: %s", exc)
            outcome = self._offline(transcript, f"the AI model could not produce a valid summary ({exc})")
            outcome.usage = usage
            return outcome
        filtered = OutputFilter(transcript, _thread_text(transcript)).apply(doc)
        return Outcome(filtered, "llm", usage.model or self.llm.model, version, usage, incremental=incremental)

    def _offline(self, transcript: Transcript, why: str | None) -> Outcome:
        doc = OutputFilter(transcript, _thread_text(transcript)).apply(summarize_offline(transcript))
        note = f"The offline summarizer wrote this because {why}." if why else None
        return Outcome(doc, "offline", None, "offline-1", note=note)

    # ---- the model ---------------------------------------------------------------------------

    async def _with_llm(
        self, transcript: Transcript, lang: str, previous: Previous | None, usage: Usage
    ) -> tuple[SummaryDoc, bool]:
        lines = transcript.lines
        old = previous.fingerprint if previous is not None else []
        if (
            previous is not None
            and previous.engine == "llm"
            and previous.language == lang
            and previous.prompt_version == self.prompt_version
            and 0 < len(old) < len(lines)
            and transcript.fingerprint[: len(old)] == old
        ):
            new = lines[len(old) :]
            prev_json = previous.doc.dump()
            if estimate_tokens(_render(new)) + estimate_tokens(prev_json) <= self.chunk_tokens:
                return await self._update(previous.doc, new, lang, usage), True
        chunks = self._chunks(lines)
        if len(chunks) == 1:
            return await self._map(chunks[0], lang, usage, None), False
        limit = asyncio.Semaphore(max(1, self.config.concurrency))

        async def bounded(i: int, chunk: list[Line]) -> SummaryDoc:
            async with limit:
                return await self._map(chunk, lang, usage, (i + 1, len(chunks)))

        partials = list(await asyncio.gather(*(bounded(i, c) for i, c in enumerate(chunks))))
        return await self._reduce(partials, lang, usage, limit), False

    def _chunks(self, lines: list[Line]) -> list[list[Line]]:
        chunks: list[list[Line]] = [[]]
        size = 0
        for line in lines:
            cost = estimate_tokens(_render([line]))
            if chunks[-1] and size + cost > self.chunk_tokens:
                chunks.append([])
                size = 0
            chunks[-1].append(line)
            size += cost
        return chunks

    def _messages(self, user: str) -> list[Message]:
        return [Message("system", self.system), Message("user", user)]

    async def _map(self, chunk: list[Line], lang: str, usage: Usage, part: tuple[int, int] | None) -> SummaryDoc:
        boundary = new_boundary()
        user = prompts.render(
            "summary_map.j2",
            part=part[0] if part else None,
            parts=part[1] if part else None,
            lang=lang,
            boundary=boundary,
            transcript=_render(chunk),
        )
        assert self.structured is not None
        return await self.structured.ask(self._messages(user), SummaryDoc, name="thread_summary", usage=usage)

    async def _update(self, previous: SummaryDoc, new: list[Line], lang: str, usage: Usage) -> SummaryDoc:
        boundary = new_boundary()
        user = prompts.render(
            "summary_update.j2",
            lang=lang,
            boundary=boundary,
            previous=defuse(previous.dump()),
            transcript=_render(new),
        )
        assert self.structured is not None
        return await self.structured.ask(self._messages(user), SummaryDoc, name="thread_summary", usage=usage)

    async def _reduce(
        self, partials: list[SummaryDoc], lang: str, usage: Usage, limit: asyncio.Semaphore
    ) -> SummaryDoc:
        assert self.structured is not None
        structured = self.structured
        while len(partials) > 1:
            groups = self._groups(partials)

            async def merge(group: list[SummaryDoc]) -> SummaryDoc:
                if len(group) == 1:
                    return group[0]
                boundary = new_boundary()
                text = "\n".join(f"PART {i}: {defuse(d.dump())}" for i, d in enumerate(group, 1))
                user = prompts.render("summary_reduce.j2", lang=lang, boundary=boundary, partials=text)
                async with limit:
                    return await structured.ask(self._messages(user), SummaryDoc, name="thread_summary", usage=usage)

            partials = list(await asyncio.gather(*(merge(g) for g in groups)))
        return partials[0]

    def _groups(self, partials: list[SummaryDoc]) -> list[list[SummaryDoc]]:
        """Consecutive partials merged together, each group within the budget: as few groups as a
        greedy fill makes, then evened out (30 partials that fit 7 to a call: 5 merges of 6, not
        4 of 7 and one of 2), so the next level's parts are of a size and fit together better."""
        costs = [estimate_tokens(doc.dump()) + 5 for doc in partials]
        greedy: list[list[int]] = [[]]
        size = 0
        for i, cost in enumerate(costs):
            if greedy[-1] and size + cost > self.chunk_tokens:
                greedy.append([])
                size = 0
            greedy[-1].append(i)
            size += cost
        if len(greedy) == len(partials):  # no two fit together: merging cannot make progress
            return [partials[i : i + 2] for i in range(0, len(partials), 2)]
        n = len(greedy)
        bounds = [round(k * len(partials) / n) for k in range(n + 1)]
        even = [list(range(bounds[k], bounds[k + 1])) for k in range(n)]
        if all(sum(costs[i] for i in g) <= self.chunk_tokens for g in even):
            greedy = even
        return [[partials[i] for i in g] for g in greedy]


def _render(lines: list[Line]) -> str:
    out = []
    for line in lines:
        text = line.text if len(line.text) <= MAX_LINE_CHARS else line.text[:MAX_LINE_CHARS] + " […]"
        out.append(defuse(Line(line.ref, line.speaker, line.group, text, line.at, line.link, "").render()))
    return "\n".join(out)


def _thread_text(transcript: Transcript) -> str:
    return "\n".join(line.text for line in transcript.lines)


def doc_from_json(value: object) -> SummaryDoc | None:
    try:
        return SummaryDoc.model_validate(value if isinstance(value, dict) else json.loads(str(value)))
    except (ValueError, TypeError):
        return None


def latest_per_thread(rows: Iterable[Any]) -> Iterator[tuple[Any, SummaryDoc]]:
    """From stored summaries (storage.models.ThreadSummary rows), newest first: the latest readable
    summary of each thread, with its document. The digest, the web record and the white paper all
    read the cache this way."""
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        place = (row.platform, row.channel_id, row.thread_id)
        if place in seen:
            continue
        doc = doc_from_json(row.doc)
        if doc is None:
            continue
        seen.add(place)
        yield row, doc
