"""Figure 6: summarizing a 2,000-message thread through a slow, small model; then 20 new messages.

    .venv/bin/python bench/fig_summary.py [--messages 2000] [--latency-ms 300] [--quick]

The real app (`/wg summarize` in a thread, through the core) and the real `openai` client talk to the
loopback OpenAI-compatible fake of tests/fakes/openai_server.py, here made to behave like a small
local model: every answer takes `--latency-ms`, and a request whose prompt and answer do not fit its
8k context is refused with a 400 `context_length_exceeded` (counted as the fake counts tokens: 4
characters each), as llama.cpp or vLLM would. It also records how many requests were in flight.

Figures:
- `summary_calls`: calls the full summary used; `summary_calls_min`: the fewest the budget allows —
  enough map calls to cover the transcript's tokens in chunks of the room a call leaves
  (context − answer − system prompt − template), plus the fewest merges of those partial summaries
  whose fan-in the measured partial size permits.
- `summary_wall_ratio`: the full summary's wall time divided by the ideal with the configured
  concurrency: (⌈maps / concurrency⌉ + merge levels) × latency, the merge levels at the measured fan-in.
  Target ≤ 1.3.
- `summary_incremental_token_ratio`: tokens (prompt + completion, as the server reports them) of the
  update for 20 new messages, divided by those of the full summary. Target ≤ 0.1.
A figure, not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.console.chatlog import ChatLog
from adapters.console.simulate import ensure_sim_group
from adapters.llm.openai_client import OpenAICompatibleLLM
from bot.bootstrap import build
from bot.clock import VirtualClock
from bot.command import UserRef, Where
from bot.config import Settings
from bot.summarizer import OVERHEAD_TOKENS, estimate_tokens
from tests.conftest import START
from tests.fakes.openai_server import FakeOpenAI

CONTEXT = 8192
GROUPS = ["civil-society", "government", "private-sector", "technical-community", "academia", "intergovernmental"]
WORDS = (
    "taxonomy incident model theft red-teaming disclosure norms evaluation benchmark provenance watermark "
    "supply chain audit liability sandbox regulator capacity building open weights threat intelligence"
).split()


class SlowSmallModel(FakeOpenAI):
    """The fake with a fixed latency per answer and an 8k context it enforces."""

    def __init__(self, latency: float, context: int = CONTEXT) -> None:
        super().__init__()
        self.latency = latency
        self.context = context
        self.in_flight = 0
        self.max_in_flight = 0
        self.refused = 0
        self.usage: list[dict[str, int]] = []

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
            prompt = sum(len(m["content"]) for m in body["messages"]) // 4
            if prompt + int(body.get("max_tokens") or 0) > self.context:
                self.refused += 1
                error = {"message": f"{prompt} prompt tokens + max_tokens exceed the {self.context}-token context"}
                return web.json_response({"error": {**error, "code": "context_length_exceeded"}}, status=400)
            response = await super()._chat(_Replay(body))  # type: ignore[arg-type]
            self.usage.append(json.loads(response.text or "{}").get("usage") or {})
            return response
        finally:
            self.in_flight -= 1

    def tokens(self, since: int = 0) -> int:
        return sum(int(u.get("total_tokens", 0)) for u in self.usage[since:])

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/stats", self._stats)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "requests": self.requests,
                "usage": self.usage,
                "max_in_flight": self.max_in_flight,
                "refused": self.refused,
            }
        )


def serve(latency: float) -> None:
    """The model in a process of its own (as a real one is): its CPU is not the bot's event loop's."""

    async def main() -> None:
        server = SlowSmallModel(latency)
        await server.start()
        print(server.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


class Model:
    """The client side of the model process: its URL and its records."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(latency)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.requests: list[dict[str, Any]] = []
        self.usage: list[dict[str, int]] = []
        self.max_in_flight = 0
        self.refused = 0

    async def refresh(self) -> None:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{self.port}/stats") as resp:
            stats = await resp.json()
        self.requests, self.usage = stats["requests"], stats["usage"]
        self.max_in_flight, self.refused = stats["max_in_flight"], stats["refused"]

    def tokens(self, since: int = 0) -> int:
        return sum(int(u.get("total_tokens", 0)) for u in self.usage[since:])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class _Replay:
    """The parsed body handed to the base class, which reads it with `await request.json()`."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.headers: dict[str, str] = {}

    async def json(self) -> dict[str, Any]:
        return self.body


def message(rng: random.Random, i: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40)))
    if i % 97 == 0:
        return f"We agreed that the {words} needs a decision."
    if i % 89 == 0:
        return f"I'll draft the {words} by Friday."
    if i % 13 == 0:
        return f"What about {words}?"
    return f"On {words}."


async def measure(n: int, latency: float, concurrency: int) -> dict[str, Any]:
    server = Model(latency)
    tmp = tempfile.mkdtemp(prefix="wgbot-fig-summary-")
    url = f"sqlite:///{Path(tmp) / 'bench.db'}"
    settings = Settings(
        WGBOT_DATABASE_URL=url,
        OPENAI_API_KEY="sk-bench-not-a-secret",
        OPENAI_BASE_URL=server.base_url,
        WGBOT_LLM_MODEL="test-model",
        WGBOT_LLM_CONTEXT_TOKENS=CONTEXT,
        WGBOT_LLM_CONCURRENCY=concurrency,
        WGBOT_LLM_MAX_RETRIES=0,
        WGBOT_LLM_TIMEOUT_SECONDS=60,
        WGBOT_RATE_COMMANDS_PER_MINUTE=0,
    )
    clock = VirtualClock(START)
    llm = OpenAICompatibleLLM.from_settings(settings)
    app = await build(settings, clock=clock, rng=random.Random(0), worker_id="bench", llm=llm)
    try:
        await ensure_sim_group(app)
        chat = ChatLog(clock)
        app.extras["thread_sources"]["console"] = chat.source("console")  # type: ignore[index]
        where = Where("console", "wg", "wg", thread_id="t1")
        people = [UserRef("console", f"member{k}", f"member{k}") for k in range(60)]
        for k, who in enumerate(people):
            await app.core.handle_text(f"/wg join {GROUPS[k % len(GROUPS)]}", who, Where("console", "wg", "wg"))
        rng = random.Random(6)

        async def say(count: int, offset: int) -> None:
            for i in range(offset, offset + count):
                await chat.record(people[i % len(people)], where, message(rng, i))

        async def summarize() -> tuple[float, str]:
            t0 = time.perf_counter()
            response = await app.core.handle_text("/wg summarize", people[0], where)
            wall = time.perf_counter() - t0
            [reply] = response.replies
            return wall, reply.to_text()

        await say(n, 0)
        summarizer = app.core.deps.summarizer  # type: ignore[union-attr]
        budget = summarizer.chunk_tokens
        wall, text = await summarize()
        await server.refresh()
        full_calls, full_tokens = len(server.usage), server.tokens()
        if "AI-generated" not in text or server.refused:
            raise RuntimeError(f"the full summary did not come from the model ({server.refused} refused): {text[:300]}")
        map_requests = [r for r in server.requests if "PART 1: " not in r["messages"][-1]["content"]]
        reduce_requests = [r for r in server.requests if "PART 1: " in r["messages"][-1]["content"]]
        partial_tokens = _partial_tokens(reduce_requests)

        transcript_tokens = sum(_transcript_tokens(r) for r in map_requests)
        maps_min = max(1, math.ceil(transcript_tokens / budget))
        fan_in = max(2, budget // max(1, partial_tokens + 5))
        merges_min = math.ceil((maps_min - 1) / (fan_in - 1)) if maps_min > 1 else 0
        rounds = math.ceil(maps_min / concurrency) + _merge_rounds(maps_min, fan_in, concurrency)
        ideal = rounds * latency

        await say(20, n)
        before = len(server.usage)
        inc_wall, inc_text = await summarize()
        await server.refresh()
        inc_calls, inc_tokens = len(server.usage) - before, server.tokens(before)
        if "AI-generated" not in inc_text:
            raise RuntimeError(f"the update did not come from the model: {inc_text[:300]}")
        return {
            "summary_calls": full_calls,
            "summary_calls_min": maps_min + merges_min,
            "summary_map_calls": len(map_requests),
            "summary_reduce_calls": len(reduce_requests),
            "summary_wall_s": round(wall, 2),
            "summary_wall_ideal_s": round(ideal, 2),
            "summary_wall_ratio": round(wall / ideal, 3),
            "summary_wall_ideal_rounds": rounds,
            "summary_max_in_flight": server.max_in_flight,
            "summary_concurrency": concurrency,
            "summary_full_tokens": full_tokens,
            "summary_incremental_calls": inc_calls,
            "summary_incremental_tokens": inc_tokens,
            "summary_incremental_wall_s": round(inc_wall, 2),
            "summary_incremental_token_ratio": round(inc_tokens / full_tokens, 4),
            "summary_messages": n,
            "summary_latency_ms": round(latency * 1000),
        }
    finally:
        await app.close()
        server.stop()


def _block(request: dict[str, Any]) -> str:
    content = request["messages"][-1]["content"]
    start = content.find(">>\n")
    end = content.rfind("\n<<END ")
    return content[start + 3 : end] if start >= 0 and end > start else content


def _transcript_tokens(request: dict[str, Any]) -> int:
    return estimate_tokens(_block(request))


def _partial_tokens(reduce_requests: list[dict[str, Any]]) -> int:
    """The average size of one partial summary handed to a merge, in the summarizer's estimate."""
    sizes = [
        estimate_tokens(line.split(": ", 1)[1])
        for r in reduce_requests
        for line in _block(r).splitlines()
        if line.startswith("PART ")
    ]
    return int(sum(sizes) / len(sizes)) if sizes else OVERHEAD_TOKENS


def _merge_rounds(parts: int, fan_in: int, concurrency: int) -> int:
    """Rounds of `concurrency` calls the merges take, level by level, at the given fan-in."""
    rounds = 0
    while parts > 1:
        parts = math.ceil(parts / fan_in)
        rounds += math.ceil(parts / concurrency)
    return rounds


def run(quick: bool) -> dict[str, Any]:
    return asyncio.run(measure(2000, 0.3, 3))


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(float(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.messages, args.latency_ms / 1000, args.concurrency))
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
