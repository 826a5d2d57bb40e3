"""The web record over real HTTP: access by token and rotation, public addresses, escaping, bad
input, the calendar feed, the chat commands that give the addresses."""

from __future__ import annotations

import icalendar
from sqlmodel import select

from storage.models import WebAccess
from tests.conftest import Harness, table_snapshot
from tests.web.conftest import PUBLIC, Site, text_of


async def test_web_link_is_for_conveners_and_names_the_public_url(site: Site) -> None:
    h = site.harness
    access = await site.access()
    answer = text_of(await h.say("ana", "/wg web link"))
    assert f"{PUBLIC}/r/{access.token}/" in answer and "private" in answer
    refused = text_of(await h.say("kenji", "/wg web link"))
    assert "Only a convener" in refused and access.token not in refused
    h.app.core.public_url = None
    answer = text_of(await h.say("ana", "/wg web link"))
    assert "WGBOT_PUBLIC_URL is not set" in answer and "Replaced" not in answer


async def test_rotating_without_a_public_url_says_what_it_replaced(site: Site) -> None:
    """No WGBOT_PUBLIC_URL: a rotation still replaces the tokens (links given out before stop working)
    and the answer says what it did, for the record's link and for the feed alike."""
    h = site.harness
    h.app.core.public_url = None
    before = await site.access()
    answer = text_of(await h.say("ana", "/wg web link rotate"))
    after = await site.access()
    assert after.token != before.token and after.feed_token != before.feed_token
    assert after.link_generation == before.link_generation + 1
    assert answer.startswith("Replaced: the web record's link, the calendar feed's address"), answer
    assert "unsubscribe links in digests keep working" in answer and "WGBOT_PUBLIC_URL is not set" in answer
    assert after.token not in answer and "no new address to show" in answer
    answer = text_of(await h.say("ana", "/wg web feed rotate"))
    feed = await site.access()
    assert feed.feed_token != after.feed_token and feed.token == after.token
    assert answer.startswith("Replaced: the calendar feed's address no longer works."), answer
    assert "WGBOT_PUBLIC_URL is not set" in answer and "no new address to show" in answer
    answer = text_of(await h.say("ana", "/wg web feed"))
    assert "Replaced" not in answer and "WGBOT_PUBLIC_URL is not set" in answer


async def test_record_page_by_token_shows_register_meetings_and_chart(site: Site) -> None:
    status, body, headers = await site.get(await site.record_path())
    assert status == 200
    assert "Shared glossary" in body and "Incident taxonomy" in body and "Weekly sync" in body
    assert "Europe/Paris" in body  # the group's zone by default (without the browser's)
    assert "<svg" in body and 'id="participation-table"' in body
    assert "script-src 'sha256-" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    status, body, _ = await site.get(await site.record_path() + "?tz=Asia/Tokyo")
    assert status == 200 and "Thu 8 Jan 2026 22:00 JST" in body  # 14:00 Paris in Tokyo
    status, body, _ = await site.get(await site.record_path() + "p/1?tz=Asia/Tokyo")
    assert status == 200 and "One glossary for the group." in body and "by ana" in body


async def test_rotated_link_404s_at_once_and_looks_like_any_unknown_address(site: Site) -> None:
    old = await site.record_path()
    status, _, _ = await site.get(old)
    assert status == 200
    answer = text_of(await site.harness.say("ana", "/wg web link rotate"))
    new = await site.record_path()
    assert new != old and f"{PUBLIC}{new}" in answer and "no longer works" in answer
    status, rotated, _ = await site.get(old)
    assert status == 404
    status, unknown, _ = await site.get("/r/" + "A" * 43 + "/")
    assert status == 404 and unknown == rotated  # no hint whether a group was there
    for path in ("calendar.ics", "chart.svg", "p/1"):
        assert (await site.get(old + path))[0] == 404
    assert (await site.get(new))[0] == 200


