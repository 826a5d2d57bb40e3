"""An app wired to the real `openai` client, pointed at the loopback fake OpenAI-compatible server."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.console.chatlog import ChatLog
from adapters.console.simulate import ensure_sim_group
from adapters.llm.openai_client import OpenAICompatibleLLM
from bot.bootstrap import App, build
from bot.clock import VirtualClock
from bot.command import UserRef, Where
from bot.config import Settings
from bot.reply import Response
from storage.db import Database
from tests.fakes.openai_server import FakeOpenAI


@dataclass
class LlmEnv:
    app: App
    server: FakeOpenAI
    chat: ChatLog
    llm: OpenAICompatibleLLM

    async def say(self, name: str, text: str, *, thread: str | None = None) -> Response:
        user = UserRef("console", name, name)
        where = Where("console", "wg", "wg", thread_id=thread)
        if not text.startswith("/"):
            await self.chat.record(user, where, text)
            return Response()
        return await self.app.core.handle_text(text, user, where)

    async def summary(self, thread: str = "t1", by: str = "alice", extra: str = "") -> str:
        response = await self.say(by, f"/wg summarize {extra}".strip(), thread=thread)
        [reply] = response.replies
        assert reply.kind == "summary", reply.to_text()
        return reply.to_text()


async def make_env(db: Database, clock: VirtualClock, server: FakeOpenAI, **env: Any) -> LlmEnv:
    settings = Settings(
        WGBOT_DATABASE_URL=str(db.url),
        OPENAI_API_KEY="sk-test-not-a-secret",
        OPENAI_BASE_URL=server.base_url,
        WGBOT_LLM_MODEL="test-model",
        WGBOT_LLM_MAX_RETRIES=2,
        WGBOT_LLM_TIMEOUT_SECONDS=20,
        **env,
    )
    llm = OpenAICompatibleLLM.from_settings(settings)
    app = await build(settings, clock=clock, db=db, rng=random.Random(0), worker_id="test", upgrade=False, llm=llm)
    await ensure_sim_group(app)
    chat = ChatLog(clock)
    app.extras["thread_sources"]["console"] = chat.source("console")  # type: ignore[index]
    return LlmEnv(app, server, chat, llm)


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def env(db: Database, clock: VirtualClock, server: FakeOpenAI) -> AsyncIterator[LlmEnv]:
    e = await make_env(db, clock, server)
    yield e
    await e.llm.close()
