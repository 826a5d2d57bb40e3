"""The port through which the core talks to a language model, and nothing else does.

The core never imports an LLM SDK: `adapters/llm/openai_client.py` implements `LLM` with the official
`openai` async client (any OpenAI-compatible server), and `bootstrap.build()` injects it when one is
configured. Without it the offline summarizer answers (bot/offline_summary.py).

A call asks for one of three output modes, from the strictest to the loosest: `json_schema` (the
server enforces the schema), `json_object` (valid JSON, any shape) and `text` (the schema is only in
the instructions). Servers differ — llama.cpp's Python server rejects `json_schema` — so an
implementation raises `FormatUnsupported` when the server refuses a mode, and the caller degrades to
the next one (bot/structured.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

Mode = Literal["json_schema", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "text")


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    #: the model that answered, as the server names it
    model: str
    tokens_in: int
    tokens_out: int


class LLMError(Exception):
    """The model could not give an answer (unreachable, timed out, kept failing, refused)."""


class FormatUnsupported(LLMError):
    """The server refused the requested output mode (e.g. `json_schema` on llama.cpp)."""


class LLM(Protocol):
    #: the model asked for (WGBOT_LLM_MODEL)
    model: str

    async def complete(
        self,
        messages: list[Message],
        *,
        mode: Mode,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
        max_tokens: int = 1024,
    ) -> Completion:
        """One chat completion, no tools, nothing stored server-side where the API allows it.

        Raises FormatUnsupported when the server refuses `mode`, LLMError for anything else that
        leaves no answer (after the implementation's bounded retries)."""
        ...

    async def check(self) -> str:
        """For `wgbot doctor`: a one-line verdict; raises LLMError when the endpoint is unusable."""
        ...
