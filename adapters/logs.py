"""Logging set-up for the processes the CLI starts. Secrets never reach a log line: every record is
scrubbed of the configured secret values and of anything shaped like a Slack, Discord or OpenAI
token, in the message and in tracebacks alike."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from bot.config import Settings

_TOKEN_SHAPES = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}|sk-[A-Za-z0-9_-]{16,}"
    r"|[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,})"
)


class SecretFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _TOKEN_SHAPES.sub("***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
            record.msg = f"{record.msg}\n{self.scrub(text)}"
        return True


def secret_values(settings: Settings) -> list[str]:
    values = []
    for name in (
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "discord_token",
        "openai_api_key",
        "smtp_password",
    ):
        secret = getattr(settings, name)
        if secret is not None:
            values.append(secret.get_secret_value())
    return values


#: exceptions that mean "the network or the platform is unreachable": expected, retried, and logged
#: as one line (type and message) rather than a traceback per attempt
NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError)
#: (logger prefix, text) of lines that say nothing useful about wgbot: discord.py's voice support (PyNaCl, davey)
#: (wgbot has no voice), Bolt's note that the client given wins over SLACK_BOT_TOKEN (on purpose)
NOISE = (("discord.client", "voice will NOT be supported"), ("slack_bolt", "`token` will be unused"))
#: libraries whose INFO lines are routine (migrations run, the waker's job re-added every tick)
QUIET = ("aiosqlite", "sqlalchemy.engine", "discord.gateway", "apscheduler", "alembic", "slack_sdk")


def _network_errors() -> tuple[type[BaseException], ...]:
    extra: list[type[BaseException]] = []
    with contextlib.suppress(ImportError):
        import aiohttp

        extra.append(aiohttp.ClientError)
    with contextlib.suppress(ImportError):
        import discord

        extra += [discord.ConnectionClosed, discord.GatewayNotFound, discord.DiscordServerError]
    return (*NETWORK_ERRORS, *extra)


class NoiseFilter(logging.Filter):
    """Drops the known useless lines, and turns a network error's traceback into one line."""

    def __init__(self) -> None:
        super().__init__()
        self.network = _network_errors()

    def filter(self, record: logging.LogRecord) -> bool:
        if any(record.name.startswith(prefix) and text in record.getMessage() for prefix, text in NOISE):
            return False
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and isinstance(exc, self.network):
            record.msg = f"{record.getMessage()} ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


#: the longest message (tracebacks apart) a log line carries; the rest is cut, with a note
MAX_MESSAGE = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class OneLineFilter(logging.Filter):
    """Keeps each event on one line of bounded length, whatever text it quotes.

    Bolt logs a request whose signature or timestamp is wrong with its whole body: anyone who can
    reach /slack/events could write a megabyte per request into the log, or start a new line that
    looks like one of ours (`…\n2026-… INFO bot.leader: …`). Such a request now leaves one line
    without its body, and every message has its control characters escaped and is cut at
    `MAX_MESSAGE` characters, after `scrub` (so a cut never leaves part of a secret). Tracebacks
    (added later by `SecretFilter`) keep their lines."""

    def __init__(self, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.scrub(record.getMessage())
        if record.name.startswith("slack_bolt") and message.startswith("Invalid request signature detected"):
            message = "Slack request refused: invalid signature or timestamp (body not logged)"
        message = _CONTROL.sub(lambda m: repr(m.group())[1:-1], message)
        if len(message) > MAX_MESSAGE:
            message = f"{message[:MAX_MESSAGE]}… ({len(message) - MAX_MESSAGE} more characters not logged)"
        record.msg = message
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors (WGBOT_LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_handler(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """The handler `wgbot run` logs through (stderr unless `stream`): format and filters."""
    handler = logging.StreamHandler(stream)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    secrets = SecretFilter(secret_values(settings))
    handler.addFilter(NoiseFilter())
    handler.addFilter(OneLineFilter(secrets.scrub))
    handler.addFilter(secrets)
    return handler


def setup_logging(settings: Settings) -> None:
    root = logging.getLogger()
    root.handlers[:] = [log_handler(settings)]
    root.setLevel(settings.log_level.upper())
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
