"""The LLM endpoint down (nothing listening) or hanging (accepts, never answers): `/wg summarize`
falls back to the offline summarizer, labelled, with the reason — after at most the configured
timeout, not a hang. (5xx, 429 and malformed answers: tests/summaries/test_llm.py.)"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from bot.clock import VirtualClock
from storage.db import Database
from tests.summaries.conftest import make_env
from tests.summaries.test_llm import _thread


@dataclass
class Address:
    """Where make_env points the OpenAI client (what it reads of a FakeOpenAI)."""

    base_url: str


class Hanging:
    """An OpenAI-compatible address whose server accepts requests and never answers them."""

    def __init__(self) -> None:
        self.requests = 0
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> None:
        async def never(request: web.Request) -> web.Response:
            self.requests += 1
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", never)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"


@pytest.fixture
async def hanging() -> AsyncIterator[Hanging]:
    h = Hanging()
    await h.start()
    yield h
    assert h.runner is not None
    await h.runner.cleanup()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there now


async def test_an_llm_endpoint_that_is_down_falls_back_offline(db: Database, clock: VirtualClock) -> None:
    down = Address(closed_port_url())
    env = await make_env(db, clock, down)  # type: ignore[arg-type]
    env.llm.client = env.llm.client.with_options(timeout=2, max_retries=1)
    try:
        await _thread(env)
        text = await asyncio.wait_for(env.summary(), 60)  # a bound against a hang, not a timing check
        assert "offline summarizer" in text and "AI-generated" not in text
        assert "We agreed to start from MITRE ATLAS" in text
    finally:
        await env.llm.close()


async def test_a_hanging_llm_endpoint_falls_back_after_the_timeout(
    db: Database, clock: VirtualClock, hanging: Hanging
) -> None:
    env = await make_env(db, clock, hanging)  # type: ignore[arg-type]
    # WGBOT_LLM_TIMEOUT_SECONDS=1, WGBOT_LLM_MAX_RETRIES=0: the client as from_settings would build it
    env.llm.client = env.llm.client.with_options(timeout=1, max_retries=0)
    try:
        await _thread(env)
        text = await asyncio.wait_for(env.summary(), 60)
        assert hanging.requests >= 1  # it was asked, and did not answer
        assert "offline summarizer" in text and "AI-generated" not in text
        assert "We agreed to start from MITRE ATLAS" in text
    finally:
        await env.llm.close()
