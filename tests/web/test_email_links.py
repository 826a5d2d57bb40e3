"""Signed links end to end: the e-mail is delivered to a real SMTP server on loopback (aiosmtpd), the
link is taken out of the delivered message and followed against the running web record (aiohttp on
loopback); the answer lands through the chat command's own service code. Tampered, expired and
wrong-purpose links change nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlmodel import select

from adapters.email.sender import EmailSender
from bot import webaccess
from storage.models import CheckinAnswer, Member, Rsvp, RsvpOccurrence
from tests.conftest import START, table_snapshot
from tests.email.conftest import Mailbox, SmtpServer, free_port, smtp_settings
from tests.web.conftest import PUBLIC, Site, text_of

ADDR = "ngozi@ministry.example"
LINK = re.compile(rf"^(Yes|No|Maybe|Answer): ({re.escape(PUBLIC)}/a/[A-Za-z0-9_.-]+)\s*$", re.M)


@pytest.fixture
async def mailed(site: Site) -> AsyncIterator[Mailbox]:
    """E-mails go to a loopback SMTP server, with WGBOT_PUBLIC_URL set for the sender too; Ngozi is
    a member reachable only by e-mail."""
    server = SmtpServer(free_port())
    server.start()
    settings = smtp_settings(str(site.harness.app.db.url), server.port, WGBOT_PUBLIC_URL=PUBLIC)
    site.harness.app.dispatcher.add_sender(EmailSender(settings))
    r = await site.harness.say(
        "ana", f'/wg member add "Ngozi Okafor" government email:{ADDR} tz:Africa/Lagos region:african'
    )
    assert "Added Ngozi Okafor" in text_of(r)
    yield server.mailbox
    server.stop()


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _html(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _links(msg: EmailMessage) -> dict[str, str]:
    """The signed links of a delivered e-mail's text part, by label, as paths on the local server
    (the public address is where a reverse proxy would forward them)."""
    links = {label: url.removeprefix(PUBLIC) for label, url in LINK.findall(_text(msg))}
    html = _html(msg)
    assert all(f'href="{PUBLIC}{path}"' in html for path in links.values())  # the same links in both parts
    return links


def _last(mail: Mailbox, prefix: str) -> EmailMessage:
    found = [m for m in mail.to(ADDR) if str(m["Subject"]).startswith(prefix)]
    assert found, [m["Subject"] for m in mail.to(ADDR)]
    return found[-1]


async def _ngozi(site: Site) -> Member:
    async with site.harness.app.db.session() as s:
        return (await s.exec(select(Member).where(Member.email == ADDR))).one()


async def test_invitation_links_answer_the_rsvp_through_the_web(site: Site, mailed: Mailbox) -> None:
    h = site.harness
    await h.say("ana", '/wg meeting "Drafting call" at:"2026-01-08 16:00" duration:90m')
    invite = _last(mailed, "Invitation: M2")
    links = _links(invite)
    assert set(links) == {"Yes", "No", "Maybe"}
    assert "a convener records it" not in _text(invite) and "&#39;" not in _text(invite)
    ngozi = await _ngozi(site)

    before = await table_snapshot(h.app.db)
    status, body, _ = await site.get(links["Maybe"])
    assert status == 200 and "Answer “maybe”" in body and "Drafting call" in body
    assert await table_snapshot(h.app.db) == before  # following the link (a mail scanner) changes nothing

    for _ in range(2):  # the same link twice just sets the same answer
        status, body = await site.post(links["Maybe"], {})
        assert status == 200 and "recorded: maybe" in body
    status, body = await site.post(links["Yes"], {})
    assert status == 200 and "recorded: yes" in body
    async with h.app.db.session() as s:
        [row] = (await s.exec(select(Rsvp).where(Rsvp.member_id == ngozi.id))).all()
    assert row.answer == "yes"
    card = text_of(await h.say("ana", "/wg show M2"))
    assert "1 yes" in card  # what chat shows counts it like any answer


async def test_reminder_links_answer_one_occurrence_of_a_series(site: Site, mailed: Mailbox) -> None:
    h = site.harness
    await h.say("ana", '/wg meeting "Standup" at:"2026-01-06 10:00 Europe/Paris" every:weekly remind:1h')
    await h.advance_to(START + timedelta(hours=24))  # Tue 6 Jan 09:00 UTC: the 08:00 UTC reminder went
    reminder = _last(mailed, "Reminder: M2")
    links = _links(reminder)
    status, body, _ = await site.get(links["No"])
    assert status == 200 and "on 2026-01-06" in body
    status, body = await site.post(links["No"], {})
    assert status == 200 and "is recorded: no" in body
    ngozi = await _ngozi(site)
    async with h.app.db.session() as s:
        [row] = (await s.exec(select(RsvpOccurrence).where(RsvpOccurrence.member_id == ngozi.id))).all()
        series = (await s.exec(select(Rsvp).where(Rsvp.member_id == ngozi.id))).all()
    assert (row.occurrence, row.answer) == ("2026-01-06", "no") and series == []


async def test_checkin_link_is_a_small_form_that_records_the_answer(site: Site, mailed: Mailbox) -> None:
    h = site.harness
    await h.say("ana", '/wg checkin "What did you finish?" every:day at:10:00 tz:UTC')
    await h.advance_to(START + timedelta(days=1, hours=2))  # Tue 6 Jan 11:00 UTC
    question = _last(mailed, "Check-in C1")
    links = _links(question)
    assert set(links) == {"Answer"} and "/wg answer" not in _text(question)
    status, body, _ = await site.get(links["Answer"])
    assert status == 200 and "What did you finish?" in body and "<textarea" in body
    status, body = await site.post(links["Answer"], {"answer": "The <b>glossary</b> draft"})
    assert status == 200 and "recorded" in body
    ngozi = await _ngozi(site)
    async with h.app.db.session() as s:
        [row] = (await s.exec(select(CheckinAnswer).where(CheckinAnswer.member_id == ngozi.id))).all()
    assert row.text == "The <b>glossary</b> draft"
    assert "Ngozi Okafor: The <b>glossary</b> draft" in text_of(await h.say("ana", "/wg show C1"))
    before = await table_snapshot(h.app.db)
    status, body = await site.post(links["Answer"], {"answer": "   "})
    assert status == 409 and "empty" in body
    assert await table_snapshot(h.app.db) == before


async def test_an_unreadable_form_is_a_4xx_and_changes_nothing(
    site: Site, mailed: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    h = site.harness
    await h.say("ana", '/wg checkin "What did you finish?" every:day at:10:00 tz:UTC')
    await h.advance_to(START + timedelta(days=1, hours=2))
    link = _links(_last(mailed, "Check-in C1"))["Answer"]
    before = await table_snapshot(h.app.db)
    boundary = "XyZ"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="answer"\r\n\r\nok'.encode()
        + b"\xff\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    as_file = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="answer"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nok\r\n--{boundary}--\r\n"
    ).encode()
    cases = [
        ("application/x-www-form-urlencoded", b"answer=ok\xff"),
        ("application/x-www-form-urlencoded", b"answer=ok%FF"),
        (f"multipart/form-data; boundary={boundary}", multipart),
        (f"multipart/form-data; boundary={boundary}", as_file),
        ("multipart/form-data", b"no boundary at all"),
        (f"multipart/form-data; boundary={boundary}", b"--garbage"),
    ]
    caplog.clear()
    for content_type, data in cases:
        async with site.http.post(
            site.url + link, data=data, headers={"Content-Type": content_type}, allow_redirects=False
        ) as resp:
            body = await resp.text()
            assert resp.status == 400, (content_type, data, resp.status)
            assert "could not be read" in body and "Nothing was changed" in body
            assert "Traceback" not in body
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert await table_snapshot(h.app.db) == before
    status, body = await site.post(link, {"answer": "ok"})  # the link still works afterwards
    assert status == 200 and "recorded" in body


async def test_digest_one_click_unsubscribe(site: Site, mailed: Mailbox) -> None:
    h = site.harness
    await h.say("ana", "/wg digest send")
    digest = mailed.to(ADDR)[-1]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    first = str(digest["List-Unsubscribe"]).split(",")[0].strip()
    assert first.startswith(f"<{PUBLIC}/a/") and "mailto:" in str(digest["List-Unsubscribe"])
    link = first.strip("<>").removeprefix(PUBLIC)
    assert f"{PUBLIC}{link}" in _text(digest)  # the footer carries the same one-click link
    # on the wire the header is the raw <URI> list (never RFC 2047-encoded), folded only between URIs
    raw = mailed.raw_to(ADDR)[-1]
    header = re.search(rb"^List-Unsubscribe: (.*?)\r\n(?![ \t])", raw, re.M | re.S)
    assert header is not None and b"=?" not in header.group(1)
    uris = [u.strip() for u in header.group(1).decode("ascii").split(",")]
    assert uris[0] == f"<{PUBLIC}{link}>" and uris[1].startswith("<mailto:wg@example.org?subject=unsubscribe")
    assert len(uris) == 2 and all(len(line) <= 998 for line in raw.split(b"\r\n"))
    before = await table_snapshot(h.app.db)
    status, body, _ = await site.get(link)
    assert status == 200 and "Unsubscribe" in body and 'method="post"' in body
    assert await table_snapshot(h.app.db) == before
    status, body = await site.post(link, {"List-Unsubscribe": "One-Click"})  # what mail clients send (RFC 8058)
    assert status == 200 and "no longer receive the digest by e-mail" in body
    assert not (await _ngozi(site)).digest_email
    status, body = await site.post(link, {"List-Unsubscribe": "One-Click"})  # a client's retry
    assert status == 200 and "nothing to stop" in body
    count = len(mailed.to(ADDR))
    await h.say("ana", "/wg digest send")
    assert len(mailed.to(ADDR)) == count  # no more digests by e-mail


def _unsubscribe_link(msg: EmailMessage) -> str:
    return str(msg["List-Unsubscribe"]).split(",")[0].strip().strip("<>").removeprefix(PUBLIC)


async def test_an_unsubscribe_link_stops_only_the_address_it_was_sent_to(site: Site, mailed: Mailbox) -> None:
    """A digest's unsubscribe link is bound to its address: once a member's digest goes to a new address,
    the link in a digest sent to the old one stops nothing and says so; the new digest's link works. A
    link sent before links were bound (no address in it) keeps working as it did."""
    h = site.harness
    await h.say("ana", "/wg digest send")
    old = _unsubscribe_link(mailed.to(ADDR)[-1])
    new_addr = "ngozi@new-ministry.example"
    r = await h.say("ana", f'/wg digest subscribe email:{new_addr} for:"Ngozi Okafor"')
    assert "will receive the weekly digest by e-mail at" in text_of(r)
    await h.say("ana", "/wg digest send")
    new = _unsubscribe_link(mailed.to(new_addr)[-1])
    assert new != old
    before = await table_snapshot(h.app.db)
    status, body, _ = await site.get(old)
    assert status == 200 and "no longer receives the digest" in body and "nothing changed" in body
    assert 'method="post"' not in body  # nothing to confirm
    status, body = await site.post(old, {"List-Unsubscribe": "One-Click"})
    assert status == 200 and "no longer receives the digest" in body and "nothing changed" in body
    assert await table_snapshot(h.app.db) == before
    assert (await _ngozi_by_name(site)).digest_email
    status, body, _ = await site.get(new)
    assert status == 200 and 'method="post"' in body
    status, body = await site.post(new, {"List-Unsubscribe": "One-Click"})
    assert status == 200 and "no longer receive the digest by e-mail" in body
    assert not (await _ngozi_by_name(site)).digest_email

    # back at the old address (a convener again): the old link is that address's again
    await h.say("ana", f'/wg digest subscribe email:{ADDR.upper()} for:"Ngozi Okafor"')
    status, body = await site.post(old, {"List-Unsubscribe": "One-Click"})
    assert status == 200 and "no longer receive the digest by e-mail" in body

    # a link from before links were bound carries no address: it stops the digest wherever it goes
    await h.say("ana", f'/wg digest subscribe email:{new_addr} for:"Ngozi Okafor"')
    member = await _ngozi_by_name(site)
    assert member.id is not None and member.digest_email
    async with h.app.db.transaction() as s:
        legacy = await webaccess.signed_path(
            s, wg_id=member.wg_id, member_id=member.id, purpose="unsubscribe", subject="", now=h.clock.now()
        )
    status, body, _ = await site.get(legacy)
    assert status == 200 and 'method="post"' in body
    status, body = await site.post(legacy, {"List-Unsubscribe": "One-Click"})
    assert status == 200 and "no longer receive the digest by e-mail" in body
    assert not (await _ngozi_by_name(site)).digest_email


async def _ngozi_by_name(site: Site) -> Member:
    """Ngozi whatever her address now (`_ngozi` finds her by the first one)."""
    async with site.harness.app.db.session() as s:
        return (await s.exec(select(Member).where(Member.display_name == "Ngozi Okafor"))).one()


async def test_tampered_expired_and_wrong_purpose_links_change_nothing(site: Site, mailed: Mailbox) -> None:
    h = site.harness
    await h.say("ana", '/wg meeting "Drafting call" at:"2026-03-20 16:00" duration:90m')
    yes = _links(_last(mailed, "Invitation: M2"))["Yes"]
    await h.say("ana", "/wg digest send")
    unsub = str(mailed.to(ADDR)[-1]["List-Unsubscribe"]).split(",")[0].strip().strip("<>").removeprefix(PUBLIC)
    payload, mac = yes.removeprefix("/a/").split(".")
    claimed = webaccess.peek(f"{payload}.{mac}")
    assert claimed is not None
    # the RSVP link's MAC on an unsubscribe payload for the same member: another purpose, refused
    other = webaccess._b64(f'[{claimed.wg_id},{claimed.member_id},"unsubscribe","",{claimed.expires}]'.encode())
    # and the unsubscribe link's MAC on an RSVP payload
    u_payload, u_mac = unsub.removeprefix("/a/").split(".")
    bad = [
        f"/a/{other}.{mac}",
        f"/a/{payload}.{u_mac}",
        f"/a/{u_payload}.{mac}",
        f"/a/{payload}.{mac[:-3]}abc",
        f"/a/{payload[:-2]}xx.{mac}",
    ]
    before = await table_snapshot(h.app.db)
    for link in bad:
        status, body, _ = await site.get(link)
        assert status == 404 and "not valid or has expired" in body and "Traceback" not in body, link
        status, body = await site.post(link, {"List-Unsubscribe": "One-Click"})
        assert status == 404 and "Nothing was changed" in body, link
    assert await table_snapshot(h.app.db) == before
    assert (await _ngozi(site)).digest_email

    # 31 days on, the RSVP link (30 days) has expired though the meeting has not taken place yet
    h.clock.set(START + timedelta(days=31))
    before = await table_snapshot(h.app.db)
    status, body = await site.post(yes, {})
    assert status == 404 and "not valid or has expired" in body
    assert await table_snapshot(h.app.db) == before
    status, body = await site.post(unsub, {"List-Unsubscribe": "One-Click"})  # 90 days: still good
    assert status == 200 and not (await _ngozi(site)).digest_email


async def test_rotating_the_links_revokes_the_answer_links_already_sent_but_not_unsubscribe(
    site: Site, mailed: Mailbox
) -> None:
    """A convener who rotates because a link leaked: the RSVP links of the invitation sent before are
    refused as replaced (nothing changes, the page says what to do), the digest's unsubscribe link still
    works (RFC 8058), and the next e-mail carries links that work."""
    h = site.harness
    await h.say("ana", '/wg meeting "Drafting call" at:"2026-01-20 16:00" duration:90m')
    old = _links(_last(mailed, "Invitation: M2"))
    await h.say("ana", "/wg digest send")
    unsub = str(mailed.to(ADDR)[-1]["List-Unsubscribe"]).split(",")[0].strip().strip("<>").removeprefix(PUBLIC)
    answer = text_of(await h.say("ana", "/wg web link rotate"))
    assert "nor the answer and confirmation links in e-mails sent so far" in answer
    assert "unsubscribe links in digests already sent keep working" in answer

    before = await table_snapshot(h.app.db)
    status, body, _ = await site.get(old["Yes"])
    assert status == 410 and "This link was replaced" in body and "2026-01-05" in body, body
    assert 'method="post"' not in body
    status, body = await site.post(old["Yes"], {})
    assert status == 410 and "Nothing was changed" in body and "a convener records it" in body
    assert await table_snapshot(h.app.db) == before

    await h.say("ana", '/wg meeting move M2 at:"2026-01-21 16:00"')
    fresh = _links(_last(mailed, "Updated invitation: M2"))
    assert fresh["Yes"] != old["Yes"]
    status, body = await site.post(fresh["Yes"], {})
    assert status == 200 and "recorded: yes" in body

    status, body = await site.post(unsub, {"List-Unsubscribe": "One-Click"})
    assert status == 200 and "no longer receive the digest by e-mail" in body
    assert not (await _ngozi(site)).digest_email


async def test_without_a_public_address_the_emails_say_how_to_answer(site: Site) -> None:
    h = site.harness
    server = SmtpServer(free_port())
    server.start()
    try:
        h.app.dispatcher.add_sender(EmailSender(smtp_settings(str(h.app.db.url), server.port)))
        await h.say("ana", f'/wg member add "Ngozi Okafor" government email:{ADDR} tz:Africa/Lagos')
        await h.say("ana", '/wg meeting "Drafting call" at:"2026-01-08 16:00" duration:90m')
        await h.say("ana", "/wg digest send")
        invite = [m for m in server.mailbox.to(ADDR) if str(m["Subject"]).startswith("Invitation")][-1]
        digest = server.mailbox.to(ADDR)[-1]
    finally:
        server.stop()
    text = _text(invite)
    assert "/a/" not in text and "a convener records it" in text and "reply to this e-mail" in text
    assert "/a/" not in _html(invite) and "a convener records it" in _html(invite)
    assert digest["List-Unsubscribe-Post"] is None and "/a/" not in str(digest["List-Unsubscribe"])
    # an e-mail reader cannot type commands: the digest says how to stop it by e-mail
    assert "/a/" not in _text(digest) and "reply with “unsubscribe”" in _text(digest)
    assert "/wg digest" not in _text(digest)


async def test_a_member_subscribing_an_address_must_confirm_it_from_that_mailbox(site: Site, mailed: Mailbox) -> None:
    h = site.harness
    other = "someone@elsewhere.example"
    before = await _no_outbox(site)
    answer = text_of(await h.say("kenji", f"/wg digest subscribe email:{other}"))
    assert f"confirmation link is on its way to {other}" in answer and "nothing changes" in answer
    assert await _no_outbox(site) == before  # only the e-mail is queued
    [mail] = mailed.to(other)
    assert "Confirm the weekly digest" in str(mail["Subject"]) and "kenji" in _text(mail)
    assert "Nothing more is sent here unless the link above is opened" in _text(mail)
    [link] = [m.removeprefix(PUBLIC) for m in re.findall(rf"{re.escape(PUBLIC)}/a/[A-Za-z0-9_.-]+", _text(mail))]
    again = text_of(await h.say("kenji", f"/wg digest subscribe email:{other}"))
    assert "already sent" in again and len(mailed.to(other)) == 1  # not a way to flood an inbox
    status, body, _ = await site.get(link)  # a mail scanner's GET changes nothing
    assert status == 200 and other in body and 'method="post"' in body
    assert await _no_outbox(site) == before
    status, body = await site.post(link, {})
    assert status == 200 and f"will be sent to {other}" in body
    async with h.app.db.session() as s:
        kenji = (await s.exec(select(Member).where(Member.display_name == "kenji"))).one()
    assert kenji.digest_email and kenji.email == other
    status, body = await site.post(link, {})
    assert status == 200 and "already goes to" in body
    # a changed profile address does not carry the digest along unconfirmed
    moved = text_of(await h.say("kenji", "/wg join academia email:new@elsewhere.example"))
    assert "e-mailed digest stopped" in moved
    async with h.app.db.session() as s:
        kenji = (await s.exec(select(Member).where(Member.display_name == "kenji"))).one()
    assert not kenji.digest_email and kenji.email == "new@elsewhere.example"
    # a convener is trusted with addresses, as with /wg member add
    assert "You will receive the weekly digest by e-mail" in text_of(
        await h.say("ana", "/wg digest subscribe email:ana@ngo.example")
    )


async def _no_outbox(site: Site) -> dict[str, object]:
    return {k: v for k, v in (await table_snapshot(site.harness.app.db)).items() if k != "outbox"}
