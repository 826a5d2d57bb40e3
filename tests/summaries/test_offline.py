"""The offline summarizer and the privacy filter, through `/wg summarize` on the console (no model)."""

from __future__ import annotations

from sqlmodel import select

from bot.offline_summary import summarize_offline
from bot.spotlight import OutputFilter
from bot.summary_schema import Point, SummaryDoc
from bot.threads import ChatLine
from bot.transcript import OPTED_OUT, Speaker, build_transcript, redact
from storage.models import ThreadSummary
from tests.conftest import START, Harness
from tests.summaries.fixture_thread import ACTIONS, ANSWERED, DECISIONS, FIXTURE, QUESTIONS

GROUPS = {"alice": "civil-society", "bob": "government", "carol": "academia", "dan": "private-sector"}


async def _group_with_thread(harness: Harness, thread: str = "t1") -> None:
    from adapters.console.chatlog import ChatLog
    from bot.command import UserRef, Where

    for name, group in GROUPS.items():
        await harness.say(name, f"/wg join {group}")
    chat = ChatLog(harness.clock)
    harness.app.extras["thread_sources"]["console"] = chat.source("console")  # type: ignore[index]
    harness.app.extras["chat"] = chat
    for name, text in FIXTURE:
        await chat.record(UserRef("console", name, name), Where("console", "wg", "wg", thread_id=thread), text)


async def test_the_offline_summary_finds_the_decisions_actions_and_questions(harness: Harness) -> None:
    await _group_with_thread(harness)
    response = await harness.say("alice", "/wg summarize", thread="t1")
    [reply] = response.replies
    assert reply.kind == "summary" and not reply.private
    text = reply.to_text()
    decisions = text.split("Decisions", 1)[1].split("Action items", 1)[0]
    actions = text.split("Action items", 1)[1].split("Open questions", 1)[0]
    questions = text.split("Open questions", 1)[1].split("Positions", 1)[0]
    for d in DECISIONS:
        assert d in decisions
    for what, owner, due in ACTIONS:
        row = next(line for line in actions.splitlines() if what in line)
        assert f"— {owner}" in row
        if due:
            assert f"due {due}" in row
    for q in QUESTIONS:
        assert q in questions
    assert ANSWERED not in questions  # alice answered it
    assert "offline summarizer" in text and "AI-generated" not in text
    positions = text.split("Positions", 1)[1]
    for group in GROUPS.values():
        assert f"• {group}:" in positions


async def test_asking_again_for_an_unchanged_thread_reuses_the_stored_summary(harness: Harness) -> None:
    await _group_with_thread(harness)
    first = (await harness.say("alice", "/wg summarize", thread="t1")).replies[0].to_text()
    again = (await harness.say("bob", "/wg summarize", thread="t1")).replies[0].to_text()
    assert "Unchanged since the last summary" in again
    assert first.split("---")[0] == again.split("---")[0]
    async with harness.app.db.session() as s:
        rows = (await s.exec(select(ThreadSummary))).all()
    assert len(rows) == 1 and rows[0].engine == "offline" and rows[0].prompt_version == "offline-1"
    assert all(len(pair) == 2 for pair in rows[0].fingerprint) and len(rows[0].fingerprint) == len(FIXTURE)
    # no thread text is stored: only hashes and the (pseudonymous) summary
    assert "Welcome everyone" not in str(rows[0].fingerprint)


async def test_an_opted_out_member_is_left_out_and_can_opt_in_again(harness: Harness) -> None:
    await _group_with_thread(harness)
    out = await harness.say("carol", "/wg privacy opt-out")
    assert out.replies[0].private and "opted out" in out.replies[0].to_text()
    text = (await harness.say("alice", "/wg summarize", thread="t1")).replies[0].to_text()
    assert "mapping table" not in text and "model theft as well" not in text
    assert "2 messages left out: their authors opted out" in text
    assert "carol" not in text.lower()
    back = await harness.say("carol", "/wg privacy opt-in")
    assert "included in summaries again" in back.replies[0].to_text()
    text = (await harness.say("alice", "/wg summarize", thread="t1")).replies[0].to_text()
    assert "mapping table" in text and "Unchanged" not in text  # the opt-in changed what is summarized


