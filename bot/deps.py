"""What slow commands need beyond their transaction: the thread readers, the summarizer, the LLM.

`bootstrap.build()` makes one `Deps`; adapters add their `ThreadSource` to `thread_sources` when
they start (the dict is shared with `App.extras["thread_sources"]`). A handler that must do slow I/O
(read a thread, call a model) returns a `Followup`: the core commits the handler's transaction
first, then runs the follow-up with no transaction open, so a 30-second model call never holds a
database lock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.llm import LLM
from bot.reply import Response
from bot.summarizer import Summarizer
from bot.threads import ThreadSource
from storage.db import Database


@dataclass
class Deps:
    db: Database
    clock: Clock
    summarizer: Summarizer
    llm: LLM | None = None
    thread_sources: dict[str, ThreadSource] = field(default_factory=dict)
    #: per working group and calendar month (UTC); None = no cap
    monthly_token_cap: int | None = None
    #: a thread longer than this is summarized from its first messages only, with a note
    max_thread_messages: int = 5000


@dataclass
class Followup:
    """Work a command continues after its transaction committed (see module docstring)."""

    run: Callable[[], Awaitable[Response]]
