"""An anonymous vote's breakdown cannot be subtracted from its totals to find one person's choice
(found by the review: three government voters shown, the fourth ballot = totals minus government)."""

from __future__ import annotations

from bot.services.vote_render import MIN_CELL, visible_parts
from bot.tally import Part
from tests.conftest import Harness


def test_folding_one_small_group_also_folds_rows_that_would_give_it_away() -> None:
    parts = {"government": Part(n=3, totals=[2, 1, 0]), "academia": Part(n=1, totals=[0, 0, 1])}
    shown, folded = visible_parts(parts, anonymous=True)
    assert shown == {} and folded == 4
    big = {"a": Part(n=3, totals=[3]), "b": Part(n=5, totals=[5]), "c": Part(n=1, totals=[1])}
    shown, folded = visible_parts(big, anonymous=True)
    assert list(shown) == ["b"] and folded == 4 >= MIN_CELL
    assert visible_parts(parts, anonymous=False) == (parts, 0)


async def test_anonymous_results_do_not_reveal_the_lone_voter(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    for name in ("g1", "g2", "g3"):
        await harness.say(name, "/wg join government")
    await harness.say("x1", "/wg join academia")
    await harness.say("ana", '/wg vote open "anon leak" method:choice options:"red, blue, green" anonymous')
    for name, choice in (("g1", "red"), ("g2", "red"), ("g3", "blue"), ("x1", "green")):
        await harness.say(name, f"/wg vote V1 {choice}")
        # while open, no running totals: read before and after someone votes they would tell the choice
        running = (await harness.say("ana", "/wg results V1")).replies[0].to_text()
        assert "anonymous: no counts until it closes" in running and "Totals" not in running
    await harness.say("ana", "/wg vote close V1")
    text = (await harness.say("ana", "/wg results V1")).replies[0].to_text()
    assert "Totals: A 2 · B 1 · C 1" in text
    assert "government (3)" not in text, text
    assert "4 ballot(s) not shown by group" in text
