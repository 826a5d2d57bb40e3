"""An outbox message as an e-mail: multipart text + HTML from Jinja2 templates, attachments, headers.

Why these headers:
- `Message-ID` is derived from the outbox key, so a message re-sent after a crash (the outbox is
  at-least-once at the transport) carries the same id and mail clients and servers fold it;
- `List-Unsubscribe` (a mailto: always; an https one-click URL plus `List-Unsubscribe-Post` only when
  the operator runs such an endpoint, `SMTP_UNSUBSCRIBE_URL`, as RFC 8058 requires an https URI for it)
  and an unsubscribe line in both parts;
- header values with CR or LF are refused outright (header injection), never folded or stripped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from functools import lru_cache
from urllib.parse import quote

from icalendar import Calendar, vCalAddress
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.config import Settings
from bot.mentions import neutralize
from bot.outbox import Outgoing
from bot.reply import Actions, Attachment, Button, Context, Divider, Fields, Heading, Reply, Text

ANSWER_HINT = (
    "To answer, reply to this e-mail with your answer (for example “yes”, “no” or “maybe”); "
    "a convener records it for you."
)
MAX_SUBJECT = 200


class HeaderInjection(ValueError):
    """A header value contained a line break: refusing beats guessing what was meant."""


@dataclass(frozen=True)
class MailConfig:
    sender: str
    sender_name: str = "wgbot"
    unsubscribe_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MailConfig:
        if not settings.smtp_from:
            raise ValueError("SMTP_FROM is not set")
        return cls(sender=settings.smtp_from, unsubscribe_url=settings.smtp_unsubscribe_url)

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[-1].strip(">") or "wgbot.invalid"


def safe_header(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderInjection(f"line break in the {what} header")
    return value


def address_of(message: Outgoing) -> str:
    addr = message.destination.address
    if not addr.startswith("email:"):
        raise ValueError(f"not an e-mail destination: {message.destination.label}")
    addr = addr[len("email:") :]
    safe_header(addr, "To")
    if addr.count("@") != 1 or any(c in addr for c in " <>,;\"'\t"):
        raise ValueError("not a valid e-mail address")
    return addr


def message_id(key: str, domain: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}.wgbot@{domain}>"


def subject_of(reply: Reply) -> str:
    for block in reply.blocks:
        if isinstance(block, Heading) and block.text.strip():
            text = block.text
            break
    else:
        text = reply.summary_line() or "wgbot"
    return neutralize(text.strip().splitlines()[0])[:MAX_SUBJECT] if text.strip() else "wgbot"


def footer(kind: str, addr: str) -> str:
    if kind == "digest":
        return (
            f"You receive this weekly digest at {addr} because you subscribed or a convener added you. To stop: "
            "/wg digest unsubscribe in the chat, or reply with “unsubscribe” and a convener stops it."
        )
    return (
        f"Sent by wgbot to {addr}, a member of the working group. To stop these e-mails, reply with "
        "“unsubscribe” and a convener removes you."
    )


def text_body(reply: Reply) -> str:
    """Like Reply.to_text, but buttons become the way to answer by e-mail and files are attached."""
    lines: list[str] = []
    for block in reply.blocks:
        if isinstance(block, Heading):
            lines += [block.text, "=" * min(len(block.text), 72)]
        elif isinstance(block, Text | Context):
            lines.append(block.text)
        elif isinstance(block, Fields):
            lines.extend(f"{label}: {value}" for label, value in block.items)
        elif isinstance(block, Actions):
            if any(isinstance(el, Button) for el in block.elements) or block.elements:
                lines.append(ANSWER_HINT)
        elif isinstance(block, Divider):
            lines.append("")
        elif isinstance(block, Attachment):
            lines.append(f"(attached: {block.filename})")
    return neutralize("\n".join(lines))


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("adapters.email", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        keep_trailing_newline=True,
    )


def html_body(reply: Reply, subject: str, foot: str) -> str:
    blocks = [b.model_copy(update={"text": neutralize(b.text)}) if hasattr(b, "text") else b for b in reply.blocks]
    return (
        _env()
        .get_template("message.html.j2")
        .render(subject=subject, blocks=blocks, footer=foot, answer_hint=ANSWER_HINT)
    )


def plain_body(reply: Reply, foot: str) -> str:
    return _env().get_template("message.txt.j2").render(body=text_body(reply), footer=foot)


def calendar_for_mail(content: str, organizer: str) -> tuple[bytes, str | None]:
    """An .ics from the core, with the sender as ORGANIZER (iTIP needs one for METHOD:REQUEST/CANCEL)."""
    cal = Calendar.from_ical(content)
    method = str(cal.get("method")) if cal.get("method") else None
    if method:
        for event in cal.walk("VEVENT"):
            org = vCalAddress(f"mailto:{organizer}")
            org.params["cn"] = "wgbot"
            event["organizer"] = org
    return bytes(cal.to_ical()), method


def build_message(message: Outgoing, config: MailConfig) -> EmailMessage:
    addr = address_of(message)
    reply = message.reply
    subject = safe_header(subject_of(reply), "Subject")
    foot = footer(message.kind, addr)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((safe_header(config.sender_name, "From"), safe_header(config.sender, "From")))
    msg["To"] = addr
    msg["Subject"] = subject
    msg["Date"] = format_datetime(message.created_at)
    msg["Message-ID"] = message_id(message.key, config.domain)
    msg["Auto-Submitted"] = "auto-generated"
    unsubscribe = [f"<mailto:{config.sender}?subject={quote('unsubscribe ' + addr)}>"]
    if config.unsubscribe_url:
        sep = "&" if "?" in config.unsubscribe_url else "?"
        url = safe_header(config.unsubscribe_url, "List-Unsubscribe")
        unsubscribe.insert(0, f"<{url}{sep}address={quote(addr)}>")
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["List-Unsubscribe"] = ", ".join(unsubscribe)
    msg.set_content(plain_body(reply, foot))
    msg.add_alternative(html_body(reply, subject, foot), subtype="html")
    for block in reply.blocks:
        if not isinstance(block, Attachment):
            continue
        filename = safe_header(block.filename, "attachment filename")
        maintype, _, subtype = block.mime.partition("/")
        if block.mime == "text/calendar":
            data, method = calendar_for_mail(block.content, config.sender)
            params = {"method": method} if method else {}
            msg.add_attachment(
                data.decode("utf-8"), subtype="calendar", filename=filename, params=params, charset="utf-8"
            )
        elif maintype == "text":
            msg.add_attachment(block.content, subtype=subtype or "plain", filename=filename, charset="utf-8")
        else:
            msg.add_attachment(block.content.encode("utf-8"), maintype=maintype, subtype=subtype, filename=filename)
    return msg