async def test_public_address_only_when_the_convener_makes_it_public(site: Site) -> None:
    access = await site.access()
    path = f"/g/{access.wg_id}/"
    status, private_body, _ = await site.get(path)
    assert status == 404
    assert (await site.get("/g/987654/"))[1] == private_body
    answer = text_of(await site.harness.say("ana", "/wg settings web:public"))
    assert "web record public" in answer
    status, body, headers = await site.get(path)
    assert status == 200 and "Shared glossary" in body and "X-Robots-Tag" not in headers
    assert "Only a convener" in text_of(await site.harness.say("kenji", "/wg settings web:private"))
    await site.harness.say("ana", "/wg settings web:private")
    assert (await site.get(path))[0] == 404


async def test_bad_settings_value_changes_nothing(site: Site) -> None:
    before = await table_snapshot(site.harness.app.db)
    answer = text_of(await site.harness.say("ana", "/wg settings web:everyone tz:Asia/Tokyo"))
    assert "web:private" in answer and "web:public" in answer
    assert "summaries:on" in text_of(await site.harness.say("ana", "/wg settings summaries:maybe"))
    assert await table_snapshot(site.harness.app.db) == before


async def test_user_text_is_escaped(site: Site) -> None:
    await site.harness.say("kenji", '/wg propose "<script>alert(1)</script> & <b>bold</b>" body <img src=x>')
    path = await site.record_path()
    _, body, _ = await site.get(path)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in body
    assert "<script>alert(1)" not in body and "<b>bold</b>" not in body
    _, page, _ = await site.get(path + "p/3")
    assert "&lt;img src=x&gt;" in page and "<img src=x>" not in page


async def test_bad_input_is_a_4xx_never_a_traceback(site: Site) -> None:
    path = await site.record_path()
    cases = {
        path + "?tz=Mars/Olympus": 400,
        path + "?tz=" + "A" * 80: 400,
        path + "?tz=../../etc/passwd": 400,
        path + "?status=bogus": 400,
        path + "?by=shoe-size": 400,
        path + "?x=" + "a" * 2000: 414,
        path + "p/999": 404,
        path + "p/abc": 404,
        path + "../../etc/passwd": 404,
        path + "%2e%2e/%2e%2e/etc/passwd": 404,
        "/r/short/": 404,
        "/g/not-a-number/": 404,
        "/a/garbage": 404,
        "/a/" + "x" * 700: 404,
    }
    for url, expected in cases.items():
        status, body, _ = await site.get(url)
        assert status == expected, url
        assert "Traceback" not in body and 'File "' not in body
    async with site.http.delete(site.url + path) as resp:
        assert resp.status == 405


async def test_calendar_feed_parses_with_icalendar_and_repeats(site: Site) -> None:
    await site.harness.say("ana", '/wg meeting "Kick-off" at:"2026-01-06 16:00 UTC" duration:30m')
    status, body, headers = await site.get(await site.record_path() + "calendar.ics")
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(body)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"Weekly sync (M1, wg)", "Kick-off (M2, wg)"}
    weekly = events["Weekly sync (M1, wg)"]
    assert weekly["rrule"]["FREQ"] == ["WEEKLY"]
    assert str(weekly.decoded("dtstart").tzinfo) == "Europe/Paris" and weekly.decoded("dtstart").hour == 14
    assert "RRULE" not in events["Kick-off (M2, wg)"]


