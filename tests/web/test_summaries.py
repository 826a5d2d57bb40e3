"""Thread summaries on the web record: only while the convener has them on; speakers never named, user
text escaped, an opted-out member's messages never shown."""

from __future__ import annotations

from adapters.console.chatlog import ChatLog
from bot.command import UserRef, Where
from tests.web.conftest import Site

THREAD = [
    ("ana", "Welcome. Today we settle the glossary scope."),
    ("kenji", "We agreed: the glossary covers <script>alert(1)</script> incidents only."),
    ("kenji", "My institute's mapping table should be the baseline, kenji-specific detail."),
    ("ana", "Decision: we will publish the glossary draft next week."),
    ("ana", "Action: ana to circulate the draft by Friday."),
    ("kenji", "Open question: who reviews the taxonomy?"),
]


async def _thread(site: Site) -> None:
    chat = ChatLog(site.harness.clock)
    site.harness.app.extras["thread_sources"]["console"] = chat.source("console")  # type: ignore[index]
    for name, text in THREAD:
        await chat.record(UserRef("console", name, name), Where("console", "wg", "wg", thread_id="t1"), text)
    r = await site.harness.say("ana", "/wg summarize", thread="t1")
    assert r.replies[0].kind == "summary", r.replies[0].to_text()


def _summaries_part(page: str) -> str:
    return page.split('id="main"', 1)[1]


async def test_summaries_only_when_on_escaped_and_unnamed(site: Site) -> None:
    h = site.harness
    await _thread(site)
    base = await site.record_path()
    status, page, _ = await site.get(base)
    assert status == 200 and "Thread summaries" not in page and "summaries" not in page.split("<nav", 1)[1][:600]
    status, body, _ = await site.get(base + "summaries")
    assert status == 404 and "glossary" not in body  # off: the same 404 as any missing page

    await h.say("ana", "/wg settings summaries:on")
    status, page, _ = await site.get(base)
    assert status == 200 and 'id="summaries"' in page and "Summaries of 1 chat thread" in page
    status, body, _ = await site.get(base + "summaries?tz=Asia/Tokyo")
    assert status == 200 and "glossary" in body and "offline summarizer" in body
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
    main = _summaries_part(body)
    assert "kenji" not in main.lower().replace("kenji-specific", "") and "Person-" not in main
    assert "#wg" in main and "JST" in main  # the bound channel's name; times in the reader's zone

    await h.say("ana", "/wg settings summaries:off")
    status, page, _ = await site.get(base)
    assert 'id="summaries"' not in page
    status, _, _ = await site.get(base + "summaries")
    assert status == 404


async def test_an_opted_out_members_words_leave_the_record(site: Site) -> None:
    h = site.harness
    await _thread(site)
    await h.say("ana", "/wg settings summaries:on")
    base = await site.record_path()
    status, body, _ = await site.get(base + "summaries")
    assert status == 200 and "mapping table" in body
    _, page, _ = await site.get(base)
    assert "Summaries of 1 chat thread" in page
    r = await h.say("kenji", "/wg privacy opt-out")
    assert "removed (1)" in r.replies[0].to_text()
    status, body, _ = await site.get(base + "summaries")
    assert status == 200 and "mapping table" not in body and "No thread has been summarized yet" in body
    _, page, _ = await site.get(base)  # the cached group page saw the bulk delete too
    assert "Summaries of 1 chat thread" not in page and "No thread has been summarized yet" in page
    await h.say("ana", "/wg summarize", thread="t1")  # rebuilt without kenji's messages
    status, body, _ = await site.get(base + "summaries")
    assert status == 200 and "glossary" in body and "mapping table" not in body and "taxonomy" not in body
