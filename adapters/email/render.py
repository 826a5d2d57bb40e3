"""An outbox message as an e-mail: multipart text + HTML from Jinja2 templates, attachments, headers.

Why these headers:
- `Message-ID` is derived from the outbox key, so a message re-sent after a crash (the outbox is
  at-least-once at the transport) carries the same id and mail clients and servers fold it;
- `List-Unsubscribe` (a mailto: always; for a digest, the reader's signed one-click link under
  WGBOT_PUBLIC_URL, else the operator's own endpoint `SMTP_UNSUBSCRIBE_URL`; `List-Unsubscribe-Post`
  only with an https URL, as RFC 8058 requires) and an unsubscribe line in both parts;
- buttons the core signed for this reader (bot/emaillinks.py) become links under WGBOT_PUBLIC_URL;
  without it, the e-mail says how to answer instead (reply; a convener records it);
- header values with CR or LF are refused outright (header injection), never folded or stripped;
- `List-Unsubscribe` goes out raw (`<https://…>, <mailto:…>`, folded only between its URIs): the
  stock SMTP policy would RFC 2047-encode the signed link (any word over 78 characters), and mail
  clients then cannot use it. `serialize` gives the bytes sent, with that policy (`MAIL_POLICY`).

A chart block (the digest's participation by stakeholder group) becomes a PNG inside the HTML part
(multipart/related, shown through a `cid:` link, with the numbers as its alt text) — e-mail clients
do not render SVG reliably — and a table of the same numbers in the text part.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import format_datetime, formataddr
from functools import lru_cache
from urllib.parse import quote

from icalendar import Calendar, vCalAddress
from jinja2 import Environment, PackageLoader, select_autoescape

from adapters.web import chart_png
from adapters.web.chart import size
from bot.config import Settings
from bot.digest.chart import from_block, table_lines
from bot.emaillinks import CONFIRM_ACTION
from bot.mentions import neutralize
from bot.outbox import Outgoing
from bot.reply import Actions, Attachment, Button, Chart, Context, Divider, Fields, Heading, Reply, Text

#: without WGBOT_PUBLIC_URL there is no page to answer on: a reply by e-mail, recorded by a convener
ANSWER_HINT = (
    "To answer, reply to this e-mail with your answer (for example “yes”, “no” or “maybe”); "
    "a convener records it for you."
)
#: with it, the buttons are signed, expiring, single-purpose links (bot/emaillinks.py, adapters/web/actions.py)
LINKS_HINT = "Each link works only for you and only for this answer; it expires after a few weeks."
UNSUBSCRIBE_ACTION = "digest unsubscribe email"
MAX_SUBJECT = 200


class HeaderInjection(ValueError):
    """A header value contained a line break: refusing beats guessing what was meant."""


@dataclass(frozen=True)
class MailConfig:
    sender: str
    sender_name: str = "wgbot"
    unsubscribe_url: str | None = None
    #: WGBOT_PUBLIC_URL: the base of the signed links the core put on buttons (None: not served)
    public_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MailConfig:
        if not settings.smtp_from:
            raise ValueError("SMTP_FROM is not set")
        return cls(
            sender=settings.smtp_from, unsubscribe_url=settings.smtp_unsubscribe_url, public_url=settings.public_url
        )

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


def links_of(block: Actions, base: str | None) -> list[tuple[str, str]]:
    """(label, absolute URL) of a block's signed buttons; empty without a public address. The
    unsubscribe link is not among them: it goes to the footer and the List-Unsubscribe header."""
    if not base:
        return []
    return [
        (el.label, base.rstrip("/") + el.link)
        for el in block.elements
        if isinstance(el, Button) and el.link and el.action != UNSUBSCRIBE_ACTION
    ]


def _answerable(block: Actions) -> bool:
    return any(not (isinstance(el, Button) and el.action == UNSUBSCRIBE_ACTION) for el in block.elements)


def unsubscribe_link(reply: Reply, base: str | None) -> str | None:
    """The signed one-click unsubscribe address of a digest for one reader, if it has one."""
    if not base:
        return None
    for block in reply.blocks:
        if isinstance(block, Actions):
            for el in block.elements:
                if isinstance(el, Button) and el.action == UNSUBSCRIBE_ACTION and el.link:
                    return base.rstrip("/") + el.link
    return None


def footer(kind: str, addr: str, unsubscribe: str | None = None, confirming: bool = False) -> str:
    if confirming:  # the address is not subscribed to anything (yet): say why it got this one e-mail
        return (
            f"Sent by wgbot to {addr} once, because a member of the working group asked for its digest to go "
            "to this address. Nothing more is sent here unless the link above is opened."
        )
    # (no chat commands: an e-mail reader may have no chat account to type them in)
    if kind == "digest" and unsubscribe:
        return (
            f"You receive this weekly digest at {addr} because you subscribed or a convener added you. "
            f"To stop it with one click: {unsubscribe}"
        )
    if kind == "digest":
        return (
            f"You receive this weekly digest at {addr} because you subscribed or a convener added you. "
            "To stop it, reply with “unsubscribe” and a convener stops it."
        )
    return (
        f"Sent by wgbot to {addr}, a member of the working group. To stop these e-mails, reply with "
        "“unsubscribe” and a convener removes you."
    )


def text_body(reply: Reply, base: str | None = None) -> str:
    """Like Reply.to_text, but buttons become the way to answer by e-mail (their signed links, or how
    to answer without them) and files are attached."""
    lines: list[str] = []
    for block in reply.blocks:
        if isinstance(block, Heading):
            lines += [block.text, "=" * min(len(block.text), 72)]
        elif isinstance(block, Text | Context):
            lines.append(block.text)
        elif isinstance(block, Fields):
            lines.extend(f"{label}: {value}" for label, value in block.items)
        elif isinstance(block, Actions):
            if links := links_of(block, base):
                lines.extend(f"{label}: {url}" for label, url in links)
                lines.append(LINKS_HINT)
            elif _answerable(block):
                lines.append(ANSWER_HINT)
        elif isinstance(block, Divider):
            lines.append("")
        elif isinstance(block, Attachment):
            lines.append(f"(attached: {block.filename})")
        elif isinstance(block, Chart):
            lines += ["", *table_lines(block), ""]
    return neutralize("\n".join(lines))


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("adapters.email", "templates"),
        # the HTML part only: the text part is plain text (escaping it showed `&#39;` to readers)
        autoescape=select_autoescape(["html.j2"], default_for_string=True),
        keep_trailing_newline=True,
    )


def html_body(
    reply: Reply,
    subject: str,
    foot: str,
    base: str | None = None,
    unsubscribe: str | None = None,
    charts: dict[int, tuple[str, int, int]] | None = None,
) -> str:
    """`charts`: block position → (content id, width, height) of the chart images sent with it."""
    blocks = [b.model_copy(update={"text": neutralize(b.text)}) if hasattr(b, "text") else b for b in reply.blocks]
    return (
        _env()
        .get_template("message.html.j2")
        .render(
            subject=subject,
            blocks=blocks,
            footer=foot,
            answer_hint=ANSWER_HINT,
            links_hint=LINKS_HINT,
            links_of=lambda block: links_of(block, base),
            answerable=_answerable,
            unsubscribe=unsubscribe,
            charts=charts or {},
        )
    )


def plain_body(reply: Reply, foot: str, base: str | None = None) -> str:
    return _env().get_template("message.txt.j2").render(body=text_body(reply, base), footer=foot)


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


#: headers whose value is a list of `<URI>`s that must reach the client verbatim (RFC 2369)
RAW_HEADERS = frozenset({"list-unsubscribe"})


_BETWEEN_URIS = re.compile(r"(?<=>)\s*,\s*(?=<)")


class _MailPolicy(EmailPolicy):
    """SMTP's policy, except that RAW_HEADERS are written as given, folded only after the commas
    between their URIs (a URI is never split nor encoded; lines stay under RFC 5322's 998)."""

    def _raw(self, name: str, value: object) -> str:
        parts = [p.strip() for p in _BETWEEN_URIS.split(str(value))]
        return f"{name}: " + ("," + self.linesep + " ").join(parts) + self.linesep

    def fold(self, name: str, value: str) -> str:
        if name.lower() in RAW_HEADERS:
            return self._raw(name, value)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() in RAW_HEADERS:
            return self._raw(name, value).encode("ascii")
        return super().fold_binary(name, value)


#: 7-bit clean (non-ASCII parts go base64 or quoted-printable), so any server takes it as is
MAIL_POLICY = (_MailPolicy() + SMTP).clone(cte_type="7bit")


def serialize(msg: EmailMessage) -> bytes:
    """The message as sent over SMTP: CRLF line ends, 7-bit clean, List-Unsubscribe unencoded."""
    return msg.as_bytes(policy=MAIL_POLICY)


def build_message(message: Outgoing, config: MailConfig) -> EmailMessage:
    addr = address_of(message)
    reply = message.reply
    subject = safe_header(subject_of(reply), "Subject")
    base = config.public_url
    one_click = unsubscribe_link(reply, base)
    confirming = any(
        isinstance(el, Button) and el.action == CONFIRM_ACTION
        for block in reply.blocks
        if isinstance(block, Actions)
        for el in block.elements
    )
    foot = footer(message.kind, addr, one_click, confirming)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((safe_header(config.sender_name, "From"), safe_header(config.sender, "From")))
    msg["To"] = addr
    msg["Subject"] = subject
    msg["Date"] = format_datetime(message.created_at)
    msg["Message-ID"] = message_id(message.key, config.domain)
    msg["Auto-Submitted"] = "auto-generated"
    unsubscribe = [f"<mailto:{config.sender}?subject={quote('unsubscribe ' + addr)}>"]
    if one_click:
        # the reader's own signed link (RFC 8058 one-click POST needs https; plain http gets no -Post)
        unsubscribe.insert(0, f"<{safe_header(one_click, 'List-Unsubscribe')}>")
        if one_click.startswith("https://"):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    elif config.unsubscribe_url:
        sep = "&" if "?" in config.unsubscribe_url else "?"
        url = safe_header(config.unsubscribe_url, "List-Unsubscribe")
        unsubscribe.insert(0, f"<{url}{sep}address={quote(addr)}>")
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["List-Unsubscribe"] = ", ".join(unsubscribe)
    msg.set_content(plain_body(reply, foot, base))
    images: list[tuple[str, bytes]] = []
    charts: dict[int, tuple[str, int, int]] = {}
    for i, block in enumerate(reply.blocks):
        if isinstance(block, Chart):
            numbers = from_block(block)
            cid = f"chart{i}.{hashlib.sha256(message.key.encode()).hexdigest()[:16]}@{config.domain}"
            images.append((cid, chart_png.png(numbers, title=block.title)))
            charts[i] = (cid, *size(numbers))
    msg.add_alternative(html_body(reply, subject, foot, base, one_click, charts), subtype="html")
    if images:
        html = msg.get_body(preferencelist=("html",))
        assert html is not None
        for n, (cid, png) in enumerate(images, 1):
            html.add_related(
                png,
                maintype="image",
                subtype="png",
                cid=f"<{cid}>",
                filename=f"participation-{n}.png",
                disposition="inline",
            )
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
