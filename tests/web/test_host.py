"""The digest archive on the web record; the chart's numbers;
`wgbot export chart`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from markupsafe import escape
from sqlmodel import select
from typer.testing import CliRunner

from adapters.cli import app as cli
from adapters.web import chart
from storage.models import Digest, Member, WorkingGroup
from tests.web.conftest import Site


async def test_digest_archive_appears_once_a_digest_exists(site: Site) -> None:
    path = await site.record_path()
    _, body, _ = await site.get(path)
    assert "Digest archive" not in body
    answer = await site.harness.say("ana", "/wg digest send")
    assert "Digest sent now" in answer.replies[0].to_text()
    async with site.harness.app.db.session() as s:
        week, text = (await s.exec(select(Digest.week, Digest.text))).one()
    _, body, _ = await site.get(path)
    assert "Digest archive" in body and f"{week}</a>" in body and "sent by a convener" in body
    status, page, _ = await site.get(path + f"digests/{week}")
    assert status == 200 and str(escape(text)) in page
    assert (await site.get(path + "digests/2025-W02"))[0] == 404


async def test_white_paper_page_once_there_are_proposals(site: Site) -> None:
    path = await site.record_path()
    status, body, headers = await site.get(path + "whitepaper")
    assert status == 200 and "Shared glossary" in body and "<h1>" in body
    assert "script-src" in headers["Content-Security-Policy"]
    _, page, _ = await site.get(path)
    assert f'href="{path}whitepaper"' in page


async def test_participation_counts_by_group_and_region_and_leaves_out_the_erased(site: Site) -> None:
    h = site.harness
    await h.say("ana", '/wg propose "More" text')
    async with h.app.db.transaction() as s:
        wg = (await s.exec(select(WorkingGroup))).one()
        kenji = (await s.exec(select(Member).where(Member.display_name == "kenji"))).one()
        assert wg.id is not None
        by_group = await chart.participation(s, wg.id, "UTC", h.clock.now())
        by_region = await chart.participation(s, wg.id, "UTC", h.clock.now(), by="region")
        kenji.erased_at = h.clock.now()
        s.add(kenji)
        await s.flush()
        after = await chart.participation(s, wg.id, "UTC", h.clock.now())
    assert by_group.counts[-1] == {"civil-society": 2, "academia": 1} and by_group.total(-1) == 3
    assert by_region.counts[-1] == {"asia-pacific": 1, "weog": 2}
    assert after.counts[-1] == {"civil-society": 2} and "academia" not in chart.svg(after)
    assert all(by_group.total(i) == 0 for i in range(len(by_group.weeks) - 1))


#: the CLI draws up to today (the wall clock): enough weeks to reach the fixture's January 2026
WEEKS = str((datetime.now(UTC).date() - date(2026, 1, 5)).days // 7 + 2)


def test_export_chart_svg_and_refusals(tmp_path: Path, db_url: str) -> None:
    runner = CliRunner()
    out = tmp_path / "chart.svg"
    result = runner.invoke(cli, ["export", "chart", "--out", str(out), "--db", db_url])
    assert result.exit_code == 1 and "no group" in result.output and not out.exists()
    result = runner.invoke(cli, ["export", "chart", "--out", str(tmp_path / "chart.gif"), "--db", db_url])
    assert result.exit_code == 1 and ".svg or .png" in result.output


async def test_export_chart_writes_svg_and_png(site: Site, tmp_path: Path, db_url: str) -> None:
    import asyncio

    runner = CliRunner()
    out = tmp_path / "chart.svg"
    result = await asyncio.to_thread(
        runner.invoke, cli, ["export", "chart", "--out", str(out), "--db", db_url, "--weeks", "104"]
    )
    assert result.exit_code == 0, result.output  # 104 weeks back from today reach the fixture's January
    assert out.read_text().startswith("<svg") and 'data-key="civil-society"' in out.read_text()
    png = tmp_path / "chart.png"
    args = ["export", "chart", "--out", str(png), "--db", db_url, "--by", "region", "--weeks", WEEKS]
    result = await asyncio.to_thread(runner.invoke, cli, args)
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(png) as picture:
        assert picture.size[0] == 2 * chart.WIDTH  # drawn by Pillow at twice the SVG's size, no browser needed


async def test_participation_counts_ballots_and_checkin_answers_in_their_week(site: Site) -> None:
    from datetime import timedelta

    from tests.conftest import START

    h = site.harness
    await h.say("ana", '/wg checkin "Status?" every:day at:10:00 tz:UTC')
    await h.advance_to(START + timedelta(days=7, hours=-4))  # Mon 12 Jan 05:00 UTC: the next week
    await h.say("ana", '/wg vote open "Adopt the glossary?" method:yes-no')
    assert "V1" in (await h.say("kenji", "/wg vote V1 yes")).replies[0].to_text()
    assert "recorded" in (await h.say("kenji", "/wg answer C1 Fine")).replies[0].to_text()
    async with h.app.db.session() as s:
        wg = (await s.exec(select(WorkingGroup))).one()
        assert wg.id is not None
        utc = await chart.participation(s, wg.id, "UTC", h.clock.now())
        # in Honolulu it is still Sunday 11 Jan 19:00 (the week of 5 Jan there), and the fixture's
        # proposals (Mon 5 Jan 09:00 UTC) were made on Sunday 4 Jan, the week before
        honolulu = await chart.participation(s, wg.id, "Pacific/Honolulu", h.clock.now())

    def acts(counts: dict[str, int]) -> dict[str, int]:
        return {k: n for k, n in counts.items() if n}

    assert acts(utc.counts[-1]) == {"academia": 2}
    assert acts(utc.counts[-2]) == {"civil-society": 1, "academia": 1}  # the two proposals of the fixture
    assert honolulu.weeks[-1] == date(2026, 1, 5) and acts(honolulu.counts[-1]) == {"academia": 2}
    assert acts(honolulu.counts[-2]) == {"civil-society": 1, "academia": 1}
