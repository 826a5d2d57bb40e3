"""Votes on the web record: the register lists them with outcome and turnout; a vote's page shows the
results members see, and an anonymous vote's page never names a voter."""

from __future__ import annotations

import re

from tests.web.conftest import Site

VOTERS = ("ana", "kenji", "lea", "omar")


async def _group(site: Site) -> None:
    h = site.harness
    await h.say("lea", "/wg join government region:weog tz:Europe/Berlin")
    await h.say("omar", "/wg join government region:african tz:Africa/Cairo")


async def test_anonymous_vote_page_has_no_voter_handles(site: Site) -> None:
    h = site.harness
    await _group(site)
    await h.say("ana", '/wg vote open "Which venue?" method:choice options:"Geneva, Nairobi" anonymous')
    for name, choice in zip(VOTERS, ("A", "B", "A", "B"), strict=True):
        await h.say(name, f'/wg vote V1 {choice} reason:"because of {choice}"')
    path = await site.record_path()
    status, open_page, _ = await site.get(path + "v/1")
    assert status == 200 and "Which venue?" in open_page and "anonymous" in open_page
    # like /wg results: while it is open, participation only (running totals read before and after
    # someone says "I just voted" would tell their choice)
    assert "no counts until it closes" in open_page and "4 of 4 voted" in open_page
    assert "Geneva" not in open_page.split("no counts until it closes")[1]
    await h.say("ana", "/wg vote close V1")
    status, page, _ = await site.get(path + "v/1")
    assert status == 200 and "final results" in page and "Turnout" in page and "4 of 4" in page
    assert "because of A" in page  # reasons are shown, detached from names
    for body in (open_page, page):
        for name in VOTERS:
            assert not re.search(rf"\b{name}\b", body, re.IGNORECASE), name
    _, register, _ = await site.get(path)
    assert 'href="' + path + 'v/1?tz=UTC"' in register and "4 of 4" in register


async def test_named_vote_shows_ballots_and_a_hidden_one_only_turnout(site: Site) -> None:
    h = site.harness
    await _group(site)
    await h.say("ana", "/wg vote open P1 method:yes-no")
    await h.say("kenji", "/wg vote V1 no")
    await h.say("ana", "/wg vote V1 yes")
    await h.say("ana", "/wg vote close V1")
    await h.say("ana", '/wg vote open "Secret until close?" method:yes-no hidden')
    await h.say("lea", "/wg vote V2 yes")
    path = await site.record_path()
    _, named, _ = await site.get(path + "v/1")
    assert "kenji: no" in named and "ana: yes" in named and 'href="' + path + 'p/1?tz=UTC"' in named
    _, hidden, _ = await site.get(path + "v/2")
    assert "no counts until it closes" in hidden and "1 of 4 voted" in hidden and "lea" not in hidden
    assert (await site.get(path + "v/3"))[0] == 404