async def test_summarize_outside_a_thread_and_bad_options_are_clear_private_errors(harness: Harness) -> None:
    await _group_with_thread(harness)
    [err] = (await harness.say("alice", "/wg summarize")).replies
    assert err.kind == "error" and err.private and "inside the thread" in err.to_text()
    [err] = (await harness.say("alice", "/wg summarize lang:english!", thread="t1")).replies
    assert err.kind == "error" and "not a language code" in err.to_text()
    [err] = (await harness.say("alice", "/wg summarize nowhere")).replies
    assert err.kind == "error" and "no messages" in err.to_text()
    [err] = (await harness.say("zed", "/wg summarize", thread="t1")).replies
    assert err.kind == "error" and "not joined" in err.to_text()
    [fr] = (await harness.say("alice", "/wg summarize lang:fr", thread="t1")).replies
    assert fr.to_text().startswith("Résumé du fil")


def test_the_transcript_redacts_and_pseudonymises() -> None:
    def line(i: int, who: str, text: str, platform: str = "slack") -> ChatLine:
        return ChatLine(platform, str(i), f"U{who.upper()}1", who, text, START, f"https://x.slack.com/p{i}")

    speakers = {
        ("slack", "UALICE1"): Speaker("Alice Martin", "civil-society", aliases=("alice", "UALICE1")),
        ("slack", "UBOB1"): Speaker("Bob", "government", opted_out=True, aliases=("bobby", "UBOB1")),
        ("slack", "UCAROL1"): Speaker("Carol", "academia", aliases=("carol", "UCAROL1")),
    }
    t = build_transcript(
        [
            line(1, "alice", "Mail me at alice.martin@example.org or call +1 (555) 123-4567 before 2026-12-01."),
            line(2, "bob", "My secret opinion, bob@example.org"),
            line(3, "carol", "<@UALICE1> agreed with @bobby and Alice Martin; see https://example.org/doc"),
            line(4, "eve", "I am not a member, ping carol"),
        ],
        speakers,
    )
    rendered = "\n".join(x.render() for x in t.lines)
    for secret in ("alice.martin@example.org", "555", "secret opinion", "UALICE1", "bobby", "Alice Martin", "carol"):
        assert secret not in rendered
    assert "2026-12-01" in rendered and "https://example.org/doc" in rendered
    assert t.lines[0].render().startswith("[m1] Person-1 (civil-society): ")
    assert t.lines[1].text == OPTED_OUT and "Person" not in t.lines[1].render()
    assert "[m3] Person-2 (academia): Person-1 agreed with someone and Person-1" in rendered
    assert t.lines[3].render() == "[m4] Person-3 (non-member): I am not a member, ping Person-2"
    assert t.unname("Person-1 and Person-2 asked Person-9") == "Alice Martin and Carol asked someone"
    assert t.links["m3"] == "https://x.slack.com/p3"
    assert redact("call 06 12 34 56 78 at 10:30 on 12/01/2026") == "call [phone redacted] at 10:30 on 12/01/2026"


def test_a_name_that_is_an_everyday_word_is_replaced_only_where_written_as_a_name() -> None:
    speakers = {
        ("slack", "UWILL1"): Speaker("Will", "academia", aliases=("will", "UWILL1")),
        ("slack", "UANA1"): Speaker("Ana", "civil-society", aliases=("ana", "UANA1")),
    }
    lines = [
        ChatLine("slack", "1", "UWILL1", "will", "We will publish in May.", START, None),
        ChatLine("slack", "2", "UANA1", "ana", "Will, you will draft it? thanks @will and ana", START, None),
    ]
    t = build_transcript(lines, speakers)
    assert t.lines[0].text == "We will publish in May."
    assert t.lines[1].text == "Person-1, you will draft it? thanks Person-1 and Person-2"


