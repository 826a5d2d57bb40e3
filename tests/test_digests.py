"""Weekly digests: a week of activity then Monday 09:00 → one digest per bound channel, DM subscriber
and e-mail subscriber, in each reader's zone; exactly once across a restart (late-marked); commands."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.bootstrap import build
from bot.config import Settings
from storage.models import Digest, ScheduledJob
from tests.conftest import START, Harness, Recorder, table_snapshot

MONDAY = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


async def week_of_activity(h: Harness) -> None:
    await h.say("ana", "/wg join civil-society region:weog tz:Europe/Paris")
    await h.say("ben", "/wg join government region:african tz:America/New_York", platform="slack")
    await h.say(
        "chen", "/wg join academia region:asia-pacific tz:Asia/Shanghai email:chen@example.edu", platform="discord"
    )
    await h.say("ana", '/wg member add "Ngozi Okafor" technical-community email:ngozi@example.org tz:Africa/Lagos')
    assert "by DM" in (await h.say("ben", "/wg digest subscribe", platform="slack")).replies[0].to_text()
    # no WGBOT_PUBLIC_URL here: nothing can be confirmed, so the convener subscribes chen's address
    r = await h.say("ana", "/wg digest subscribe email:chen@example.edu for:chen")
    assert "chen will receive the weekly digest by e-mail at chen@example.edu" in r.replies[0].to_text()
    await h.say("ben", '/wg propose "Shared glossary" One glossary for the group.', platform="slack")
    await h.say("ana", "/wg amend P1 One glossary for the group, by June.")
    await h.say("ana", '/wg meeting "Drafting call" at:"2026-01-14 15:00 UTC" remind:1h')
    await h.say("chen", "/wg rsvp M1 yes", platform="discord")
    r = await h.say("ana", '/wg checkin "What did you finish?" every:"week on friday" at:10:00 tz:UTC')
    assert r.replies[0].kind != "error", r.replies[0].to_text()
    await h.advance_to(datetime(2026, 1, 9, 11, 0, tzinfo=UTC))
    r = await h.say("chen", "/wg answer C1 Drafted the glossary outline.", platform="discord")
    assert "recorded" in r.replies[0].to_text().lower(), r.replies[0].to_text()


def digests(h: Harness) -> list[tuple[str, str, str]]:
    return [(m.destination.platform, m.destination.label, m.reply.to_text()) for m in h.sent() if m.kind == "digest"]


async def test_a_week_then_monday_sends_one_digest_per_channel_and_subscriber(harness: Harness) -> None:
    await week_of_activity(harness)
    harness.clear()
    await harness.advance_to(MONDAY + timedelta(minutes=1))
    sent = digests(harness)
    where = sorted((p, label) for p, label, _ in sent)
    assert where == [
        ("console", "channel:wg"),
        ("discord", "channel:wg"),
        ("email", "email:chen@example.edu"),
        ("email", "email:ngozi@example.org"),
        ("slack", "channel:wg"),
        ("slack", "dm:ben"),
    ]
    assert all(m.created_at == MONDAY for m in harness.sent() if m.kind == "digest")
    by = {label: text for _, label, text in sent}
    channel = by["channel:wg"]
    assert "Weekly digest: wg, 5 Jan 2026 – 12 Jan 2026" in channel
    assert "New: P1 “Shared glossary” by ben" in channel
    assert "C1 “What did you finish?”" in channel and "Drafted the glossary outline." in channel
    assert "M1 “Drafting call”: Wed 14 Jan 15:00 UTC (RSVP 1 yes · 0 maybe · 0 no)" in channel
    assert "⚠ private-sector: no participation (no members)" in channel
    assert "⚠ technical-community: no participation (1 member)" in channel
    assert "Not heard from this week: private-sector, technical-community, intergovernmental." in channel
    # each reader's zone
    assert "Wed 14 Jan 10:00 EST" in by["dm:ben"]
    assert "Wed 14 Jan 23:00 CST" in by["email:chen@example.edu"]
    assert "Wed 14 Jan 16:00 WAT" in by["email:ngozi@example.org"]
    # exactly once, and the next one is planned for the following Monday
    await harness.advance_to(MONDAY + timedelta(days=2))
    assert len(digests(harness)) == 6
    async with harness.app.db.session() as s:
        archived = (await s.exec(select(Digest))).all()
        assert [(d.week, d.trigger, d.late) for d in archived] == [("2026-W02", "scheduled", False)]
        pending = (
            await s.exec(
                select(ScheduledJob).where(ScheduledJob.kind == "digest.send", ScheduledJob.status == "pending")
            )
        ).all()
        assert [j.due_at for j in pending] == [MONDAY + timedelta(days=7)]


async def test_restart_across_monday_sends_once_late_marked(harness: Harness) -> None:
    await week_of_activity(harness)
    await harness.advance_to(MONDAY - timedelta(hours=1))
    await harness.app.close()  # the bot goes down on Sunday night…
    harness.clock.set(MONDAY + timedelta(hours=3))  # …and is back on Monday at noon
    recorders = {p: Recorder(p) for p in ("console", "slack", "discord", "email")}
    for _ in range(2):  # a second restart changes nothing
        app = await build(
            Settings(WGBOT_DATABASE_URL=str(harness.app.db.url)),
            clock=harness.clock,
            rng=random.Random(1),
            senders=list(recorders.values()),
            worker_id="after-restart",
        )
        await app.run_due()
        await app.close()
    sent = [m for r in recorders.values() for m in r.sent if m.kind == "digest"]
    assert len(sent) == 6
    assert all(
        "(late: due 2026-01-12 09:00 UTC, sent 3 h 00 min late after the bot was offline)" in m.reply.to_text()
        for m in sent
    )
    db = harness.app.db
    async with db.session() as s:
        archived = (await s.exec(select(Digest))).all()
        assert [(d.week, d.late) for d in archived] == [("2026-W02", True)]


async def test_quiet_week_is_one_line(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    harness.clear()
    await harness.advance_to(START + timedelta(days=7))
    [first, *_] = [m for m in harness.sent("console") if m.kind == "digest"]
    text = first.reply.to_text()
    assert "A quiet week: no new proposals, votes, check-in answers or discussion." in text
    assert "Participation" not in text and "Proposals" not in text


async def test_digest_commands(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society tz:Europe/Paris")
    await harness.say("ben", "/wg join government", platform="slack")

    async def error(who: str, text: str, platform: str = "console") -> str:
        r = await harness.say(who, text, platform=platform)
        assert r.replies[0].kind == "error", r.replies[0].to_text()
        return r.replies[0].to_text()

    assert "Only a convener can send the digest" in await error("ben", "/wg digest send", "slack")
    assert "not subscribed" in await error("ben", "/wg digest unsubscribe", "slack")
    await harness.say("ben", "/wg digest subscribe dm", platform="slack")
    assert "already receive the digest by DM" in await error("ben", "/wg digest subscribe", "slack")
    assert "not a valid e-mail address" in await error("ben", "/wg digest subscribe email:nope", "slack")
    assert "not a way to receive it" in await error("ben", "/wg digest subscribe pigeon", "slack")
    me = (await harness.say("ben", "/wg me", platform="slack")).replies[0].to_text()
    assert "Digest: Monday 09:00 UTC: in the group's channels, by DM" in me
    # without WGBOT_PUBLIC_URL nothing can be confirmed, not even the profile's address (anyone's inbox
    # can be typed into /wg join … email:): a convener subscribes it
    refused = await error("ben", "/wg digest subscribe email:ben@gov.example", "slack")
    assert "Ask a convener" in refused and "for:ben" in refused and "WGBOT_PUBLIC_URL" in refused
    await harness.say("ben", "/wg join government email:ben@gov.example", platform="slack")
    assert "Ask a convener" in await error("ben", "/wg digest subscribe email:ben@gov.example", "slack")
    assert "Only a convener" in await error("ben", "/wg digest subscribe email:ben@gov.example for:ben", "slack")
    assert "give the address" in await error("ana", "/wg digest subscribe dm for:ben")
    r = await harness.say("ana", "/wg digest subscribe email:ben@gov.example for:ben")
    assert "ben will receive the weekly digest by e-mail at ben@gov.example" in r.replies[0].to_text()
    assert "already receive the digest by e-mail" in await error(
        "ben", "/wg digest subscribe email:BEN@gov.example", "slack"
    )
    r = await harness.say("ben", "/wg digest unsubscribe dm", platform="slack")
    assert "Digest by DM stopped" in r.replies[0].to_text()
    me = (await harness.say("ben", "/wg me", platform="slack")).replies[0].to_text()
    assert "by e-mail to ben@gov.example" in me and "by DM" not in me

    preview = (await harness.say("ben", "/wg digest preview", platform="slack")).replies[0]
    assert preview.private and preview.kind == "digest" and "Weekly digest: wg" in preview.to_text()
    harness.clear()
    r = await harness.say("ana", "/wg digest send")
    assert "Digest sent now: 4 message(s)" in r.replies[0].to_text()
    assert sorted(m.destination.label for m in harness.sent() if m.kind == "digest") == [
        "channel:wg", "channel:wg", "channel:wg", "email:ben@gov.example",
    ]  # fmt: skip
    async with harness.app.db.session() as s:
        assert [d.trigger for d in (await s.exec(select(Digest))).all()] == ["manual"]


async def test_without_a_public_url_a_member_cannot_aim_the_digest_at_someone_elses_inbox(harness: Harness) -> None:
    """No WGBOT_PUBLIC_URL, so no confirmation link: a member who puts someone else's address on their
    profile (/wg join … email:) cannot subscribe it, and changing the profile's address afterwards does
    not carry a convener's subscription along to it."""
    await harness.say("ana", "/wg join civil-society")
    await harness.say("mallory", '/wg join government name:"Mal Lory" email:victim@example.org', platform="slack")
    before = await table_snapshot(harness.app.db)
    r = await harness.say("mallory", "/wg digest subscribe email:victim@example.org", platform="slack")
    text = r.replies[0].to_text()
    assert r.replies[0].kind == "error" and r.replies[0].private
    assert "Ask a convener" in text and 'for:"Mal Lory"' in text and "WGBOT_PUBLIC_URL" in text
    assert await table_snapshot(harness.app.db) == before
    await harness.say("ana", '/wg digest subscribe email:mal@gov.example for:"Mal Lory"')
    r = await harness.say("mallory", "/wg join government email:victim@example.org", platform="slack")
    assert "The e-mailed digest stopped; a convener can subscribe it" in r.replies[0].to_text()
    harness.clear()
    await harness.say("ana", "/wg digest send")
    assert [m.destination.label for m in harness.sent() if m.destination.platform == "email"] == []


