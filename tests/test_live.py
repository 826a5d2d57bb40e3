"""Live sessions through `wgbot simulate` scripts with speakers on the console, Slack and Discord:
the Q&A queue, a quick poll closing by itself, a pause round, the minutes; per-occurrence RSVPs."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot import live_themes, whitepaper
from storage.db import Database
from tests.conftest import Harness
from tests.test_meetings import at, run_script

PLATFORMS = ["console", "discord", "slack"]


async def test_live_session_across_three_platforms(db_url: str) -> None:
    events = await run_script("live_session.script", db_url)
    errors = [e.text for e in events if e.kind == "error"]
    # bad input: a live command without a session, a second start, a poll under 30 s, a second pause
    # round, upvoting one's own question or an answered one; each privately
    assert any("No live session is running" in t for t in errors)
    assert any("already running; end it first" in t for t in errors)
    assert any("A poll lasts at least 30 seconds" in t for t in errors)
    assert any("A pause round is already open" in t for t in errors)
    assert any("Q2 is your own question" in t for t in errors)
    assert any("Q1 is already answered" in t for t in errors)
    assert any("The question is too long (501 characters; the limit is 500)" in t for t in errors)
    assert any("Missing <question>" in t for t in errors)
    assert any("Observers can read but not ask questions" in t for t in errors)
    assert any("Observers can read but not upvote questions" in t for t in errors)
    assert any("A poll lasts at most a day" in t for t in errors)
    assert any("A poll needs options" in t for t in errors)
    assert any("Only a convener can run quick polls" in t for t in errors)
    assert not any("Can observers ask?" in e.text for e in events if e.kind != "error")
    assert all(e.to.startswith("user:") for e in events if e.kind == "error")
    assert [e.text for e in events if e.to == "user:obi" and "attending" in e.text] == [
        "You are marked as attending M1 “Taxonomy call” (from slack).",
        "You were already marked as attending M1 “Taxonomy call” from slack.",
    ]
    assert [e.text for e in events if "already upvoted Q1" in e.text] == [
        "You already upvoted Q1; an upvote counts once per person."
    ]

    # ranked by upvotes, ties broken by age: Q1 and Q3 have two upvotes each, Q1 is older
    [queue] = [e for e in events if e.text.startswith("Question queue") and e.kind == "reply"]
    assert queue.platform == "discord" and queue.to == "channel:wg"
    ranked = [line.split(" — ")[0] for line in queue.text.splitlines() if line[:1].isdigit()]
    assert ranked == ["1. Q1 ▲2", "2. Q3 ▲2", "3. Q2 ▲1"]
    assert "[▲ Q3] /wg upvote Q3" in queue.text
    assert "Not heard from yet: academia, civil-society" in queue.text

    # the queue is one message per bound channel: posted once at live start, then only edited in
    # place — at most once per 5-second window however many upvotes come in, the last state winning —
    # and a last time at live end, without buttons
    board = [e for e in events if e.kind == "announcement" and "Question queue — M1" in e.text]
    posted = [e for e in board if e.text.startswith("Question queue")]
    assert sorted(e.platform for e in posted) == PLATFORMS and {e.at for e in posted} == {at("2026-01-05T10:00")}
    edits = [e for e in board if e.text.startswith("(edits the earlier message)")]
    assert len(edits) + len(posted) == len(board)
    for platform in PLATFORMS:
        mine = [e for e in edits if e.platform == platform]
        # asks at 10:00, 10:01, 10:02 (with eight upvotes and an answer), and live end
        # (the window's job runs at its end: 5 s after the change)
        assert [e.at for e in mine] == [at(f"2026-01-05T{t}") for t in ("10:00:05", "10:01:05", "10:02:05", "10:07:00")]
        ranked_at_1002 = [line.split(" — ")[0] for line in mine[2].text.splitlines() if line[:1].isdigit()]
        assert ranked_at_1002 == ["1. Q3 ▲2", "2. Q2 ▲1"] and "Closed: Q1 answered" in mine[2].text
        assert "(session ended)" in mine[-1].text and "/wg upvote" not in mine[-1].text
        assert "Closed: Q1 answered, Q3 dismissed" in mine[-1].text

    # the anonymous asker (nora) is on no output line with her question, anywhere
    anon = "Who funds the pilot CERTs?"
    lines = [(e, line) for e in events for line in e.text.splitlines() if anon in line or "Q2" in line]
    assert lines and all("nora" not in line for _, line in lines)
    # nor anywhere next to it, except in her own data export; the meeting page names nora only in its
    # list of every member's local time
    shown = [e for e in events if anon in e.text and e.to != "user:nora"]
    assert shown and all("nora" not in e.text for e in shown if not e.text.startswith("M1: "))

    # the 2-minute poll closes at its minute, with results, on every platform
    closed = [e for e in events if e.text.startswith("V1 closed: Start with pilots?")]
    assert sorted(e.platform for e in closed) == PLATFORMS
    assert {e.at for e in closed} == {at("2026-01-05T10:04")}
    assert all("Outcome: A: yes wins" in e.text and "Totals: A 2 · B 1 · C 0" in e.text for e in closed)
    [card] = [e for e in events if e.platform == "slack" and e.text.startswith("Quick poll V1")]
    assert "[A: yes] /wg vote V1 A" in card.text and "A ░░░░░░░░░░ 0 (0%) yes" in card.text

    # five reactions (one replaced) → one grouped synthesis per channel when the round closes
    rounds = [e for e in events if e.text.startswith("Pause round closed")]
    assert sorted(e.platform for e in rounds) == PLATFORMS and {e.at for e in rounds} == {at("2026-01-05T10:07")}
    text = rounds[0].text
    assert "5 reaction(s) in 2 theme(s)" in text and "liability (3):" in text
    assert "• Liability for shared incident data" not in text  # replaced by kenji's second reaction
    assert "government 20%" in text and "technical-community 20%" in text

    # minutes at live end, on every platform, and on the meeting's page
    minutes = [e for e in events if e.text.startswith("Minutes: M1")]
    assert sorted(e.platform for e in minutes) == PLATFORMS
    m = minutes[0].text
    # attendance: who took part (asked, upvoted, voted, reacted) and the observer who said "here"
    assert "Attendance: 6 people" in m and "By platform: console 1, discord 2, slack 3" in m
    assert "By stakeholder group: academia 1, civil-society 1, government 2, private-sector 1" in m
    assert "Q1 [answered] ▲2" in m and "Q2 [open] ▲1 — Who funds the pilot CERTs? (anonymous)" in m
    assert "V1 “Start with pilots?”: A: yes wins" in m and "A ███████░░░ 2 (67%) yes" in m
    assert "Decisions:\n• Poll V1: A: yes wins" in m
    assert "5 reaction(s) in 2 theme(s)" in m
    page, after_erasure = [e for e in events if e.text.startswith("M1: Taxonomy call") and e.platform == "console"]
    assert "Past session" in page.text and "Q3 [dismissed] ▲2" in page.text

    # times in the minutes are archived as UTC and shown in each reader's zone: the channels in the
    # group's (UTC), the meeting page in the reader's own (Kenji: Tokyo), a digest by DM in its
    # recipient's (Nora: New York); ana reads in Lisbon (UTC+0 in January)
    assert "Started: Mon 5 Jan 2026 10:00 UTC" in m and "Ended: Mon 5 Jan 2026 10:07 UTC" in m
    [kenji_page] = [e for e in events if e.text.startswith("M1: Taxonomy call") and e.platform == "discord"]
    assert (
        "Started: Mon 5 Jan 2026 19:00 JST" in kenji_page.text and "Ended: Mon 5 Jan 2026 19:07 JST" in kenji_page.text
    )
    assert "Started: Mon 5 Jan 2026 10:00 WET" in page.text
    assert "⟦" not in "".join(e.text for e in events), "no archived time stamp reaches anyone unrendered"
    [nora_digest] = [e for e in events if e.kind == "digest" and e.to == "dm:nora"]
    assert "Started: Mon 5 Jan 2026 05:00 EST" in nora_digest.text

    # the next weekly digest carries the minutes, on every platform
    digests = [e for e in events if e.kind == "digest" and e.to == "channel:wg"]
    assert sorted(e.platform for e in digests) == PLATFORMS and {e.at for e in digests} == {at("2026-01-12T09:00")}
    assert all("Live sessions (minutes)" in e.text and "Q1 [answered] ▲2" in e.text for e in digests)

    # data rights: the anonymous asker's export has her question; an erased member leaves the minutes
    [export] = [e for e in events if e.to == "user:nora" and "wgbot-my-data" in e.text]
    assert '"anonymous": true' in export.text and '"upvoted": [' in export.text
    assert "(kenji, discord)" in page.text and "kenji" not in after_erasure.text
    assert "(a former member, discord)" in after_erasure.text

    # and the white paper has a section per live session
    db = Database(db_url)
    try:
        async with db.session() as s:
            paper = await whitepaper.build(s, await whitepaper.find_group(s, "wg"))
    finally:
        await db.dispose()
    i = next(k for k, b in enumerate(paper.blocks) if b.text == "Live sessions")
    assert paper.blocks[i + 1].text == "Times are in the group's time zone, UTC."
    assert paper.blocks[i + 2].text.startswith("M1 Taxonomy call")
    assert any(item.startswith("Q2 [open] ▲1") and "anonymous" in item for item in paper.blocks[i + 3].items)
    assert "Started: Mon 5 Jan 2026 10:00 UTC" in paper.blocks[i + 3].items


async def test_a_no_to_one_occurrence_skips_only_that_reminder(db_url: str) -> None:
    events = await run_script("rsvp_occurrence.script", db_url)
    dms = sorted((e.at, e.to) for e in events if e.kind == "reminder" and e.to.startswith("dm:"))
    assert dms == [
        (at("2026-01-08T13:00"), "dm:ana"),
        (at("2026-01-08T13:00"), "dm:kenji"),
        (at("2026-01-15T13:00"), "dm:ana"),
        (at("2026-01-22T13:00"), "dm:ana"),
        (at("2026-01-22T13:00"), "dm:kenji"),
        (at("2026-01-22T13:00"), "dm:nora"),
    ]
    # a reminder's buttons answer for its own occurrence
    first = next(e for e in events if e.kind == "reminder" and e.to == "dm:kenji")
    assert "[No] /wg rsvp M1 no date:2026-01-08" in first.text
    errors = [e.text for e in events if e.kind == "error"]
    assert "M1 has no occurrence on 2026-01-16. The next one is on 2026-01-08." in errors
    assert any("Write the date as YYYY-MM-DD" in t for t in errors)


def test_themes_ignore_the_prompt_and_fold_singletons() -> None:
    themes = live_themes.group(
        [
            ("Funding for small CERTs", "a"),
            ("Small CERTs lack staff", "b"),
            ("Trust between vendors", "c"),
            ("Nothing else", "d"),
        ],
        prompt="What about CERTs?",
    )
    assert [(t.name, len(t.items)) for t in themes] == [("small", 2), ("other", 2)]
    assert live_themes.synthesis([]) == "No reactions were given."


async def test_linking_two_members_counts_their_upvotes_once(harness: Harness) -> None:
    from tests.test_link import code_for

    h = harness
    await h.say("ana", "/wg join civil-society")
    await h.say("bo", "/wg join academia", platform="slack")
    await h.say("bo_d", "/wg join academia", platform="discord")
    await h.say("ana", '/wg meeting "Call" at:"2026-01-06 10:00 UTC"')
    await h.say("ana", "/wg live start M1")
    await h.say("ana", "/wg ask Who hosts the data?")
    await h.say("bo_d", "/wg ask Which fields?", platform="discord")
    assert "Upvoted Q1 (▲1)" in (await h.say("bo", "/wg upvote Q1", platform="slack")).replies[0].to_text()
    assert "Upvoted Q1 (▲2)" in (await h.say("bo_d", "/wg upvote Q1", platform="discord")).replies[0].to_text()
    await h.say("bo", "/wg upvote Q2", platform="slack")  # bo upvoted the question bo_d asked
    await h.say("ana", '/wg pause "Worries?"')
    await h.say("bo", "/wg react First thought", platform="slack")
    h.clock.advance(timedelta(seconds=5))
    await h.say("bo_d", "/wg react Second thought", platform="discord")
    code = await code_for(h, "bo", "slack")
    linked = await h.say("bo_d", f"/wg link {code}", platform="discord")
    assert "two memberships are now one member" in linked.replies[0].to_text()
    queue = (await h.say("ana", "/wg queue")).replies[0].to_text()
    assert "Q1 ▲1 — Who hosts the data?" in queue and "Q2 ▲0 — Which fields?" in queue
    # the queue messages in the channels follow the corrected counts
    await h.advance_to(h.clock.now() + timedelta(seconds=5))
    edited = h.recorders["slack"].edited[-1].reply.to_text()
    assert "Q1 ▲1 — Who hosts the data?" in edited and "Q2 ▲0 — Which fields?" in edited
    again = (await h.say("bo", "/wg upvote Q1", platform="slack")).replies[0].to_text()
    assert "already upvoted Q1" in again
    h.clock.advance(timedelta(minutes=5))
    await h.advance_to(h.clock.now())
    await h.say("ana", "/wg live end")
    # one reaction per person per round: the later one (from Discord) stays
    closed = next(m.reply.to_text() for m in h.sent("console") if m.reply.to_text().startswith("Pause round closed"))
    assert "1 reaction(s)" in closed and "• Second thought" in closed and "First thought" not in closed


async def test_questions_are_rate_limited_per_member(harness: Harness) -> None:
    h = harness
    await h.say("ana", "/wg join civil-society")
    await h.say("ana", '/wg meeting "Call" at:"2026-01-06 10:00 UTC"')
    await h.say("ana", "/wg live start M1")
    for n in (1, 2, 3):
        assert f"Q{n}" in (await h.say("ana", f"/wg ask Question {n}?")).replies[0].to_text()
    refusal = (await h.say("ana", "/wg ask One too many?")).replies[0]
    assert refusal.kind == "error" and "You asked 3 questions in the last minute" in refusal.to_text()
    h.clock.advance(timedelta(minutes=1))
    assert "Q4" in (await h.say("ana", "/wg ask Now again?")).replies[0].to_text()


async def test_attendance_counts_who_said_here_and_who_took_part(harness: Harness) -> None:
    """A quick poll's voter attends without asking or reacting; an observer attends by saying so (on
    Discord too); someone who only read does not; the minutes count people by group and platform."""
    h = harness
    await h.say("ana", "/wg join civil-society")
    await h.say("kai", "/wg join academia", platform="slack")
    await h.say("obi", "/wg join government", platform="discord")
    await h.say("rea", "/wg join private-sector", platform="slack")
    await h.say("ana", "/wg role obi observer")
    await h.say("ana", '/wg meeting "Call" at:"2026-01-06 10:00 UTC"')
    await h.say("ana", "/wg live start M1")
    [start] = [m for m in h.sent("discord") if m.reply.to_text().startswith("Live now")]
    assert "[I'm here] /wg live here" in start.reply.to_text()
    await h.say("ana", '/wg poll "Pilot first?" options:"yes, no"')
    voted = await h.say("kai", "/wg vote V1 A", platform="slack")
    assert "recorded" in voted.replies[0].to_text().lower()
    here = await h.say("obi", "/wg live here", platform="discord")
    assert here.replies[0].to_text() == "You are marked as attending M1 “Call” (from discord)."
    await h.say("rea", "/wg queue", platform="slack")  # reading is not attending
    h.clear()
    await h.say("ana", "/wg live end")
    [minutes] = [m.reply.to_text() for m in h.sent("console") if m.reply.to_text().startswith("Minutes: M1")]
    assert "Attendance: 3 people" in minutes
    assert "By stakeholder group: academia 1, civil-society 1, government 1" in minutes
    assert "By platform: console 1, discord 1, slack 1" in minutes
    assert "by platform: none" in minutes  # no question or reaction was given
    # after the session: no live session to attend
    late = await h.say("obi", "/wg live here", platform="discord")
    assert "No live session is running" in late.replies[0].to_text()


async def test_a_change_after_its_windows_edit_ran_is_carried_by_the_next_window(harness: Harness) -> None:
    """The queue edit of a window shows the queue as its job reads it. A change whose window's job has
    already started (or finished) — a slow command racing the job — schedules the next window's job,
    so the last state always reaches every channel."""
    from sqlalchemy import update

    from storage.models import ScheduledJob

    h = harness
    await h.say("ana", "/wg join civil-society")
    await h.say("bo", "/wg join academia", platform="slack")
    await h.say("ana", '/wg meeting "Call" at:"2026-01-06 10:00 UTC"')
    await h.say("ana", "/wg live start M1")
    await h.say("ana", "/wg ask Who hosts the data?")
    # the window's job has run meanwhile (another process took it the moment it fell due)
    async with h.app.db.transaction() as s:
        done = await s.exec(update(ScheduledJob).where(ScheduledJob.kind == "live.queue.refresh").values(status="done"))
        assert done.rowcount == 1
    await h.say("bo", "/wg upvote Q1", platform="slack")
    await h.advance_to(h.clock.now() + timedelta(seconds=10))
    edits = [m.reply.to_text() for m in h.recorders["slack"].edited]
    assert edits and "1. Q1 ▲1" in edits[-1], edits
    async with h.app.db.session() as s:
        jobs = (await s.exec(select(ScheduledJob.key).where(ScheduledJob.kind == "live.queue.refresh"))).all()
    assert len(jobs) == 2, "the upvote went to the next window"


async def test_help_live_lists_every_live_session_command(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    [reply] = (await harness.say("ana", "/wg help live")).replies
    text = reply.to_text()
    assert reply.kind != "error" and reply.private
    for usage in ("/wg live start M<n>", "/wg live here", "/wg live end", "/wg ask <question> [anonymous]"):
        assert usage in text
    for usage in ("/wg upvote Q<n>", "/wg queue", "/wg answered Q<n>", "/wg dismiss Q<n>", "/wg react <text>"):
        assert usage in text
    assert "/wg poll" in text and "/wg pause" in text


async def test_the_console_reprints_an_edited_queue_marked_as_updated() -> None:
    """A terminal cannot change what it printed: the console's sender returns an id for each message so
    that edits find it, and prints an edit (the queue after an upvote) again, marked as updated."""
    import io
    from dataclasses import replace
    from datetime import UTC, datetime

    from rich.console import Console

    from adapters.console import repl
    from bot.outbox import Destination, Outgoing
    from bot.reply import Reply

    out = io.StringIO()
    terminal = repl.TerminalSender(Console(file=out, width=100, force_terminal=False))
    posted = Outgoing(
        id=7,
        key="live:1:queue:ch1",
        destination=Destination("console", "channel:wg", "channel:wg"),
        kind="announcement",
        reply=Reply.text("Question queue — M1\nNo open questions."),
        attempts=0,
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    ref = await terminal.send(posted)
    assert ref == "console-7"
    edit = replace(posted, id=8, key="job:live:1:queue-edit:1:ch1", reply=Reply.text("Question queue — M1\n1. Q1 ▲1"))
    assert await terminal.edit(replace(edit, edit_ref=ref)) == ref
    shown = out.getvalue()
    assert shown.count("Question queue — M1") == 2 and "1. Q1 ▲1" in shown and "channel:wg · updated" in shown


async def test_a_channel_bound_during_the_session_gets_the_queue_posted_then_edited(harness: Harness) -> None:
    h = harness
    await h.say("ana", "/wg join civil-society")
    await h.say("ana", '/wg meeting "Call" at:"2026-01-06 10:00 UTC"')
    await h.say("ana", "/wg live start M1")
    bound = await h.say("ana", "/wg bind", channel="side")
    assert "bound" in bound.replies[0].to_text()
    h.clear()
    await h.say("ana", "/wg ask Who hosts the data?")
    await h.advance_to(h.clock.now() + timedelta(seconds=5))
    side = [m for m in h.sent("console") if m.destination.label == "channel:side"]
    assert [m.reply.to_text().splitlines()[1] for m in side] == ["1. Q1 ▲0 — Who hosts the data? (ana, console)"]
    assert side[0].edit_ref is None, "posted: there was no queue message there to edit"
    assert any(m.destination.label == "channel:wg" for m in h.recorders["console"].edited)
    await h.say("ana", "/wg ask Which fields?")
    await h.advance_to(h.clock.now() + timedelta(seconds=5))
    [edit] = [m for m in h.recorders["console"].edited if m.destination.label == "channel:side"]
    assert "2. Q2 ▲0 — Which fields?" in edit.reply.to_text()


async def _call_with_bob_alone_on_discord(h: Harness) -> None:
    """Ana (civil society, console) convenes a live call M1 with Kai (academia, Slack) and Bob, the
    group's only government member and its only one on Discord."""
    await h.say("ana", "/wg join civil-society")
    await h.say("kai", "/wg join academia", platform="slack")
    await h.say("bob", "/wg join government", platform="discord")
    await h.say("ana", '/wg meeting "Call" at:"2026-01-06 10:00 UTC"')
    await h.say("ana", "/wg live start M1")


