"""Configuration from the environment and `.env` (pydantic-settings). Secrets are SecretStr: they
never show in a repr, a log line or an error message."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.ratelimit import Limit, Limits


class ShardSettingsError(ValueError):
    """DISCORD_SHARD_* settings that cannot be used together; the message is one line naming the variable
    (never a secret)."""


#: DISCORD_SHARD_COUNT at most: Discord asks for one shard per 2,500 servers at most, so this is room
#: for 250 million servers; a larger count is a typo (and discord.py would identify with it)
MAX_SHARD_COUNT = 100_000


def _numbers(text: str) -> list[int] | None:
    """`0, 2` → [0, 2]; None when any part is not a plain non-negative whole number. A part of more than
    12 digits reads as 10**12 (too large for any shard setting; int() refuses 4,300 digits and more)."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isascii() and part.isdigit() for part in parts):
        return None
    return [int(part) if len(part.lstrip("0")) <= 12 else 10**12 for part in parts]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    database_url: str = Field(default="sqlite:///wgbot.db", alias="WGBOT_DATABASE_URL")
    log_level: str = Field(default="INFO", alias="WGBOT_LOG_LEVEL")
    #: the absolute base of links in chat, digests and e-mails (the web record, the calendar feed)
    public_url: str | None = Field(default=None, alias="WGBOT_PUBLIC_URL")
    #: `text` for people, `json` (one object per line) for log collectors
    log_format: Literal["text", "json"] = Field(default="text", alias="WGBOT_LOG_FORMAT")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(default=None, alias="SLACK_API_URL")
    #: chat.postMessage calls per second across the workspace (Slack enforces a workspace-wide limit
    #: beside one per second per channel); the outbox paces itself to it instead of drawing 429s
    slack_posts_per_second: float = Field(default=50, gt=0, alias="SLACK_POSTS_PER_SECOND")
    #: Slack commands the process runs at once (0: no limit); the rest wait their turn in arrival order,
    #: which keeps acknowledgements quick under a burst (adapters/tasks.py `Gate`). Raise it if the
    #: database is far away (each command then spends longer waiting on it than computing).
    slack_concurrent_commands: int = Field(default=4, ge=0, alias="SLACK_CONCURRENT_COMMANDS")

    discord_token: SecretStr | None = Field(default=None, alias="DISCORD_TOKEN")
    discord_api_base: str | None = Field(default=None, alias="DISCORD_API_BASE")
    discord_gateway_url: str | None = Field(default=None, alias="DISCORD_GATEWAY_URL")
    #: several processes on one token: each runs some shards (`0,1`) of DISCORD_SHARD_COUNT; unset, one
    #: process runs every shard, as many as Discord recommends; see the README. Kept as text and read by
    #: `discord_sharding()` only where the Discord adapter starts (`wgbot run`; `wgbot doctor` warns), so
    #: a worker's shard settings in a shared environment never stop `wgbot db upgrade` or any other command
    discord_shard_ids: str | None = Field(default=None, alias="DISCORD_SHARD_IDS")
    #: one shard id: what DISCORD_SHARD_IDS replaced (kept so that existing deployments run unchanged)
    discord_shard_id: str | None = Field(default=None, alias="DISCORD_SHARD_ID")
    discord_shard_count: str | None = Field(default=None, alias="DISCORD_SHARD_COUNT")

    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", alias="WGBOT_LLM_MODEL")
    #: the model's context window, in tokens: long threads are split to fit it (map-reduce)
    llm_context_tokens: int = Field(default=8192, ge=1024, alias="WGBOT_LLM_CONTEXT_TOKENS")
    llm_max_output_tokens: int = Field(default=1200, ge=200, alias="WGBOT_LLM_MAX_OUTPUT_TOKENS")
    #: calls in flight at once while summarizing one long thread
    llm_concurrency: int = Field(default=3, ge=1, le=16, alias="WGBOT_LLM_CONCURRENCY")
    llm_timeout_seconds: float = Field(default=60, gt=0, alias="WGBOT_LLM_TIMEOUT_SECONDS")
    #: retries after a 429 or 5xx (the server's Retry-After is honoured)
    llm_max_retries: int = Field(default=2, ge=0, le=5, alias="WGBOT_LLM_MAX_RETRIES")
    #: tokens (in + out) per working group and calendar month; past it the offline summarizer answers
    llm_monthly_token_cap: int | None = Field(default=None, ge=0, alias="WGBOT_LLM_MONTHLY_TOKEN_CAP")
    summary_max_messages: int = Field(default=5000, ge=10, alias="WGBOT_SUMMARY_MAX_MESSAGES")

    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")
    smtp_port: int = Field(default=587, alias="SMTP_PORT")
    smtp_username: str | None = Field(default=None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_from: str | None = Field(default=None, alias="SMTP_FROM")
    smtp_starttls: bool = Field(default=True, alias="SMTP_STARTTLS")
    #: implicit TLS from the first byte (usually port 465) instead of STARTTLS
    smtp_tls: bool = Field(default=False, alias="SMTP_TLS")
    smtp_timeout_seconds: float = Field(default=30, gt=0, alias="SMTP_TIMEOUT_SECONDS")
    #: an operator's one-click unsubscribe endpoint (https); the mailto: one is always offered
    smtp_unsubscribe_url: str | None = Field(default=None, alias="SMTP_UNSUBSCRIBE_URL")

    #: how late a missed reminder may still be sent after downtime
    grace_minutes: int = Field(default=60, alias="WGBOT_GRACE_MINUTES")
    #: how long a claimed outbox message is held before another process may send it (after a crash)
    outbox_lease_seconds: float = Field(default=60, gt=0, alias="WGBOT_OUTBOX_LEASE_SECONDS")
    #: how long a claimed scheduled job is held before another process may run it (after a crash)
    job_lease_seconds: float = Field(default=120, gt=0, alias="WGBOT_JOB_LEASE_SECONDS")
    #: how often the live scheduler looks for work other processes scheduled
    scheduler_poll_seconds: float = Field(default=30, gt=0, alias="WGBOT_SCHEDULER_POLL_SECONDS")
    #: how often a standby process tries to become the engine leader (and the leader checks its lock)
    leader_retry_seconds: float = Field(default=5, gt=0, alias="WGBOT_LEADER_RETRY_SECONDS")
    #: cached thread text and summaries older than this are purged daily
    retention_days: int = Field(default=180, gt=0, alias="WGBOT_RETENTION_DAYS")

    #: per-person limits (0 turns one off); counted in the database, so they hold across processes
    rate_commands_per_minute: int = Field(default=30, ge=0, alias="WGBOT_RATE_COMMANDS_PER_MINUTE")
    rate_announcements_per_hour: int = Field(default=30, ge=0, alias="WGBOT_RATE_ANNOUNCEMENTS_PER_HOUR")
    rate_wrong_codes_per_hour: int = Field(default=5, ge=0, alias="WGBOT_RATE_WRONG_CODES_PER_HOUR")

    @property
    def discord_shard_settings_set(self) -> bool:
        """Whether any DISCORD_SHARD_* variable is set."""
        return (self.discord_shard_ids, self.discord_shard_id, self.discord_shard_count) != (None, None, None)

    def discord_sharding(self) -> tuple[list[int], int] | None:
        """The shards this process runs and the shard count (DISCORD_SHARD_IDS, or DISCORD_SHARD_ID alone,
        of DISCORD_SHARD_COUNT); None: no shard settings, the process runs every shard. Settings that do
        not fit together raise ShardSettingsError, one line naming the variable: ids need the count and
        the count ids, since a process given the count alone would not know which shards are its own, and
        the guilds of the others would go unserved (or be served twice)."""
        ids_text, single_text, count_text = self.discord_shard_ids, self.discord_shard_id, self.discord_shard_count
        if ids_text is not None and single_text is not None:
            raise ShardSettingsError("DISCORD_SHARD_IDS and DISCORD_SHARD_ID are both set: keep DISCORD_SHARD_IDS")
        name = "DISCORD_SHARD_ID" if single_text is not None else "DISCORD_SHARD_IDS"
        shards: list[int] | None = None
        if ids_text is not None:
            shards = _numbers(ids_text)
            if shards is None:
                raise ShardSettingsError("DISCORD_SHARD_IDS must be shard ids separated by commas, such as 0,1")
            if len(set(shards)) != len(shards):
                raise ShardSettingsError("DISCORD_SHARD_IDS names a shard twice")
        elif single_text is not None:
            shards = _numbers(single_text)
            if shards is None or len(shards) != 1:
                raise ShardSettingsError("DISCORD_SHARD_ID must be one shard id, 0 or above")
        count: int | None = None
        if count_text is not None:
            counts = _numbers(count_text)
            if counts is None or len(counts) != 1 or counts[0] < 1:
                raise ShardSettingsError("DISCORD_SHARD_COUNT must be a whole number, 1 or above")
            if counts[0] > MAX_SHARD_COUNT:
                raise ShardSettingsError(
                    f"DISCORD_SHARD_COUNT must be at most {MAX_SHARD_COUNT:,} (Discord needs one shard per 2,500 "
                    "servers at most)"
                )
            count = counts[0]
        if shards is not None and count is None:
            raise ShardSettingsError(f"{name} is set without DISCORD_SHARD_COUNT (the same count in every process)")
        if shards is None or count is None:
            if count is not None:
                raise ShardSettingsError(
                    "DISCORD_SHARD_COUNT is set without DISCORD_SHARD_IDS (this process's shards, such as 0,1; "
                    "together the processes run 0…count-1)"
                )
            return None
        if max(shards) >= count:
            raise ShardSettingsError(f"{name} must be below DISCORD_SHARD_COUNT ({count}): shards are 0…{count - 1}")
        return shards, count

    @property
    def limits(self) -> Limits:
        return Limits(
            commands=Limit(self.rate_commands_per_minute, timedelta(minutes=1)),
            announcements=Limit(self.rate_announcements_per_hour, timedelta(hours=1)),
            wrong_codes=Limit(self.rate_wrong_codes_per_hour, timedelta(hours=1)),
        )

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_app_token is not None or self.slack_signing_secret is not None
        )

    @property
    def discord_configured(self) -> bool:
        return self.discord_token is not None

    @property
    def llm_configured(self) -> bool:
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def smtp_configured(self) -> bool:
        return self.smtp_host is not None