async def test_settings_move_or_stop_the_digest(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")

    async def pending() -> list[datetime]:
        async with harness.app.db.session() as s:
            q = select(ScheduledJob).where(ScheduledJob.kind == "digest.send", col(ScheduledJob.status) == "pending")
            return [j.due_at for j in (await s.exec(q)).all()]

    assert await pending() == [MONDAY]
    await harness.say("ana", '/wg settings digest:"friday 17:00" tz:Europe/Paris')
    assert await pending() == [datetime(2026, 1, 9, 16, 0, tzinfo=UTC)]
    await harness.say("ana", '/wg settings digest:"monday 09:00" tz:UTC')  # back to the first time
    assert await pending() == [MONDAY]
    await harness.say("ana", "/wg settings digest:off")
    assert await pending() == []
    harness.clear()
    await harness.advance_to(START + timedelta(days=15))
    assert [m for m in harness.sent() if m.kind == "digest"] == []
    me = (await harness.say("ana", "/wg me")).replies[0].to_text()
    assert "Digest: off for this group" in me


async def test_preview_shows_the_digest_being_built_even_at_the_digest_minute(harness: Harness) -> None:
    await week_of_activity(harness)
    await harness.advance_to(MONDAY - timedelta(minutes=1))
    before = (await harness.say("ana", "/wg digest preview")).replies[0].to_text()
    assert "Weekly digest: wg, 5 Jan 2026 – 12 Jan 2026" in before and "New: P1 “Shared glossary”" in before
    await harness.advance_to(MONDAY)  # the digest of 5–12 Jan goes out now: the preview moves on
    assert any(m.kind == "digest" for m in harness.sent())
    at = (await harness.say("ana", "/wg digest preview")).replies[0].to_text()
    assert "Weekly digest: wg, 12 Jan 2026 – 19 Jan 2026" in at and "Shared glossary" not in at
    assert "Week 2026-W03" in at


async def test_confirmation_emails_are_limited_per_member_and_per_mailbox(harness: Harness) -> None:
    """`/wg digest subscribe email:` e-mails a confirmation link to any address: without a cap per
    member and per mailbox, one member (or a few) could fill a stranger's inbox with variants of
    its address (victim+1@…, Victim@…)."""
    h = harness
    h.app.core.public_url = "https://wg.example.org"  # confirmation links can be served

    def confirmations() -> list[str]:
        return [m.destination.label for m in h.sent("email")]

    async def subscribe(who: str, address: str) -> tuple[str, str]:
        r = (await h.say(who, f"/wg digest subscribe email:{address}")).replies[0]
        return r.kind, r.to_text()

    await h.say("ana", "/wg join civil-society")  # the convener, trusted with addresses
    await h.say("mallory", "/wg join academia tz:Europe/Paris")
    for i in (1, 2, 3):
        kind, text = await subscribe("mallory", f"someone{i}@elsewhere.example")
        assert kind != "error" and "confirmation link is on its way" in text, text
        if i == 1:  # the same address again is still "already sent", and not counted
            kind, text = await subscribe("mallory", "someone1@elsewhere.example")
            assert kind == "error" and "already sent" in text
    kind, text = await subscribe("mallory", "someone4@elsewhere.example")
    assert kind == "error" and "No confirmation e-mail sent" in text, text
    # the day turns at 00:00 UTC: 01:00 in Paris, 15 hours after START (09:00 UTC)
    assert "you have asked for 3" in text and "Try again after Tue 6 Jan 01:00 CET (in 15 h 00 min)" in text
    assert "ask a convener" in text
    assert confirmations() == [f"email:someone{i}@elsewhere.example" for i in (1, 2, 3)]

    # several members aiming at one mailbox through variants of its address
    for who, address in (
        ("a1", "Victim+1@Mail.example"),
        ("a2", "victim+2@mail.example"),
        ("a3", "victim@mail.example"),
    ):
        await h.say(who, "/wg join academia")
        kind, text = await subscribe(who, address)
        assert kind != "error", text
    await h.say("a4", "/wg join academia")
    kind, text = await subscribe("a4", "victim+4@mail.example")
    assert kind == "error" and "this mailbox has been sent 3" in text and "Try again after" in text
    kind, text = await subscribe("a4", "victim.x@gmail.com")  # another mailbox is fine
    assert kind != "error", text
    assert len(confirmations()) == 7

    # a new day: allowed again
    await h.advance_to(datetime(2026, 1, 6, 0, 1, tzinfo=UTC))
    kind, text = await subscribe("mallory", "someone4@elsewhere.example")
    assert kind != "error", text
    kind, text = await subscribe("a4", "victim+4@mail.example")
    assert kind != "error", text


def test_mailbox_ignores_case_tags_and_gmail_dots() -> None:
    from bot.services.digests import mailbox

    assert mailbox("Victim+news@Example.ORG") == "victim@example.org"
    assert mailbox("j.doe+1@googlemail.com") == mailbox("JDoe@gmail.com") == "jdoe@gmail.com"
    assert mailbox("j.doe@example.org") == "j.doe@example.org"
    assert mailbox("+x@example.org") == "+x@example.org"


async def test_a_convener_subscribes_and_unsubscribes_a_members_address_and_the_member_is_told(
    harness: Harness,
) -> None:
    """`for:<member>` works both ways for the same members (a chat member too, not only an e-mail-only
    one), and each time the member gets a private notice through the outbox: a DM, or an e-mail for a
    member without a chat account."""
    await harness.say("ana", "/wg join civil-society")
    await harness.say("ben", "/wg join government email:ben@old.example", platform="slack")
    await harness.say("ana", '/wg member add "Ngozi Okafor" technical-community email:ngozi@example.org')

    def notices() -> list[tuple[str, str]]:
        return [
            (m.destination.label, m.reply.to_text())
            for m in harness.sent()
            if m.destination.label.startswith(("dm:", "email:")) and "Your weekly digest" in m.reply.to_text()
        ]

    harness.clear()
    r = await harness.say("ana", "/wg digest subscribe email:ben@new.example for:ben")
    assert r.replies[0].to_text().endswith("ben is told privately."), r.replies[0].to_text()
    [(where, text)] = notices()
    assert where == "dm:ben"
    assert "ana, a convener, subscribed ben@new.example" in text and "replaces ben@old.example" in text
    assert "/wg digest unsubscribe email" in text

    harness.clear()
    r = await harness.say("ana", "/wg digest unsubscribe email for:ben")
    assert r.replies[0].kind != "error", r.replies[0].to_text()
    assert r.replies[0].to_text() == "ben no longer receives the digest by e-mail. ben is told privately."
    [(where, text)] = notices()
    assert where == "dm:ben" and "ana, a convener, stopped your weekly digest" in text and "ben@new.example" in text
    async with harness.app.db.session() as s:
        from storage.models import Member

        ben = (await s.exec(select(Member).where(Member.display_name == "ben"))).one()
        assert (ben.email, ben.digest_email) == ("ben@new.example", False)

    # a chat member's DMs stay his own choice; without a way, for: stops the e-mail only
    await harness.say("ben", "/wg digest subscribe dm", platform="slack")
    await harness.say("ana", "/wg digest subscribe email:ben@new.example for:ben")
    before = await table_snapshot(harness.app.db)
    r = await harness.say("ana", "/wg digest unsubscribe dm for:ben")
    assert r.replies[0].kind == "error" and "stops the DMs in the chat" in r.replies[0].to_text()
    assert await table_snapshot(harness.app.db) == before
    r = await harness.say("ana", "/wg digest unsubscribe for:ben")
    assert r.replies[0].to_text().startswith("ben no longer receives the digest by e-mail.")
    me = (await harness.say("ben", "/wg me", platform="slack")).replies[0].to_text()
    assert "by DM" in me and "by e-mail" not in me

    # an e-mail-only member is told at her address
    harness.clear()
    r = await harness.say("ana", '/wg digest unsubscribe for:"Ngozi Okafor"')
    assert r.replies[0].to_text().endswith("Ngozi Okafor is told privately.")
    [(where, text)] = notices()
    assert where == "email:ngozi@example.org" and "reply to ask a convener" in text
    harness.clear()
    await harness.say("ana", '/wg digest subscribe email:ngozi@ministry.example for:"Ngozi Okafor"')
    [(where, text)] = notices()
    assert where == "email:ngozi@ministry.example" and "replaces ngozi@example.org" in text
    assert "reply “unsubscribe”" in text

    # still conveners only, and a convener acting on herself is not sent a notice
    r = await harness.say("ben", '/wg digest unsubscribe for:"Ngozi Okafor"', platform="slack")
    assert r.replies[0].kind == "error" and "Only a convener" in r.replies[0].to_text()
    harness.clear()
    await harness.say("ana", "/wg digest subscribe email:ana@example.org for:ana")
    r = await harness.say("ana", "/wg digest unsubscribe email for:ana")
    assert r.replies[0].to_text().startswith("Digest by e-mail stopped"), r.replies[0].to_text()
    assert notices() == []
