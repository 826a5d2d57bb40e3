"""Asking a model for JSON of a known shape, whatever the server supports, and checking it in code.

Modes are tried from the strictest (`json_schema`) down to plain instructions (`text`); a server that
refused one mode is not asked in it again by this process (`Structured.mode`). The answer is parsed
and validated with pydantic; an answer that fails gets exactly one repair request (the error is
quoted, never the instructions repeated from the thread), then `InvalidAnswer` — the caller falls
back to the offline summarizer. Raw model output never leaves this module except as a validated model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

import prompts
from bot.llm import LLM, MODES, FormatUnsupported, LLMError, Message, Mode
from bot.summary_schema import SummaryDoc, parse_json_answer, summary_json_schema

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


class InvalidAnswer(LLMError):
    """The model answered twice with something that is not the requested JSON."""


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0
    model: str = ""

    def add(self, other: Usage) -> None:
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.calls += other.calls
        self.model = other.model or self.model


class Structured:
    def __init__(self, llm: LLM, *, max_tokens: int = 1200) -> None:
        self.llm = llm
        self.max_tokens = max_tokens
        #: the strictest mode this server accepted (sticky: servers do not change their mind)
        self.mode: Mode = "json_schema"

    async def _complete(self, messages: list[Message], schema: dict[str, Any], name: str, usage: Usage) -> str:
        for mode in MODES[MODES.index(self.mode) :]:
            sent = messages
            if mode == "text":
                hint = f"\n\nThe JSON object must follow this JSON schema:\n{json.dumps(schema)}"
                sent = [*messages[:-1], Message(messages[-1].role, messages[-1].content + hint)]
            try:
                done = await self.llm.complete(
                    sent,
                    mode=mode,
                    schema=schema if mode == "json_schema" else None,
                    schema_name=name,
                    max_tokens=self.max_tokens,
                )
            except FormatUnsupported as exc:
                if mode == "text":
                    raise LLMError("the server refused even plain text completions") from exc
                log.info("the LLM server refused response_format %s; trying a looser mode", mode)
                self.mode = MODES[MODES.index(mode) + 1]
                continue
            usage.add(Usage(done.tokens_in, done.tokens_out, 1, done.model))
            return done.text
        raise LLMError("no output mode left")  # pragma: no cover (the loop returns or raises)

    async def ask(self, messages: list[Message], model: type[M], *, name: str, usage: Usage) -> M:
        schema = _schema_of(model)
        raw = await self._complete(messages, schema, name, usage)
        try:
            return model.model_validate(parse_json_answer(raw))
        except (ValueError, ValidationError) as exc:
            error = _short_error(exc)
            log.warning("the model's answer was not valid %s (%s); asking once for a repair", name, error)
        repair = prompts.render("repair.j2", error=error, schema=json.dumps(schema) if self.mode == "text" else "")
        retry = [*messages, Message("assistant", raw[:6000]), Message("user", repair)]
        raw = await self._complete(retry, schema, name, usage)
        try:
            return model.model_validate(parse_json_answer(raw))
        except (ValueError, ValidationError) as exc:
            raise InvalidAnswer(f"the model's answer was not valid JSON for the summary ({_short_error(exc)})") from exc


def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema, a fresh copy each time (the caller may change it)."""
    return json.loads(_schema_text(model))


@cache
def _schema_text(model: type[BaseModel]) -> str:
    """Generated once per model: pydantic takes ~10 ms to build a schema, and a map-reduce summary
    asks for it on every call, on the path to the model."""
    if model is SummaryDoc:
        return json.dumps(summary_json_schema())
    custom = getattr(model, "llm_json_schema", None)  # a model that shapes its own (strict) schema
    return json.dumps(custom() if callable(custom) else model.model_json_schema())


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid')}"[:200]
    return str(exc)[:200]
