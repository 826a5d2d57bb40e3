"""Web API clients for the adapter.

Two clients on purpose: the one answering interactions retries a 429 once after `Retry-After`
(slack_sdk's RateLimitErrorRetryHandler is off by default) because a person is waiting for that
answer; the outbox's client does not, because the outbox records the failure and retries durably
without holding up the dispatcher. `SLACK_API_URL` replaces the Web API base URL (GovSlack, tests).

The interactive client keeps one aiohttp session (`PooledWebClient`): slack_sdk otherwise opens a
session, and so a new TCP and TLS connection to Slack, for every call — for every answer a member
waits for. The adapter closes it when it stops.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

DEFAULT_API_URL = "https://slack.com/api/"


def api_url(settings: Settings) -> str:
    url = settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


class PooledWebClient(AsyncWebClient):
    """An AsyncWebClient reusing one aiohttp session (keep-alive connections), opened on first use in
    the running loop."""

    async def _request(self, *, http_verb: str, api_url: str, req_args: dict[str, Any]) -> dict[str, Any]:
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return await super()._request(http_verb=http_verb, api_url=api_url, req_args=req_args)

    async def close(self) -> None:
        if self.session is not None and not self.session.closed:
            await self.session.close()


def interactive_client(settings: Settings) -> PooledWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = PooledWebClient(token=token, base_url=api_url(settings), timeout=15)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return client


def web_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(token=token, base_url=api_url(settings), timeout=15)
