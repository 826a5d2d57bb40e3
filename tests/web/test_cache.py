"""The group page's render cache: served again while nothing changed, rebuilt as soon as a commit in
this process touches what it shows (a proposal, a ballot that names no group, a bulk delete), and
within the TTL for a change it cannot see (another process)."""

from __future__ import annotations

from sqlalchemy import text

from tests.web.conftest import Site


async def test_the_page_is_served_from_the_cache_until_something_changes(site: Site) -> None:
    h, cache = site.harness, site.record.pages
    path = await site.record_path()
    _, first, _ = await site.get(path)
    hits = cache.hits
    status, again, _ = await site.get(path)
    assert status == 200 and again == first and cache.hits == hits + 1

    await h.say("ana", '/wg propose "Data retention rules" Keep logs for 90 days.')  # a Proposal row
    _, page, _ = await site.get(path)
    assert "Data retention rules" in page

    await h.say("ana", '/wg vote open "Adopt the glossary?" method:yes-no')
    _, page, _ = await site.get(path)
    assert "Adopt the glossary?" in page and "0 of 2" in page
    await h.say("kenji", "/wg vote V1 yes")  # a Ballot row: it names no group, every group's pages go
    _, page, _ = await site.get(path)
    assert "1 of 2" in page

    other = await site.get(path + "?tz=Asia/Tokyo")  # another key: built, not mistaken for the first
    assert other[0] == 200 and "Asia/Tokyo" in other[1]


async def test_a_change_the_process_cannot_see_shows_within_the_ttl(site: Site) -> None:
    cache = site.record.pages
    path = await site.record_path()
    _, page, _ = await site.get(path)
    assert "Shared glossary" in page
    # a commit that bypasses this process's sessions (as another process's would)
    async with site.harness.app.db.engine.begin() as conn:
        await conn.execute(text("UPDATE proposals SET title = 'Common glossary' WHERE number = 1"))
    _, page, _ = await site.get(path)
    assert "Shared glossary" in page  # still the cached page: at most TTL seconds old
    cache.ttl = 0
    _, page, _ = await site.get(path)
    assert "Common glossary" in page and "Shared glossary" not in page


async def test_rotating_the_link_is_never_served_from_the_cache(site: Site) -> None:
    path = await site.record_path()
    assert (await site.get(path))[0] == 200
    await site.harness.say("ana", "/wg web link rotate")
    status, body, _ = await site.get(path)
    assert status == 404 and "Shared glossary" not in body
