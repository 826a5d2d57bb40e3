"""The outbox sender for `email:` destinations.

Failure policy (the dispatcher retries with backoff; nothing is dropped while the server is down):
- connection refused, timeouts, disconnects, 4xx answers and authentication failures are temporary:
  retried, up to `max_attempts` (about a day of backoff, not the chat senders' few minutes);
- a 5xx answer to the recipient or the data (mailbox unknown, message refused) is permanent: the row
  is marked failed with the server's answer, and `wgbot doctor` lists it;
- a message that cannot be built (header injection, a malformed address) is permanent too.
"""

from __future__ import annotations

import logging
import ssl

import aiosmtplib

from adapters.email.render import HeaderInjection, MailConfig, address_of, build_message, serialize
from bot.config import Settings
from bot.outbox import DeliveryError, Outgoing

log = logging.getLogger(__name__)


def smtp_options(settings: Settings) -> dict[str, object]:
    return {
        "hostname": settings.smtp_host,
        "port": settings.smtp_port,
        "username": settings.smtp_username,
        "password": settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        "use_tls": settings.smtp_tls,
        "start_tls": False if settings.smtp_tls else settings.smtp_starttls,
        "timeout": settings.smtp_timeout_seconds,
    }


def _certificate_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ssl.SSLCertVerificationError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def classify(exc: Exception) -> DeliveryError:
    """An SMTP failure as a DeliveryError: permanent for 5xx about the recipient or the message.

    A server certificate that does not verify is temporary (fixing the trust store or the server's
    certificate lets the queued e-mails go), but said as such rather than as "unreachable"."""
    if (cert := _certificate_error(exc)) is not None:
        why = cert.verify_message or "verification failed"
        return DeliveryError(
            f"the SMTP server's TLS certificate is not trusted ({why}); if it is signed by a private CA, "
            "point SSL_CERT_FILE at a CA bundle that includes it"
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        return DeliveryError(f"recipient refused: {detail}", permanent=all(500 <= c < 600 for c in codes))
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return DeliveryError(f"SMTP login failed ({exc.code}); check SMTP_USERNAME/SMTP_PASSWORD")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return DeliveryError(f"SMTP {exc.code} {exc.message}", permanent=500 <= exc.code < 600)
    gone = (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError)
    if isinstance(exc, aiosmtplib.SMTPException) and not isinstance(exc, gone):
        # the session itself went wrong (e.g. no AUTH offered before STARTTLS): say what, retry later
        return DeliveryError(f"SMTP session failed: {str(exc)[:200]}")
    return DeliveryError(f"SMTP server unreachable: {type(exc).__name__}")


class EmailSender:
    platform = "email"
    #: the dispatcher's backoff caps at 15 min: 100 attempts ride out a day-long outage
    max_attempts = 100

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = MailConfig.from_settings(settings)

    async def send(self, message: Outgoing) -> str | None:
        try:
            email = build_message(message, self.config)
            data = serialize(email)  # our policy: List-Unsubscribe stays a raw <URI> list
            recipient = address_of(message)
        except (HeaderInjection, ValueError) as exc:
            raise DeliveryError(f"refused to build the e-mail: {exc}", permanent=True) from None
        try:
            await aiosmtplib.send(
                data,
                sender=self.config.sender,
                recipients=[recipient],
                **smtp_options(self.settings),  # type: ignore[arg-type]
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise classify(exc) from None
        return str(email["Message-ID"])
