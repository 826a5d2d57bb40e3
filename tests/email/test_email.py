"""E-mail delivery against a real SMTP server on loopback: both parts, headers, invitations with .ics,
retries while the server is down, permanent refusals shown by the doctor, header injection refused."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlmodel import select

from adapters.email.doctor import check_failed_emails, check_smtp
from adapters.email.render import message_id
from adapters.email.sender import EmailSender
from bot.outbox import enqueue
from bot.reply import Reply
from bot.services.context import email_destination
from storage.models import Member, OutboxMessage
from tests.conftest import START, Harness
from tests.email.conftest import Mailbox, SmtpServer, free_port, smtp_settings

ADDR = "ngozi@ministry.example"


async def setup_group(h: Harness) -> None:
    await h.say("ana", "/wg join civil-society tz:Europe/Paris")
    r = await h.say("ana", f'/wg member add "Ngozi Okafor" government email:{ADDR} tz:Africa/Lagos region:african')
    assert "Added Ngozi Okafor" in r.replies[0].to_text()


def parts(msg: object) -> tuple[str, str, list[object]]:
    from email.message import EmailMessage

    assert isinstance(msg, EmailMessage)
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content(), list(msg.iter_attachments())


async def test_member_added_by_email_gets_a_welcome_with_both_parts_and_headers(
    harness: Harness, mail: Mailbox
) -> None:
    await setup_group(harness)
    [msg] = mail.to(ADDR)
    assert msg["From"] == "wgbot <wg@example.org>"
    assert msg["To"] == ADDR
    assert msg["Subject"] == "Welcome to the working group “wg”"
    row = (await _rows(harness))[0]
    assert msg["Message-ID"] == message_id(row.key, "example.org") == row.platform_ref
    assert msg["List-Unsubscribe"].strip().startswith("<mailto:wg@example.org?subject=unsubscribe")
    assert msg["List-Unsubscribe-Post"] is None  # no https endpoint configured: RFC 8058 forbids it
    text, html, attachments = parts(msg)
    assert "Africa/Lagos" in text and "reply with “unsubscribe”" in text
    assert "<h2" in html and "Africa/Lagos" in html and "unsubscribe" in html
    assert attachments == []


async def test_one_click_unsubscribe_headers_when_an_endpoint_is_configured(
    harness: Harness, smtp_server: SmtpServer
) -> None:
    settings = smtp_settings(
        str(harness.app.db.url), smtp_server.port, SMTP_UNSUBSCRIBE_URL="https://wg.example.org/unsubscribe"
    )
    harness.app.dispatcher.add_sender(EmailSender(settings))
    await setup_group(harness)
    [msg] = smtp_server.mailbox.to(ADDR)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        msg["List-Unsubscribe"]
        .strip()
        .startswith("<https://wg.example.org/unsubscribe?address=ngozi%40ministry.example>")
    )


async def _rows(h: Harness) -> list[OutboxMessage]:
    async with h.app.db.session() as s:
        q = select(OutboxMessage).where(OutboxMessage.platform == "email").order_by(OutboxMessage.id)  # type: ignore[arg-type]
        return list((await s.exec(q)).all())


def _calendar(msg: object) -> Calendar:
    *_, attachments = parts(msg)
    [ics] = attachments
    assert ics.get_content_type() == "text/calendar"  # type: ignore[attr-defined]
    assert ics.get_param("method") in {"REQUEST", "CANCEL"}  # type: ignore[attr-defined]
    return Calendar.from_ical(ics.get_content())  # type: ignore[attr-defined]


async def test_meeting_invitation_update_and_cancel_carry_ics(harness: Harness, mail: Mailbox) -> None:
    await setup_group(harness)
    await harness.say("ana", '/wg meeting "Drafting call" at:"2026-01-08 14:00" duration:90m')
    invite = mail.to(ADDR)[-1]
    assert invite["Subject"] == "Invitation: M1 “Drafting call” (wg)"
    text, _html, _ = parts(invite)
    assert "Thu 8 Jan 2026 14:00 WAT" in text  # 14:00 Paris is 14:00 in Lagos too (both UTC+1 in January)
    assert "reply to this e-mail" in text.lower() and "/wg rsvp" not in text
    cal = _calendar(invite)
    assert str(cal["method"]) == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert str(event["organizer"]) == "mailto:wg@example.org"
    assert str(event["attendee"]) == f"mailto:{ADDR}"
    assert int(event["sequence"]) == 0
    uid = str(event["uid"])

    await harness.say("ana", '/wg meeting move M1 at:"2026-01-09 10:00"')
    update = mail.to(ADDR)[-1]
    assert update["Subject"].startswith("Updated invitation: M1")
    [event] = _calendar(update).walk("VEVENT")
    assert str(event["uid"]) == uid and int(event["sequence"]) == 1

    await harness.say("ana", "/wg meeting cancel M1")
    cancel = mail.to(ADDR)[-1]
    cal = _calendar(cancel)
    assert str(cal["method"]) == "CANCEL"
    [event] = cal.walk("VEVENT")
    assert str(event["uid"]) == uid and int(event["sequence"]) == 2 and str(event["status"]) == "CANCELLED"
    assert len(mail.to(ADDR)) == 4  # welcome, invitation, update, cancellation: each once


async def test_a_member_added_after_meetings_were_scheduled_gets_their_invitations(
    harness: Harness, mail: Mailbox
) -> None:
    await harness.say("ana", "/wg join civil-society tz:Europe/Paris")
    await harness.say("ana", '/wg meeting "Drafting call" at:"2026-01-08 14:00"')
    await harness.say("ana", '/wg meeting "Weekly sync" at:"2026-01-06 10:00" every:"weekly"')
    await harness.say("ana", '/wg meeting "Kick-off" at:"2026-01-07 10:00"')
    await harness.say("ana", '/wg meeting move M1 at:"2026-01-09 10:00"')  # M1 is at its second revision
    await harness.say("ana", "/wg meeting cancel M3")
    r = await harness.say("ana", f'/wg member add "Ngozi Okafor" government email:{ADDR} tz:Africa/Lagos')
    assert "with the invitations to M1, M2," in r.replies[0].to_text()
    subjects = sorted(m["Subject"] for m in mail.to(ADDR))
    assert subjects == [
        "Invitation: M2 “Weekly sync” (wg)",
        "Updated invitation: M1 “Drafting call” (wg)",
        "Welcome to the working group “wg”",
    ]
    [event] = _calendar(next(m for m in mail.to(ADDR) if "M1" in m["Subject"])).walk("VEVENT")
    assert int(event["sequence"]) == 1  # the meeting as it is now, not as first planned
    await harness.say("ana", '/wg meeting move M1 at:"2026-01-09 11:00"')  # then like everyone else's
    assert mail.to(ADDR)[-1]["Subject"].startswith("Updated invitation: M1") and len(mail.to(ADDR)) == 4


async def test_reminders_and_checkins_reach_email_only_members(harness: Harness, mail: Mailbox) -> None:
    await setup_group(harness)
    await harness.say("ana", '/wg meeting "Drafting call" at:"2026-01-06 14:00" remind:1h')
    await harness.say("ana", '/wg checkin "What did you do this week?" every:"day" at:10:00')
    await harness.advance_to(START + timedelta(days=1, hours=4))
    subjects = [m["Subject"] for m in mail.to(ADDR)]
    assert any(s.startswith("Reminder: M1") for s in subjects), subjects
    checkin = [m for m in mail.to(ADDR) if m["Subject"].startswith("Check-in C1")]
    assert checkin, subjects
    text, _, _ = parts(checkin[0])
    assert "a convener records it" in text


async def test_smtp_down_then_delivered_once_when_back(harness: Harness) -> None:
    port = free_port()
    harness.app.dispatcher.add_sender(EmailSender(smtp_settings(str(harness.app.db.url), port)))
    await setup_group(harness)  # the welcome cannot go: nothing listens on the port
    [row] = await _rows(harness)
    assert row.status == "pending" and row.attempts == 1 and "unreachable" in (row.last_error or "")
    server = SmtpServer(port)
    server.start()
    try:
        await harness.advance_to(START + timedelta(hours=1))
        assert len(server.mailbox.to(ADDR)) == 1
        await harness.advance_to(START + timedelta(hours=3))
        assert len(server.mailbox.to(ADDR)) == 1
        [row] = await _rows(harness)
        assert row.status == "sent"
    finally:
        server.stop()


async def test_a_refused_recipient_is_failed_and_shown_by_the_doctor(harness: Harness, mail: Mailbox) -> None:
    mail.refuse.add(ADDR)
    await setup_group(harness)
    [row] = await _rows(harness)
    assert row.status == "failed" and "550" in (row.last_error or "")
    settings = smtp_settings(str(harness.app.db.url), 1)
    check = await check_failed_emails(settings)
    assert check.status == "fail" and ADDR in check.detail and "550" in check.detail


async def test_header_injection_is_refused_never_sent(harness: Harness, mail: Mailbox) -> None:
    await harness.say("ana", "/wg join civil-society")
    r = await harness.say("ana", '/wg member add Eve government email:"eve@example.org\r\nBcc: all@example.org"')
    assert r.replies[0].kind == "error" and "not a valid e-mail address" in r.replies[0].to_text()
    # a row that got into the outbox some other way is refused by the sender, permanently
    async with harness.app.db.transaction() as s:
        await enqueue(
            s,
            key="inject",
            destination=email_destination("x@example.org\r\nBcc: all@example.org"),
            reply=Reply.text("hello"),
            now=harness.clock.now(),
        )
    await harness.app.run_due()
    [row] = [r for r in await _rows(harness) if r.key == "inject"]
    assert row.status == "failed" and "line break" in (row.last_error or "")
    assert mail.messages == []


async def test_member_add_refusals(harness: Harness, mail: Mailbox) -> None:
    await harness.say("ana", "/wg join civil-society")
    await harness.say("ben", "/wg join academia")
    cases = [
        ("ben", f"/wg member add Zoe government email:{ADDR}", "Only a convener can add members"),
        ("ana", "/wg member add Zoe government", "Give the address with email:"),
        ("ana", f"/wg member add Zoe senate email:{ADDR}", "Unknown stakeholder group"),
        ("ana", f"/wg member add Zoe government email:{ADDR} tz:Mars/Olympus", "Unknown time zone"),
    ]
    for who, text, expected in cases:
        r = await harness.say(who, text)
        assert r.replies[0].kind == "error" and expected in r.replies[0].to_text(), (text, r.replies[0].to_text())
    await harness.say("ana", f"/wg member add Zoe government email:{ADDR}")
    r = await harness.say("ana", f"/wg member add Zed government email:{ADDR.upper()}")
    assert "already in the group" in r.replies[0].to_text()
    async with harness.app.db.session() as s:
        assert len((await s.exec(select(Member).where(Member.display_name == "Zoe"))).all()) == 1


async def test_doctor_checks_ehlo_and_login(smtp_server: SmtpServer, tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    ok = await check_smtp(smtp_settings(url, smtp_server.port, SMTP_USERNAME="wgbot", SMTP_PASSWORD="s3cret"))
    assert ok.status == "ok" and "EHLO, login ok" in ok.detail
    down = await check_smtp(smtp_settings(url, free_port()))
    assert down.status == "fail" and "unreachable" in down.detail


async def test_a_convener_records_an_email_only_members_answers(harness: Harness, mail: Mailbox) -> None:
    await setup_group(harness)
    await harness.say("ben", "/wg join academia")
    await harness.say("ana", '/wg meeting "Drafting call" at:"2026-01-08 14:00"')
    await harness.say("ana", '/wg checkin "Blockers?" every:day at:10:00 tz:UTC')
    await harness.advance_to(START + timedelta(days=1, hours=2))
    r = await harness.say("ana", '/wg rsvp M1 yes for:"Ngozi Okafor"')
    assert r.replies[0].to_text() == "Ngozi Okafor's answer to M1 “Drafting call”: yes."
    r = await harness.say("ana", '/wg answer C1 Waiting for the ministry\'s sign-off. for:"Ngozi Okafor"')
    assert "Ngozi Okafor's answer to C1" in r.replies[0].to_text()
    shown = (await harness.say("ana", "/wg show C1")).replies[0].to_text()
    assert "Ngozi Okafor: Waiting for the ministry's sign-off." in shown
    refused = [
        ("ben", '/wg rsvp M1 no for:"Ngozi Okafor"', "Only a convener can record answers"),
        ("ana", "/wg rsvp M1 no for:ben", "answers are recorded only for e-mail-only members"),
        ("ana", "/wg rsvp M1 no for:nobody", "No member"),
    ]
    for who, text, expected in refused:
        r = await harness.say(who, text)
        assert r.replies[0].kind == "error" and expected in r.replies[0].to_text(), r.replies[0].to_text()
    agenda = (await harness.say("ana", "/wg show M1")).replies[0].to_text()
    assert "1 yes" in agenda
    r = await harness.say("ana", '/wg digest unsubscribe for:"Ngozi Okafor"')
    assert (
        r.replies[0].to_text()
        == "Ngozi Okafor no longer receives the digest by e-mail. Ngozi Okafor is told privately."
    )
    r = await harness.say("ana", '/wg digest unsubscribe email for:"Ngozi Okafor"')  # again: names her
    assert r.replies[0].kind == "error"
    assert "Ngozi Okafor is not subscribed to the digest by e-mail" in r.replies[0].to_text()
    r = await harness.say("ben", '/wg digest unsubscribe for:"Ngozi Okafor"')
    assert r.replies[0].kind == "error" and "Only a convener" in r.replies[0].to_text()
