"""A real SMTP server on loopback (aiosmtpd) that records what it accepts, and can refuse a recipient."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from adapters.email.sender import EmailSender
from bot.config import Settings
from tests.conftest import Harness

#: how long a Controller may take to start its thread and answer (aiosmtpd's default, 5 s, is tight
#: on a loaded 2-core machine)
READY_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted, and the addresses it refuses with 550."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    #: each accepted message's bytes exactly as received, by recipient (what a mail client parses)
    raw: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        msg = message_from_bytes(data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.raw.append((list(envelope.rcpt_tos), data))
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for _, rcpts, m in self.messages if address in rcpts]

    def raw_to(self, address: str) -> list[bytes]:
        return [data for rcpts, data in self.raw if address in rcpts]


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"wgbot" and data.password == b"s3cret"
    return AuthResult(success=ok)


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=_auth,
            auth_require_tls=False,
            ready_timeout=READY_TIMEOUT,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def smtp_settings(db_url: str, port: int, **extra: Any) -> Settings:
    values = {
        "WGBOT_DATABASE_URL": db_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_FROM": "wg@example.org",
        "SMTP_STARTTLS": False,
        # SMTP_TIMEOUT_SECONDS stays at its default (30 s): the loopback server answers at once, and a
        # conversation cut short by a tight timeout on a loaded machine is retried and may go twice
        **extra,
    }
    return Settings(**values)


@pytest.fixture
def mail(harness: Harness, smtp_server: SmtpServer) -> Mailbox:
    """The harness's outbox sends `email:` rows to the loopback SMTP server instead of a recorder."""
    settings = smtp_settings(str(harness.app.db.url), smtp_server.port)
    harness.app.dispatcher.add_sender(EmailSender(settings))
    return smtp_server.mailbox
