"""`/a/<signed link>`: the one-click answers of e-mail-only members (see bot/webaccess.py).

GET shows what the link will do, with one button; POST does it. Mail scanners that follow links
(GET) therefore change nothing. Unsubscribing also accepts RFC 8058's one-click POST
(`List-Unsubscribe=One-Click`) that mail clients send for `List-Unsubscribe-Post`. A tampered,
expired or foreign link does nothing and says so; so does an answer or confirmation link from before
the group's links were rotated (`/wg web link rotate`), saying it was replaced."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from aiohttp import web

from adapters.web.pages import bad_request, render
from bot import emailactions, webaccess
from bot.errors import UserError
from bot.services import rsvp as rsvp_service
from storage.models import WebAccess

if TYPE_CHECKING:
    from adapters.web.server import WebRecord

MAX_FORM = 16 * 1024
INVALID = "This link is not valid or has expired. Nothing was changed."
UNREADABLE = "The form could not be read (send it as UTF-8 text from the page's own form). Nothing was changed."


def _invalid() -> web.Response:
    return render("error.html.j2", http_status=404, title="Link not valid", message=INVALID)


def _replaced(access: WebAccess, action: webaccess.SignedAction) -> web.Response:
    """A genuine link of an older generation: say what happened and what to do instead (only someone
    holding a link the group really signed sees this, so it tells nothing about who is in it)."""
    when = f" on {access.rotated_at:%Y-%m-%d}" if access.rotated_at is not None else ""
    if action.purpose == "confirm":
        instead = "Ask again in the chat with /wg digest subscribe email:<address> for a new confirmation link."
    else:
        instead = (
            "Use the link in a more recent e-mail from the group, or reply to the e-mail and a convener records it."
        )
    message = (
        f"This link was replaced: a convener renewed the working group's links{when}, so the links in "
        f"e-mails sent before then no longer work. Nothing was changed. {instead}"
    )
    return render("error.html.j2", http_status=410, title="Link replaced", message=message)


async def handle(rec: WebRecord, request: web.Request) -> web.StreamResponse:
    if request.method not in ("GET", "POST"):
        return bad_request("That method is not allowed here.", status=405)
    token = request.match_info["signed"]
    claimed = webaccess.peek(token)
    if claimed is None:
        return _invalid()
    now = rec.clock.now()
    async with rec.db.session() as s:
        access = await s.get(WebAccess, claimed.wg_id)
    action = webaccess.verify(access.link_secret, token, now) if access is not None else None
    if action is None or access is None:
        return _invalid()
    if webaccess.superseded(access, action):
        return _replaced(access, action)
    if request.method == "GET":
        return await _confirm(rec, action, now)
    if (request.content_length or 0) > MAX_FORM:
        return bad_request("That answer is too long.", status=413)
    try:
        form = await _form(request)
    except ValueError:  # UnicodeDecodeError is one
        # invalid UTF-8 in a field, a multipart body without its boundary or cut short: the client's
        # fault, not ours (no traceback in the log), and nothing has been touched yet
        return bad_request(UNREADABLE)
    answer = form.get("answer", "")
    if not isinstance(answer, str):  # a file upload named `answer`
        return bad_request(UNREADABLE)
    try:
        async with rec.db.transaction() as s:
            if action.purpose == "rsvp":
                message = await emailactions.rsvp(s, action, now)
            elif action.purpose == "answer":
                message = await emailactions.answer(s, action, answer, now)
            elif action.purpose == "confirm":
                message = await emailactions.confirm(s, action)
            else:
                message = await emailactions.unsubscribe(s, action)
    except UserError as exc:
        return render("error.html.j2", http_status=409, title="Nothing changed", message=exc.message)
    return render("action.html.j2", title="Done", message=message, form=None)


async def _form(request: web.Request) -> Mapping[str, object]:
    """The posted fields. A urlencoded body is decoded strictly (aiohttp would turn `%FF` into a
    replacement character and record it); multipart goes through aiohttp, which is strict already."""
    if request.content_type == "application/x-www-form-urlencoded":
        raw = (await request.read()).decode("ascii")
        pairs = parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict")
        return dict(pairs)
    return await request.post()


async def _confirm(rec: WebRecord, action: webaccess.SignedAction, now: datetime) -> web.Response:
    try:
        async with rec.db.session() as s:
            member = await emailactions.member_of(s, action)
            if action.purpose == "rsvp":
                m, answer, date = await emailactions.rsvp_target(s, action)
                try:
                    rsvp_service.answerable(m, now)
                except UserError as exc:  # cancelled or over: say so now, not only after the click
                    return render("error.html.j2", http_status=410, title="Nothing to answer", message=exc.message)
                when = f" on {date}" if date else (" (every occurrence)" if m.rrule else "")
                text = f"Answer “{answer}” to the invitation to M{m.number} “{m.title}”{when}?"
                form = {"button": f"Answer {answer}", "textarea": False}
            elif action.purpose == "answer":
                c, occurrence = await emailactions.checkin_target(s, action)
                text = f"C{c.number} ({occurrence}): {c.question}"
                form = {"button": "Send my answer", "textarea": True}
            elif action.purpose == "confirm":
                text = (
                    f"Send the weekly digest of the working group to {action.subject}, as {member.display_name} asked?"
                )
                form = {"button": "Confirm", "textarea": False}
            else:
                # a link e-mailed to an address the digest has left: say so now, not only after the click
                if member.digest_email and emailactions.unsubscribe_elsewhere(member, action):
                    return render("action.html.j2", title="Nothing to stop", message=emailactions.ELSEWHERE, form=None)
                text = f"Stop sending the digest to {member.display_name} by e-mail?"
                form = {"button": "Unsubscribe", "textarea": False}
    except UserError as exc:
        return render("error.html.j2", http_status=404, title="Link not valid", message=exc.message)
    return render("action.html.j2", title="Confirm", message=text, form=form)