def test_the_output_filter_drops_foreign_links_unsourced_claims_and_mentions() -> None:
    t = build_transcript(
        [ChatLine("console", "1", "a", "a", "Read https://example.org/spec please", START)],
        {("console", "a"): Speaker("Ann", "academia")},
    )
    f = OutputFilter(t, "\n".join(x.text for x in t.lines))
    doc = f.apply(
        SummaryDoc(
            tldr="See http://attacker.example/?q=secret and attacker.example/x and https://example.org/spec "
            "<@U1> @everyone",
            key_points=[Point(text="Person-1 shared [the spec](http://evil.example)", sources=["m1", "m99"])],
            decisions=[Point(text="The group decided to disband", sources=[])],
            open_questions=[Point(text="x" * 1000, sources=["m1"])],
        )
    )
    assert "attacker.example" not in doc.tldr and "https://example.org/spec" not in doc.tldr  # sentence dropped
    assert "<@U1>" not in doc.tldr and "@everyone" not in doc.tldr
    assert doc.key_points[0].text == "Person-1 shared the spec" and doc.key_points[0].sources == ["m1"]
    kept = f.apply(SummaryDoc(tldr="Ann shared https://example.org/spec. Then http://x.example/a said more."))
    assert kept.tldr == "Ann shared https://example.org/spec."
    assert doc.decisions == []
    assert len(doc.open_questions[0].text) <= 300


def test_offline_on_an_empty_transcript_says_so() -> None:
    assert "no messages" in summarize_offline(build_transcript([], {})).tldr


async def test_cached_summaries_go_in_the_daily_retention_purge(harness: Harness) -> None:
    from datetime import timedelta

    from bot import purge

    await _group_with_thread(harness)
    await harness.say("alice", "/wg summarize", thread="t1")
    await purge.ensure_planned(harness.app.db, harness.clock.now(), 30)
    await harness.advance_to(harness.clock.now() + timedelta(days=29))
    async with harness.app.db.session() as s:
        assert len((await s.exec(select(ThreadSummary))).all()) == 1
    await harness.advance_to(harness.clock.now() + timedelta(days=2))
    async with harness.app.db.session() as s:
        assert (await s.exec(select(ThreadSummary))).all() == []


async def test_the_group_language_is_the_default_summary_language(harness: Harness) -> None:
    await _group_with_thread(harness)
    [err] = (await harness.say("bob", "/wg settings lang:fr")).replies
    assert err.kind == "error" and "Only a convener" in err.to_text()
    [ok] = (await harness.say("alice", "/wg settings lang:fr")).replies
    assert "summary language fr" in ok.to_text()
    [summary] = (await harness.say("bob", "/wg summarize", thread="t1")).replies
    assert summary.to_text().startswith("Résumé du fil")
    [en] = (await harness.say("bob", "/wg summarize lang:en", thread="t1")).replies
    assert en.to_text().startswith("Thread summary")


async def test_the_weekly_digest_reports_what_summarized_threads_concluded(harness: Harness) -> None:
    from datetime import timedelta

    await _group_with_thread(harness)
    [before] = (await harness.say("alice", "/wg digest preview")).replies
    assert "Thread summaries" not in before.to_text()
    await harness.say("bob", "/wg summarize", thread="t1")
    await harness.advance_to(harness.clock.now() + timedelta(minutes=5))
    [preview] = (await harness.say("alice", "/wg digest preview")).replies
    text = preview.to_text()
    section = text.split("Thread summaries", 1)[1]
    assert "A console thread (offline summarizer)" in section
    assert "Decision: We agreed to use MITRE ATLAS as the primary taxonomy" in section
    assert "Person-" not in text  # the cache is pseudonymous; the digest names nobody
