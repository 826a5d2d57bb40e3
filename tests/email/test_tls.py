"""E-mail over TLS against aiosmtpd on loopback with a real certificate (a test CA from `trustme`):
STARTTLS required by the server (port 587 style), implicit TLS (port 465 style), login only over TLS,
and a certificate the sender does not trust. The sender and `wgbot doctor` use the default SSL
context, which trusts the system's CAs or the bundle named by `SSL_CERT_FILE` (OpenSSL's standard
variable): the tests point that at the test CA, as an operator with a private CA would."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from sqlmodel import select

from adapters.email.doctor import check_smtp
from adapters.email.sender import EmailSender
from bot.outbox import DeliveryError, Outgoing
from storage.models import OutboxMessage
from tests.conftest import Harness
from tests.email.conftest import READY_TIMEOUT, Mailbox, _auth, free_port, smtp_settings
from tests.email.test_email import ADDR, setup_group


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test CA as the process's CA bundle."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return bundle


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


class TlsMailbox(Mailbox):
    """Also records whether each login and each accepted message came over an encrypted connection."""

    def __init__(self) -> None:
        super().__init__()
        self.encrypted: list[bool] = []
        self.logins: list[tuple[bool, bool]] = []  # (accepted, over TLS)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        return await super().handle_DATA(server, session, envelope)

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        result = _auth(server, session, envelope, mechanism, data)
        self.logins.append((result.success, server.transport.get_extra_info("ssl_object") is not None))
        return result


def serve(mailbox: TlsMailbox, port: int, **tls: Any) -> Controller:
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, authenticator=mailbox.authenticate, ready_timeout=READY_TIMEOUT, **tls
    )
    controller.start()
    return controller


@pytest.fixture
def starttls_server(ca: trustme.CA) -> Iterator[tuple[TlsMailbox, int]]:
    """Port-587 style: plain connect, STARTTLS required before MAIL and before AUTH."""
    box, port = TlsMailbox(), free_port()
    controller = serve(box, port, tls_context=server_context(ca), require_starttls=True, auth_require_tls=True)
    yield box, port
    controller.stop()


@pytest.fixture
def implicit_server(ca: trustme.CA) -> Iterator[tuple[TlsMailbox, int]]:
    """Port-465 style: TLS from the first byte. (aiosmtpd's `auth_require_tls` knows only STARTTLS and
    would hide AUTH here; the mailbox checks instead that the login came encrypted.)"""
    box, port = TlsMailbox(), free_port()
    controller = serve(box, port, ssl_context=server_context(ca), auth_require_tls=False)
    yield box, port
    controller.stop()


LOGIN = {"SMTP_USERNAME": "wgbot", "SMTP_PASSWORD": "s3cret"}


async def test_starttls_and_login_deliver_and_the_doctor_passes(
    harness: Harness, starttls_server: tuple[TlsMailbox, int], trusted: Path
) -> None:
    box, port = starttls_server
    settings = smtp_settings(str(harness.app.db.url), port, SMTP_STARTTLS=True, **LOGIN)
    harness.app.dispatcher.add_sender(EmailSender(settings))
    await setup_group(harness)  # the welcome e-mail
    [msg] = box.to(ADDR)
    assert msg["Subject"] == "Welcome to the working group “wg”" and box.encrypted == [True]
    assert box.logins == [(True, True)]
    ok = await check_smtp(settings)
    assert ok.status == "ok" and "EHLO, STARTTLS, login ok" in ok.detail, ok.detail


async def test_without_starttls_the_server_refuses_and_nothing_is_lost(
    harness: Harness, starttls_server: tuple[TlsMailbox, int], trusted: Path
) -> None:
    box, port = starttls_server
    settings = smtp_settings(str(harness.app.db.url), port, SMTP_STARTTLS=False, **LOGIN)
    harness.app.dispatcher.add_sender(EmailSender(settings))
    await setup_group(harness)
    assert box.messages == []
    async with harness.app.db.session() as s:
        [row] = (await s.exec(select(OutboxMessage).where(OutboxMessage.platform == "email"))).all()
    # the server offers no login before STARTTLS: retried later (a configuration to fix), not dropped
    assert row.status == "pending" and "AUTH extension is not supported" in (row.last_error or "")
    bad = await check_smtp(settings)
    assert bad.status == "fail" and "passed: EHLO" in bad.detail and "AUTH extension" in bad.detail


async def test_implicit_tls_and_login_deliver_and_the_doctor_passes(
    harness: Harness, implicit_server: tuple[TlsMailbox, int], trusted: Path
) -> None:
    box, port = implicit_server
    settings = smtp_settings(str(harness.app.db.url), port, SMTP_TLS=True, **LOGIN)
    harness.app.dispatcher.add_sender(EmailSender(settings))
    await setup_group(harness)
    [msg] = box.to(ADDR)
    assert msg["To"] == ADDR and box.encrypted == [True] and box.logins == [(True, True)]
    ok = await check_smtp(settings)
    assert ok.status == "ok" and "EHLO, TLS, login ok" in ok.detail, ok.detail


async def test_an_untrusted_certificate_is_named_as_such(
    starttls_server: tuple[TlsMailbox, int], implicit_server: tuple[TlsMailbox, int], tmp_path: Path
) -> None:
    """No SSL_CERT_FILE: the test CA is unknown, so TLS must fail, and say why."""
    url = f"sqlite:///{tmp_path}/x.db"
    for port, tls in ((starttls_server[1], {"SMTP_STARTTLS": True}), (implicit_server[1], {"SMTP_TLS": True})):
        settings = smtp_settings(url, port, **tls, **LOGIN)
        check = await check_smtp(settings)
        assert check.status == "fail" and "certificate" in check.detail and "SSL_CERT_FILE" in check.detail
        sender = EmailSender(settings)
        with pytest.raises(DeliveryError) as failed:
            await sender.send(_outgoing())
        assert "certificate" in str(failed.value) and not failed.value.permanent
    assert starttls_server[0].messages == [] and implicit_server[0].messages == []


def _outgoing() -> Outgoing:
    from datetime import UTC, datetime

    from bot.outbox import Destination
    from bot.reply import Reply

    return Outgoing(
        id=1,
        key="tls-test",
        destination=Destination("email", f"email:{ADDR}", f"email:{ADDR}"),
        reply=Reply.text("Hello"),
        kind="reply",
        attempts=0,
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