async def test_an_anonymous_asker_alone_in_their_group_and_on_their_platform_is_not_traceable(
    harness: Harness,
) -> None:
    """Bob is the only government member and the only one on Discord: a group or platform next to his
    anonymous question, or counted in a balance or attendance line, would name him. No output says
    either: the queue (asked for, and its message edited in place), the minutes (posted, on the
    meeting's page, in the digest, in the white paper) and the action item his question becomes.
    Questions asked openly still count by group and platform."""
    from storage.models import ActionItem, LiveAttendance, LiveQuestion

    h = harness
    await _call_with_bob_alone_on_discord(h)
    await h.say("kai", "/wg ask Which fields are shared?", platform="slack")
    asked = await h.say("bob", "/wg ask I'll fund it, but who hosts the data? anonymous", platform="discord")
    assert "Your name is not shown anywhere" in asked.replies[0].to_text()
    await h.say("ana", "/wg upvote Q2")
    anon = "who hosts the data?"

    def leaks(text: str) -> list[str]:
        """Lines that tie the anonymous question to bob: it (or an anonymous count) with his name,
        group or platform, or a count of his group or platform (bob spoke only anonymously)."""
        out = []
        for line in text.splitlines():
            told = line.split("not heard from", 1)[0].split("Not heard from", 1)[0]
            if anon in line and any(w in line for w in ("bob", "government", "discord")):
                out.append(line)
            elif "government" in told or "discord" in told:
                out.append(line)
        return out

    queue = (await h.say("ana", "/wg queue")).replies[0].to_text()
    assert f"1. Q2 ▲1 — I'll fund it, but {anon} (anonymous)" in queue
    assert "2. Q1 ▲0 — Which fields are shared? (kai, slack)" in queue
    assert "By stakeholder group: academia 1" in queue and "By platform: slack 1" in queue
    assert "1 anonymous (counted by neither group nor platform)" in queue
    assert "Not heard from yet: civil-society, government" in queue
    assert leaks(queue) == []
    await h.advance_to(h.clock.now() + timedelta(seconds=5))
    edits = [m.reply.to_text() for p in PLATFORMS for m in h.recorders[p].edited]
    assert len(edits) == 3 and all(anon in e and leaks(e) == [] for e in edits), edits

    await h.say("ana", "/wg live end")
    minutes = [m.reply.to_text() for m in h.sent() if m.reply.to_text().startswith("Minutes: M1")]
    assert len(minutes) == 3
    m = minutes[0]
    # asking anonymously is no attendance: ana started the session and kai asked openly
    assert "Attendance: 2 people" in m
    assert "By stakeholder group: academia 1, civil-society 1" in m and "By platform: console 1, slack 1" in m
    assert f"Q2 [open] ▲1 — I'll fund it, but {anon} (anonymous)" in m
    assert "Q1 [open] ▲0 — Which fields are shared? (kai, slack)" in m
    assert "Questions and reactions by stakeholder group: academia 1 · by platform: slack 1" in m
    assert "anonymous questions: 1 (counted by neither)" in m
    assert all(leaks(t) == [] for t in minutes)

    page = (await h.say("ana", "/wg show M1")).replies[0].to_text()
    past = page.split("Past session", 1)[1]  # the page above lists every member's local time
    assert anon in past and leaks(past) == []
    digest = (await h.say("ana", "/wg digest preview")).replies[0].to_text()
    live_part = digest.split("Live sessions (minutes)", 1)[1]
    assert anon in live_part and "Open action items" in digest
    assert leaks(live_part) == []

    async with h.app.db.session() as s:
        paper = await whitepaper.build(s, await whitepaper.find_group(s, "wg"))
        [item] = (await s.exec(select(ActionItem).where(ActionItem.source == "meeting"))).all()
        [q2] = (await s.exec(select(LiveQuestion).where(LiveQuestion.number == 2))).all()
        present = (await s.exec(select(LiveAttendance.platform, LiveAttendance.stakeholder_group))).all()
    lines = [b.text for b in paper.blocks] + [i for b in paper.blocks for i in (b.items or [])]
    assert any(anon in line for line in lines) and leaks("\n".join(lines)) == []
    # the action item his "I'll" makes has no owner and no platform; the question keeps neither
    assert item.owners == [] and item.platform is None and anon in item.text
    assert (q2.platform, q2.stakeholder_group) == ("", "")
    assert sorted(present) == [("console", "civil-society"), ("slack", "academia")]
    todo = [line for line in digest.splitlines() if anon in line and line.lstrip().startswith("A")]
    assert todo and all(" — " not in line.split(anon, 1)[1] for line in todo), todo


