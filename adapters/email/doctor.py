"""`wgbot doctor` for e-mail: can we reach the SMTP server (EHLO, STARTTLS, login), and which
e-mails failed for good (a 5xx from the server) and need a convener's attention."""

from __future__ import annotations

import aiosmtplib
from sqlmodel import col, select

from adapters.doctor import Check
from adapters.email.sender import classify
from bot.config import Settings
from storage.db import Database
from storage.models import OutboxMessage


async def check_smtp(settings: Settings) -> Check:
    if not settings.smtp_configured:
        return Check("e-mail", "optional", "no SMTP_HOST: nothing is e-mailed (channels and DMs still get everything).")
    if not settings.smtp_from:
        return Check("e-mail", "fail", "SMTP_HOST is set but SMTP_FROM is not: set the sender address.")
    steps: list[str] = []
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=settings.smtp_tls,
        start_tls=False,
        timeout=settings.smtp_timeout_seconds,
    )
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        await smtp.connect()
        await smtp.ehlo()
        steps.append("EHLO")
        if settings.smtp_tls:
            steps.append("TLS")
        elif settings.smtp_starttls:
            await smtp.starttls()
            steps.append("STARTTLS")
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            await smtp.login(settings.smtp_username, password)
            steps.append("login")
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        done = ", ".join(steps) or "nothing"
        return Check("e-mail", "fail", f"{where}: {classify(exc)} (passed: {done}). Check SMTP_* in .env.")
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
    return Check("e-mail", "ok", f"{where} as {settings.smtp_from}: {', '.join(steps)} ok")


async def check_failed_emails(settings: Settings) -> Check:
    """E-mails the server refused for good: a wrong address a convener should fix."""
    db = Database(settings.database_url)
    try:
        async with db.session() as s:
            rows = (
                await s.exec(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.platform) == "email", col(OutboxMessage.status) == "failed")
                    .order_by(col(OutboxMessage.id).desc())
                    .limit(20)
                )
            ).all()
    except Exception as exc:
        # the database check above says what is wrong with the database itself
        return Check("e-mail deliveries", "missing", f"cannot read the outbox yet ({type(exc).__name__})")
    finally:
        await db.dispose()
    if not rows:
        return Check("e-mail deliveries", "ok", "no failed e-mails")
    shown = "; ".join(f"{r.address.removeprefix('email:')}: {r.last_error or 'failed'}" for r in rows[:5])
    more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
    return Check(
        "e-mail deliveries",
        "fail",
        f"{len(rows)} e-mail(s) refused for good: {shown}{more}. Fix the address (/wg member add or /wg join email:).",
    )
