"""The white paper's key points and dissent from thread summaries: under the theme a summary cites
(by proposal or by the theme's name), the rest under "Other discussions", pseudonyms never shown, and
the model named in the methods note."""

from __future__ import annotations

from bot import whitepaper
from bot.summary_schema import Point, Position, SummaryDoc
from bot.whitepaper_render import to_markdown
from storage.models import ThreadSummary
from tests.conftest import START, Harness


async def _store(h: Harness, thread: str, doc: SummaryDoc, *, engine: str = "llm") -> None:
    async with h.app.db.transaction() as s:
        s.add(
            ThreadSummary(
                wg_id=1,
                platform="slack",
                channel_id="C1",
                thread_id=thread,
                fingerprint=[],
                doc=doc.model_dump(),
                engine=engine,
                model="gpt-test" if engine == "llm" else None,
                prompt_version="t",
                created_at=START,
            )
        )


async def test_key_points_and_positions_go_under_their_theme_or_other_discussions(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    await harness.say("ana", '/wg propose "Red-team exchange" Share red-team findings. theme:"cybersecurity of AI"')
    await _store(
        harness,
        "t1",
        SummaryDoc(
            tldr="The group discussed P1.",
            key_points=[Point(text="Person-1 wants findings shared within 30 days of P1.")],
            positions=[
                Position(group="government", position="Prefers a closed exchange."),
                Position(group="civil-society", position="Wants public summaries."),
            ],
        ),
    )
    await _store(
        harness,
        "t2",
        SummaryDoc(tldr="Venue logistics.", key_points=[Point(text="Geneva is cheaper.")]),
        engine="offline",
    )
    async with harness.app.db.session() as s:
        paper = to_markdown(await whitepaper.build(s, await whitepaper.find_group(s, None)))
    theme = paper.index("## Theme: cybersecurity of AI")
    other = paper.index("## Other discussions")
    first = paper.index("A participant wants findings shared within 30 days of P1.")
    assert theme < first < other
    assert "government: Prefers a closed exchange." in paper[theme:other]
    assert "civil-society: Wants public summaries." in paper[theme:other]
    assert "Geneva is cheaper." in paper[other:]
    assert "Person-1" not in paper
    assert "key points and positions from discussion threads (by gpt-test)" in paper


async def test_markdown_paper_shows_html_in_user_text_as_text(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    await harness.say("ana", '/wg propose "<script>alert(1)</script>" <b>bold</b> & more')
    async with harness.app.db.session() as s:
        paper = to_markdown(await whitepaper.build(s, await whitepaper.find_group(s, None)))
    assert "<script>" not in paper and "<b>" not in paper
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in paper and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in paper