async def test_ics_and_show_give_the_feed_address_which_opens_only_the_feed(site: Site) -> None:
    access = await site.access()
    path = f"/f/{access.feed_token}/calendar.ics"
    feed = f"{PUBLIC}{path}"
    ics_answer = text_of(await site.harness.say("kenji", "/wg ics M1"))
    show_answer = text_of(await site.harness.say("kenji", "/wg show M1"))
    assert feed in ics_answer and feed in show_answer
    # a member or observer never gets the record's token this way
    assert access.token not in ics_answer and access.token not in show_answer
    assert access.feed_token != access.token
    status, body, headers = await site.get(path)
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    assert "Weekly sync (M1, wg)" in {str(e["summary"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    # the feed's token opens no page of the record, under either prefix
    _, unknown, _ = await site.get("/r/" + "A" * 43 + "/")
    for other in (f"/r/{access.feed_token}/", f"/r/{access.feed_token}/calendar.ics", f"/r/{access.feed_token}/p/1"):
        status, body, _ = await site.get(other)
        assert status == 404 and body == unknown, other
    for other in (f"/f/{access.feed_token}/", f"/f/{access.feed_token}/p/1", f"/f/{access.feed_token}/chart.svg"):
        assert (await site.get(other))[0] == 404, other
    assert (await site.get(f"/f/{access.token}/calendar.ics"))[0] == 404  # nor the other way round
    # the record page links to the feed's own address
    assert f'href="{path}"' in (await site.get(await site.record_path()))[1]
    site.harness.app.core.public_url = None
    assert "calendar.ics" not in text_of(await site.harness.say("kenji", "/wg ics M1"))


async def test_rotate_replaces_the_feed_address_too(site: Site) -> None:
    old = f"/f/{(await site.access()).feed_token}/calendar.ics"
    assert (await site.get(old))[0] == 200
    await site.harness.say("ana", "/wg web link rotate")
    new = f"/f/{(await site.access()).feed_token}/calendar.ics"
    assert new != old
    assert (await site.get(old))[0] == 404
    assert (await site.get(new))[0] == 200
    assert f"{PUBLIC}{new}" in text_of(await site.harness.say("kenji", "/wg ics M1"))


async def test_the_feed_address_rotates_alone(site: Site) -> None:
    """`/wg web feed rotate` (conveners): a new feed address; the record's link and the e-mails' link
    generation are untouched, so a leaked feed address costs nobody the record's address."""
    before = await site.access()
    old = f"/f/{before.feed_token}/calendar.ics"
    shown = text_of(await site.harness.say("ana", "/wg web feed"))
    assert f"{PUBLIC}{old}" in shown and before.token not in shown
    refused = text_of(await site.harness.say("kenji", "/wg web feed rotate"))
    assert "Only a convener" in refused
    assert (await site.access()).feed_token == before.feed_token
    answer = text_of(await site.harness.say("ana", "/wg web feed rotate"))
    after = await site.access()
    new = f"/f/{after.feed_token}/calendar.ics"
    assert new != old and f"{PUBLIC}{new}" in answer and "no longer works" in answer
    assert (after.token, after.link_generation) == (before.token, before.link_generation)
    assert (await site.get(old))[0] == 404
    assert (await site.get(new))[0] == 200
    assert (await site.get(f"/r/{before.token}/"))[0] == 200  # the record's link still works
    assert f"{PUBLIC}{new}" in text_of(await site.harness.say("kenji", "/wg ics M1"))
    unknown = text_of(await site.harness.say("ana", "/wg web feed spin"))
    assert "/wg web feed rotate" in unknown and (await site.access()).feed_token == after.feed_token


async def test_public_group_gives_the_public_feed(site: Site) -> None:
    await site.harness.say("ana", "/wg settings web:public")
    access = await site.access()
    answer = text_of(await site.harness.say("kenji", "/wg ics M1"))
    assert f"{PUBLIC}/g/{access.wg_id}/calendar.ics" in answer and access.feed_token not in answer
    assert (await site.get(f"/g/{access.wg_id}/calendar.ics"))[0] == 200


async def test_access_row_is_created_once_under_concurrent_first_use(harness: Harness) -> None:
    import asyncio

    await harness.say("ana", "/wg join civil-society")
    answers = await asyncio.gather(*(harness.say("ana", "/wg web link") for _ in range(4)))
    assert all("WGBOT_PUBLIC_URL" in text_of(a) for a in answers)
    async with harness.app.db.session() as s:
        assert len((await s.exec(select(WebAccess))).all()) == 1