async def test_a_refused_upvote_records_no_attendance(harness: Harness) -> None:
    """Bo, linked on Slack and Discord, upvoted on Slack; his second try, on Discord, is refused and
    leaves nothing behind: the minutes count him once, from Slack."""
    from tests.test_link import code_for

    h = harness
    await h.say("ana", "/wg join civil-society")
    await h.say("bo", "/wg join academia", platform="slack")
    await h.say("bo_d", "/wg join academia", platform="discord")
    code = await code_for(h, "bo", "slack")
    assert "now one member" in (await h.say("bo_d", f"/wg link {code}", platform="discord")).replies[0].to_text()
    await h.say("ana", '/wg meeting "Call" at:"2026-01-06 10:00 UTC"')
    await h.say("ana", "/wg live start M1")
    await h.say("ana", "/wg ask Who hosts the data?")
    assert "Upvoted Q1" in (await h.say("bo", "/wg upvote Q1", platform="slack")).replies[0].to_text()
    again = (await h.say("bo_d", "/wg upvote Q1", platform="discord")).replies[0].to_text()
    assert "already upvoted Q1" in again
    h.clear()
    await h.say("ana", "/wg live end")
    [minutes] = [m.reply.to_text() for m in h.sent("console") if m.reply.to_text().startswith("Minutes: M1")]
    assert "Attendance: 2 people" in minutes and "By platform: console 1, slack 1" in minutes


