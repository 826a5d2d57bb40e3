"""`wgbot run` with SMTP_* set: the e-mail sender joins the outbox dispatcher (no loop of its own)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from adapters.email.sender import EmailSender
from bot.bootstrap import App
from bot.config import Settings

log = logging.getLogger(__name__)


async def start(app: App, settings: Settings, options: dict[str, Any]) -> list[Awaitable[None]]:
    if not settings.smtp_from:
        log.error("SMTP_HOST is set but SMTP_FROM is not: e-mails stay queued until it is")
        return []
    app.dispatcher.add_sender(EmailSender(settings))
    log.info("e-mail delivery through %s:%s", settings.smtp_host, settings.smtp_port)
    return []
