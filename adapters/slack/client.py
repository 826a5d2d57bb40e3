"""Web API clients for the adapter.

Two clients on purpose: the one answering interactions retries a 429 once after `Retry-After`
(slack_sdk's RateLimitErrorRetryHandler is off by default) because a person is waiting for that
answer; the outbox's client does not, because the outbox records the failure and retries durably
without holding up the dispatcher. `SLACK_API_URL` replaces the Web API base URL (GovSlack, tests).
"""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

DEFAULT_API_URL = "https://slack.com/api/"


def api_url(settings: Settings) -> str:
    url = settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def interactive_client(settings: Settings) -> AsyncWebClient:
    client = web_client(settings)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    return client


def web_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(token=token, base_url=api_url(settings), timeout=15)
