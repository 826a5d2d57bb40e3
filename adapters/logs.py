"""Logging set-up for the processes the CLI starts. Secrets never reach a log line: every record is
scrubbed of the configured secret values and of anything shaped like a Slack, Discord or OpenAI
token, in the message and in tracebacks alike."""

from __future__ import annotations

import logging
import re

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


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(secret_values(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("aiosqlite", "sqlalchemy.engine", "discord.gateway", "apscheduler.executors"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
