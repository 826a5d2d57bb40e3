"""Signed, expiring, single-purpose links for members reachable only by e-mail, served at /a/…:
GET only shows what the link does; POST does it; a tampered, expired or foreign link does nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot import webaccess
from bot.webaccess import SignedAction
from storage.models import CheckinAnswer, Member, Rsvp
from tests.conftest import table_snapshot
from tests.web.conftest import PUBLIC, Site


async def _member(site: Site, name: str) -> Member:
    async with site.harness.app.db.session() as s:
        return (await s.exec(select(Member).where(Member.display_name == name))).one()


async def _link(site: Site, member: Member, purpose: str, subject: str, *, days: float = 7) -> str:
    access = await site.access()
    expires = webaccess.expiry(site.harness.clock.now(), timedelta(days=days))
    assert member.id is not None
    return "/a/" + webaccess.sign(access.link_secret, SignedAction(access.wg_id, member.id, purpose, subject, expires))


async def test_rsvp_link_answers_on_post_only(site: Site) -> None:
    kenji = await _member(site, "kenji")
    link = await _link(site, kenji, "rsvp", "M1:no")
    before = await table_snapshot(site.harness.app.db)
    status, body, _ = await site.get(link)
    assert status == 200 and "Answer “no”" in body and "Weekly sync" in body and 'method="post"' in body
    assert await table_snapshot(site.harness.app.db) == before  # a mail scanner's GET changes nothing
    status, body = await site.post(link, {})
    assert status == 200 and "recorded: no" in body
    async with site.harness.app.db.session() as s:
        [row] = (await s.exec(select(Rsvp).where(Rsvp.member_id == kenji.id))).all()
    assert row.answer == "no"


async def test_rsvp_link_of_a_cancelled_meeting_says_so_on_get(site: Site) -> None:
    kenji = await _member(site, "kenji")
    link = await _link(site, kenji, "rsvp", "M1:yes")
    r = await site.harness.say("ana", "/wg meeting cancel M1")
    assert r.replies[0].kind != "error", r.replies[0].to_text()
    before = await table_snapshot(site.harness.app.db)
    status, body, _ = await site.get(link)
    assert status == 410 and "M1 was cancelled; there is nothing to answer." in body
    assert "Answer “yes”" not in body and 'method="post"' not in body
    status, body = await site.post(link, {})
    assert status == 409 and "cancelled" in body
    assert await table_snapshot(site.harness.app.db) == before


async def test_tampered_expired_and_foreign_links_do_nothing(site: Site) -> None:
    kenji = await _member(site, "kenji")
    good = await _link(site, kenji, "rsvp", "M1:yes")
    payload, mac = good.removeprefix("/a/").split(".")
    # the same MAC on another purpose/answer (a different payload) is refused
    other = await _link(site, kenji, "rsvp", "M1:no")
    swapped = "/a/" + other.removeprefix("/a/").split(".")[0] + "." + mac
    expired = await _link(site, kenji, "rsvp", "M1:yes", days=-1)
    forged = "/a/" + webaccess.sign(
        "0" * 64, SignedAction((await site.access()).wg_id, kenji.id or 0, "rsvp", "M1:yes", 2**40)
    )
    before = await table_snapshot(site.harness.app.db)
    for link in (swapped, expired, forged, f"/a/{payload}.{mac[:-2]}xx", "/a/e30.abc"):
        status, body, _ = await site.get(link)
        assert status == 404 and "not valid or has expired" in body, link
        status, body = await site.post(link, {})
        assert status == 404 and "Nothing was changed" in body, link
    assert await table_snapshot(site.harness.app.db) == before


async def test_links_signed_before_generations_count_as_generation_0(site: Site) -> None:
    """A link of five fields (signed before link generations existed) still works until the group's
    links are rotated; a confirmation link of an older generation says to ask again."""
    import base64
    import hashlib
    import hmac
    import json

    kenji = await _member(site, "kenji")
    access = await site.access()
    assert access.link_generation == 0
    expires = webaccess.expiry(site.harness.clock.now(), timedelta(days=7))
    raw = json.dumps([access.wg_id, kenji.id, "rsvp", "M1:maybe", expires], separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    mac = hmac.new(access.link_secret.encode(), payload.encode(), hashlib.sha256).digest()
    legacy = f"/a/{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    status, body = await site.post(legacy, {})
    assert status == 200 and "recorded: maybe" in body
    await site.harness.say("kenji", "/wg digest subscribe email:kenji@example.org")
    confirm = await _link(site, kenji, "confirm", "kenji@example.org")
    await site.harness.say("ana", "/wg web link rotate")
    assert (await site.access()).link_generation == 1
    before = await table_snapshot(site.harness.app.db)
    status, body = await site.post(legacy, {})
    assert status == 410 and "This link was replaced" in body
    status, body = await site.post(confirm, {})
    assert status == 410 and "/wg digest subscribe email:" in body
    assert await table_snapshot(site.harness.app.db) == before
    assert (await site.post(await _link(site, kenji, "rsvp", "M1:no"), {}))[0] == 410  # _link signs generation 0


async def test_links_claiming_ids_no_column_holds_are_refused_before_any_query(site: Site) -> None:
    """The claimed group id is looked up before the MAC is checked: an id past INTEGER (PostgreSQL
    refuses the parameter) or a boolean is the same "not valid" page, never a server error."""
    import base64
    import json

    def token(body: list[object]) -> str:
        raw = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
        return f"/a/{raw}.AAAA"

    before = await table_snapshot(site.harness.app.db)
    for wg_id, member_id in ((2**31, 1), (10**30, 1), (-1, 1), (0, 1), (True, 1), (1, 2**31), (1, 10**30)):
        link = token([wg_id, member_id, "rsvp", "M1:yes", 2**40])
        status, body, _ = await site.get(link)
        assert status == 404 and "not valid or has expired" in body, (wg_id, member_id)
        status, body = await site.post(link, {})
        assert status == 404 and "Nothing was changed" in body, (wg_id, member_id)
    assert await table_snapshot(site.harness.app.db) == before


async def test_checkin_answer_link_takes_the_text(site: Site) -> None:
    await site.harness.say("ana", '/wg checkin "What did you finish?" every:monday at:10:00')
    kenji = await _member(site, "kenji")
    link = await _link(site, kenji, "answer", "C1:2026-01-05")
    status, body, _ = await site.get(link)
    assert status == 200 and "What did you finish?" in body and "<textarea" in body
    status, body = await site.post(link, {"answer": "The glossary <b>draft</b>"})
    assert status == 200 and "recorded" in body
    async with site.harness.app.db.session() as s:
        [row] = (await s.exec(select(CheckinAnswer))).all()
    assert row.text == "The glossary <b>draft</b>" and row.occurrence == "2026-01-05"
    status, body = await site.post(link, {"answer": "  "})
    assert status == 409 and "empty" in body


async def test_one_click_unsubscribe_with_list_unsubscribe_post(site: Site) -> None:
    await site.harness.say("kenji", "/wg digest subscribe email:kenji@example.org")
    kenji = await _member(site, "kenji")
    assert not kenji.digest_email  # not before the address is confirmed
    status, body = await site.post(await _link(site, kenji, "confirm", "kenji@example.org"), {})
    assert status == 200 and "Confirmed" in body
    kenji = await _member(site, "kenji")
    assert kenji.digest_email and kenji.email == "kenji@example.org"
    link = await _link(site, kenji, "unsubscribe", "")
    status, body = await site.post(link, {"List-Unsubscribe": "One-Click"})  # what mail clients send (RFC 8058)
    assert status == 200 and "no longer receive the digest by e-mail" in body
    assert not (await _member(site, "kenji")).digest_email


async def test_signed_link_helper_needs_the_public_url(site: Site) -> None:
    kenji = await _member(site, "kenji")
    async with site.harness.app.db.transaction() as s:
        url = await webaccess.signed_link(
            s,
            PUBLIC,
            wg_id=kenji.wg_id,
            member_id=kenji.id or 0,
            purpose="unsubscribe",
            subject="",
            now=site.harness.clock.now(),
        )
        assert url is not None and url.startswith(f"{PUBLIC}/a/")
        assert (
            await webaccess.signed_link(
                s,
                None,
                wg_id=kenji.wg_id,
                member_id=kenji.id or 0,
                purpose="unsubscribe",
                subject="",
                now=site.harness.clock.now(),
            )
            is None
        )
    status, _, _ = await site.get(url.removeprefix(PUBLIC))
    assert status == 200
