"""Votes through the core: opening, ballots and receipts, refusals that change nothing, closing,
proposal status, merging ballots on /wg link, and one ballot from 50 concurrent ones."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import func, select

from bot.ballots import verify_vote
from bot.command import UserRef, Where
from storage.models import Ballot, BallotLogEntry, Proposal, Vote
from tests.conftest import Harness
from tests.test_link import code_for
from tests.test_members import refused


@pytest.fixture
async def group(harness: Harness) -> Harness:
    await harness.say("ana", "/wg join civil-society region:weog tz:Europe/Lisbon")
    await harness.say("ben", "/wg join government region:african tz:Africa/Lagos", platform="slack")
    await harness.say("chen", "/wg join technical-community region:asia-pacific tz:Asia/Shanghai", platform="discord")
    await harness.say("ana", '/wg propose "Shared taxonomy" One taxonomy for AI incidents.')
    harness.clear()
    return harness


def text(r: object) -> str:
    return r.replies[0].to_text()  # type: ignore[attr-defined]


async def proposal_status(h: Harness, number: int = 1) -> str:
    async with h.app.db.session() as s:
        return (await s.exec(select(Proposal.status).where(Proposal.number == number))).one()


async def test_consent_vote_on_a_proposal_is_announced_counted_and_settles_the_proposal(group: Harness) -> None:
    r = await group.say("ana", "/wg vote open P1")
    assert "V1 opened for 3 voter(s)" in text(r)
    cards = [m for m in group.sent() if m.kind == "announcement"]
    assert sorted(m.destination.platform for m in cards) == ["console", "discord", "slack"]
    assert "[Block] /wg vote V1 block" in cards[0].reply.to_text()
    assert await proposal_status(group) == "voting"
    assert "only open proposals can be amended" in await refused(group, "ana", "/wg amend P1 other text")
    receipt = text(await group.say("ben", "/wg vote V1 agree", platform="slack"))
    assert "Your ballot on V1 is recorded: agree. Receipt " in receipt and r.replies[0].private
    changed = text(await group.say("ben", "/wg vote V1 abstain", platform="slack"))
    assert "is changed: abstain" in changed
    assert "is unchanged" in text(await group.say("ben", "/wg vote V1 abstain", platform="slack"))
    await group.say("chen", "/wg vote V1 agree", platform="discord")
    live = text(await group.say("ana", "/wg results V1"))
    assert "agree 1 · abstain 1 · disagree 0 · block 0" in live and "results so far" in live
    group.clear()
    assert "adopted by consent" in text(await group.say("ana", "/wg vote close V1"))
    closed = [m for m in group.sent() if m.kind == "announcement"]
    assert len(closed) == 3 and "Turnout: 2 of 3 (66%)" in closed[0].reply.to_text()
    assert "ben: abstain" in closed[0].reply.to_text() and "chen: agree" in closed[0].reply.to_text()
    assert await proposal_status(group) == "accepted"
    assert "closed" in await refused(group, "chen", "/wg vote V1 block reason:late", platform="discord")
    async with group.app.db.session() as s:
        vote = (await s.exec(select(Vote))).one()
        assert await verify_vote(s, vote) is None


async def test_no_quorum_leaves_the_proposal_open(group: Harness) -> None:
    await group.say("ana", "/wg vote open P1 method:yes-no quorum:67%")
    await group.say("ana", "/wg vote V1 yes")
    r = await group.say("ana", "/wg vote close V1")
    assert "no quorum: 1 ballot(s), 3 needed" in text(r)
    assert await proposal_status(group) == "open"


@pytest.mark.parametrize(
    ("who", "command", "error"),
    [
        ("ana", '/wg vote open "Where?" method:choice options:"Geneva"', "at least 2 options"),
        ("ana", '/wg vote open "Where?" options:"' + ", ".join(f"o{i}" for i in range(101)) + '"', "at most 100"),
        ("ana", '/wg vote open "Where?" closes:2025-01-01T10:00Z', "closes: is in the past"),
        ("ana", '/wg vote open "Where?" quorum:101%', "over 100%"),
        ("ana", '/wg vote open "Where?" quorum:0', "at least 1"),
        ("ana", '/wg vote open "Where?" quorum:9', "can never be met"),
        ("ana", '/wg vote open "Where?" method:borda options:"a, b"', "Unknown method"),
        ("ana", '/wg vote open "Where?" method:consent options:"a, b"', "fixed answers"),
        ("ben", '/wg vote open "Where?"', "Only a convener can open votes"),
    ],
)
async def test_opening_refusals(group: Harness, who: str, command: str, error: str) -> None:
    platform = "slack" if who == "ben" else "console"
    assert error in await refused(group, who, command, platform=platform)


async def test_ballot_refusals_change_nothing(group: Harness) -> None:
    await group.say("ana", '/wg vote open "Venue?" method:ranked options:"Geneva, Nairobi, Bangkok"')
    await group.say("ana", '/wg vote open "Score?" method:score options:"x, y"')
    await group.say("ana", "/wg vote open P1")
    assert "already being voted on" in await refused(group, "ana", "/wg vote open P1")
    assert "ranked twice" in await refused(group, "ana", '/wg vote V1 "B > A > B"')
    assert "not an option" in await refused(group, "ana", "/wg vote V1 B > Q")
    assert "Scores go from 0 to 5" in await refused(group, "ana", "/wg vote V2 A=7")
    assert "needs a reason" in await refused(group, "chen", "/wg vote V3 block", platform="discord")
    assert "no vote V9" in await refused(group, "ana", "/wg vote V9 yes")
    # joined after the roll was frozen
    await group.say("dora", "/wg join academia")
    assert "not on the voter roll of V1" in await refused(group, "dora", "/wg vote V1 A")
    # an observer never votes, even one on the roll
    await group.say("ana", "/wg role ben observer")
    assert "Observers can read but not vote" in await refused(group, "ben", "/wg vote V1 A", platform="slack")
    assert "Only a convener can close votes" in await refused(group, "chen", "/wg vote close V1", platform="discord")


async def test_hidden_vote_shows_no_counts_before_close(group: Harness) -> None:
    await group.say("ana", '/wg vote open "Venue?" options:"Geneva, Nairobi" hidden')
    await group.say("ben", "/wg vote V1 B", platform="slack")
    shown = text(await group.say("chen", "/wg show V1", platform="discord"))
    assert "Participation: 1 of 3 voted" in shown and "hidden until the vote closes" in shown
    assert "B 1" not in shown
    assert "no counts until it closes" in text(await group.say("chen", "/wg results V1", platform="discord"))


async def test_a_button_ballot_updates_the_card_and_a_block_asks_for_a_reason(group: Harness) -> None:
    await group.say("ana", "/wg vote open P1")
    user, where = UserRef("slack", "ben", "ben"), Where("slack", "wg", "wg")
    r = await group.app.core.handle_text("vote V1 agree", user, where, from_action=True)
    assert r.update is not None and "Participation: 1 of 3 voted" in r.update.to_text()
    assert r.replies[0].private and "Receipt" in r.replies[0].to_text()
    r = await group.app.core.handle_text("vote V1 block", user, where, from_action=True)
    assert r.form is not None and r.form.action == "vote V1 block" and r.form.fields[0].name == "reason"
    r = await group.app.core.handle_text('vote V1 block reason:"Needs legal review"', user, where, from_action=True)
    assert "is changed: block" in r.replies[0].to_text()


async def test_forms_for_score_and_ranked_compose_the_ballot(group: Harness) -> None:
    await group.say("ana", '/wg vote open "Rank" method:ranked options:"x, y, z"')
    await group.say("ana", '/wg vote open "Score" method:score options:"x, y"')
    user, where = UserRef("console", "ana", "ana"), Where("console", "wg", "wg")
    r = await group.app.core.handle_text("vote V1", user, where, from_action=True)
    assert r.form is not None and [f.name for f in r.form.fields] == ["rank-1", "rank-2", "rank-3", "reason"]
    assert r.form.fields[0].choices is not None and r.form.fields[0].choices[1].value == "B"
    r = await group.app.core.handle_text('vote V1 rank-1:C rank-2:A reason:"closest"', user, where)
    assert "recorded: C > A" in r.replies[0].to_text()
    r = await group.app.core.handle_text("vote V1 rank-1:C rank-2:C", user, where)
    assert "ranked twice" in r.replies[0].to_text()
    r = await group.app.core.handle_text("vote V2 score-a:5 score-b:1", user, where)
    assert "recorded: A=5, B=1" in r.replies[0].to_text()


async def test_link_merges_two_members_ballots_latest_counts(group: Harness) -> None:
    await group.say("eve", "/wg join academia", platform="slack")
    await group.say("eve_d", "/wg join academia", platform="discord")
    await group.say("ana", '/wg vote open "Venue?" options:"Geneva, Nairobi"')
    await group.say("eve", "/wg vote V1 A", platform="slack")
    group.clock.advance(timedelta(minutes=1))
    await group.say("eve_d", "/wg vote V1 B", platform="discord")
    assert "Turnout: 2 of 5" in text(await group.say("ana", "/wg results V1"))
    code = await code_for(group, "eve", "slack")
    r = await group.say("eve_d", f"/wg link {code}", platform="discord")
    assert "Ballots merged on V1" in text(r)
    results = text(await group.say("ana", "/wg results V1"))
    assert "Turnout: 1 of 4" in results and "eve: B" in results
    # changed again on Slack: still one ballot
    await group.say("eve", "/wg vote V1 A", platform="slack")
    assert "Turnout: 1 of 4" in text(await group.say("ana", "/wg results V1"))
    async with group.app.db.session() as s:
        vote = (await s.exec(select(Vote))).one()
        assert await verify_vote(s, vote) is None


async def test_fifty_concurrent_ballots_from_one_member_leave_one(group: Harness) -> None:
    await group.say("ana", '/wg vote open "Venue?" options:"Geneva, Nairobi"')
    user, where = UserRef("slack", "ben", "ben"), Where("slack", "wg", "wg")
    choices = ["A" if i % 2 else "B" for i in range(50)]
    await asyncio.gather(*(group.app.core.handle_text(f"/wg vote V1 {c}", user, where) for c in choices))
    async with group.app.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Ballot))).one() == 1
        vote = (await s.exec(select(Vote))).one()
        assert await verify_vote(s, vote) is None
        entries = (await s.exec(select(func.count()).select_from(BallotLogEntry))).one()
    assert 2 <= entries <= 51
    assert "Turnout: 1 of 3" in text(await group.say("ana", "/wg results V1"))


async def test_a_ballot_cast_on_slack_and_changed_on_discord_by_a_linked_member_counts_once(group: Harness) -> None:
    code = await code_for(group, "ben", "slack")
    await group.say("ben_d", f"/wg link {code}", platform="discord")
    await group.say("ana", '/wg vote open "Venue?" options:"Geneva, Nairobi"')
    assert "recorded: A" in text(await group.say("ben", "/wg vote V1 A", platform="slack"))
    assert "changed: B" in text(await group.say("ben_d", "/wg vote V1 B", platform="discord"))
    results = text(await group.say("ana", "/wg results V1"))
    assert "Turnout: 1 of 3" in results and "ben: B" in results and "A 0 · B 1" in results


async def test_every_card_is_edited_in_place_after_ballots_and_once_more_at_close(group: Harness) -> None:
    from bot.reply import Actions

    await group.say("ana", '/wg vote open "Venue?" options:"Geneva, Nairobi"')
    originals = {m.destination.platform: m for m in group.sent() if m.kind == "announcement"}
    assert len(originals) == 3
    await group.say("ben", "/wg vote V1 A", platform="slack")
    await group.say("chen", "/wg vote V1 B", platform="discord")
    assert not any(r.edited for r in group.recorders.values()), "edits wait for the end of the window"
    await group.advance_to(group.clock.now() + timedelta(minutes=1))
    edits = [m for r in group.recorders.values() for m in r.edited]
    assert sorted(m.destination.platform for m in edits) == ["console", "discord", "slack"], "one per card"
    for m in edits:
        assert m.edit_ref == f"{m.destination.platform}-{originals[m.destination.platform].id}"
        assert "Participation: 2 of 3 voted" in m.reply.to_text() and "A 1 · B 1" in m.reply.to_text()
    await group.say("ana", "/wg vote close V1")
    closing = [m for r in group.recorders.values() for m in r.edited if "closed-card" in m.key]
    assert len(closing) == 3 and all("Outcome: A: Geneva wins" in m.reply.to_text() for m in closing)
    assert not any(isinstance(b, Actions) for m in closing for b in m.reply.blocks), "no buttons once closed"