async def test_the_migration_unties_anonymous_questions_stored_and_archived_before(harness: Harness) -> None:
    """Revision 0015 on what the earlier code stored: the anonymous question's platform and group, the
    "(anonymous, <platform>)" tag and the balance count in archived minutes and digests."""
    import importlib.util
    from pathlib import Path

    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import update

    from storage.models import ActionItem, Digest, LiveQuestion, LiveSession

    path = Path("storage/migrations/versions/0015_anonymous_questions.py")
    spec = importlib.util.spec_from_file_location("m0015", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    h = harness
    await _call_with_bob_alone_on_discord(h)
    await h.say("kai", "/wg ask Which fields?", platform="slack")
    await h.say("bob", "/wg ask I'll fund it, who hosts? anonymous", platform="discord")
    await h.say("ana", "/wg live end")
    old = (
        "Minutes: M1 “Call” (live session)\nAttendance: 3 people\n"
        "Questions (2 asked, 0 answered):\nQ2 [open] ▲0 — I'll fund it, who hosts? (anonymous, discord)\n"
        "Q1 [open] ▲0 — Which fields? (kai, slack)\n"
        "Questions and reactions by stakeholder group: academia 1, government 1 · by platform: discord 1, slack 1"
        " · ⚠ not heard from: civil-society"
    )
    async with h.app.db.transaction() as s:  # as the earlier code stored it
        await s.exec(
            update(LiveQuestion)
            .where(col(LiveQuestion.anonymous))
            .values(platform="discord", stakeholder_group="government")
        )
        await s.exec(update(LiveSession).values(minutes=old))
        await s.exec(update(ActionItem).values(platform="discord"))
        wg = await whitepaper.find_group(s, "wg")
        s.add(
            Digest(
                wg_id=wg.id,  # type: ignore[arg-type]
                week="2026-W02",
                period_start=h.clock.now() - timedelta(days=1),
                period_end=h.clock.now() + timedelta(days=1),
                text=old,
                payload={"blocks": [{"text": old}]},
                created_at=h.clock.now(),
            )
        )

    def run(sync_conn):  # type: ignore[no-untyped-def]
        with Operations.context(MigrationContext.configure(sync_conn)):
            migration.upgrade()

    async with h.app.db.engine.begin() as conn:
        await conn.run_sync(run)
    async with h.app.db.session() as s:
        [minutes] = (await s.exec(select(LiveSession.minutes))).all()
        [digest] = (await s.exec(select(Digest))).all()
        [q2] = (await s.exec(select(LiveQuestion).where(col(LiveQuestion.anonymous)))).all()
        [item] = (await s.exec(select(ActionItem))).all()
    assert minutes is not None
    assert "Q2 [open] ▲0 — I'll fund it, who hosts? (anonymous)\n" in minutes
    assert "Q1 [open] ▲0 — Which fields? (kai, slack)" in minutes
    assert minutes.endswith(
        "Questions and reactions by stakeholder group: academia 1 · by platform: slack 1"
        " · anonymous questions: 1 (counted by neither) · ⚠ not heard from: civil-society, government"
    )
    assert digest.text == minutes and "discord" not in digest.text
    assert "discord" not in str(digest.payload)
    assert (q2.platform, q2.stakeholder_group) == ("", "") and item.platform is None
    page = (await h.say("ana", "/wg show M1")).replies[0].to_text()
    assert "who hosts? (anonymous)" in page and "by platform: slack 1 · anonymous questions: 1" in page
