"""Data rights: export everything about me, erase me (the database before and after), operators' CLI,
and the daily retention purge through the engine."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import purge
from bot.reply import Attachment
from tests.conftest import START, Harness, table_snapshot
from tests.test_simulate import SCRIPTS, wgbot


async def activity(h: Harness) -> None:
    await h.say("ana", "/wg join civil-society")
    await h.say("ben", "/wg join government region:african tz:Africa/Nairobi email:ben@gov.example", platform="slack")
    await h.say("ben", "/wg digest subscribe dm", platform="slack")
    await h.say("ben", '/wg propose "Shared glossary" One glossary.', platform="slack")
    await h.say("ben", "/wg amend P1 One glossary, by June.", platform="slack")
    await h.say("ana", '/wg meeting "Call" at:"2026-01-08 14:00 UTC"')
    await h.say("ben", "/wg rsvp M1 yes", platform="slack")
    await h.say("ana", '/wg checkin "Blockers?" every:day at:10:00 tz:UTC')
    await h.advance_to(START + timedelta(days=1, hours=2))
    await h.say("ben", "/wg answer C1 Waiting for ben's glossary review.", platform="slack")
    await h.say("ana", "/wg digest send")


async def test_export_gives_my_data_as_a_private_json_file(harness: Harness) -> None:
    await activity(harness)
    r = await harness.say("ben", "/wg privacy export", platform="slack")
    [reply] = r.replies
    assert reply.private
    [file] = [b for b in reply.blocks if isinstance(b, Attachment)]
    assert file.mime == "application/json" and file.filename.endswith(".json")
    data = json.loads(file.content)
    assert data["profile"]["display_name"] == "ben" and data["profile"]["email"] == "ben@gov.example"
    assert data["identities"] == [
        {"platform": "slack", "user_id": "ben", "handle": "ben", "linked_at": "2026-01-05T09:00:00Z"}
    ]
    assert data["subscriptions"] == {"digest_by_dm": True, "digest_by_email": False}
    assert [p["id"] for p in data["proposals"]] == ["P1"]
    assert [(a["proposal"], a["revision"]) for a in data["amendments"]] == [("P1", 2)]
    assert data["rsvps"] == [{"meeting": "M1", "title": "Call", "answer": "yes"}]
    assert [a["answer"] for a in data["checkin_answers"]] == ["Waiting for ben's glossary review."]


async def test_erase_asks_first_then_removes_the_person_and_keeps_the_record(harness: Harness) -> None:
    await activity(harness)
    before = await table_snapshot(harness.app.db)
    ask = (await harness.say("ben", "/wg privacy erase", platform="slack")).replies[0]
    assert "cannot be undone" in ask.to_text() and "privacy erase confirm" in ask.to_text()
    assert await table_snapshot(harness.app.db) == before  # asking changes nothing

    done = (await harness.say("ben", "/wg privacy erase confirm", platform="slack")).replies[0]
    assert "Your data was erased" in done.to_text()
    after = await table_snapshot(harness.app.db)
    changed = {t for t in before if before[t] != after[t]}
    assert changed <= {"members", "identities", "rsvps", "outbox", "digests", "inbound_events", "scheduled_jobs"}
    assert {"members", "identities", "rsvps", "digests"} <= changed
    assert before["proposals"] == after["proposals"] and before["proposal_revisions"] == after["proposal_revisions"]
    assert before["checkin_answers"] == after["checkin_answers"]
    dump = json.dumps({t: [list(map(str, r)) for r in rows] for t, rows in after.items() if t != "proposals"})
    assert "ben@gov.example" not in dump
    for table in ("identities", "digests", "members"):
        assert "'ben'" not in str(after[table]) and "dm:ben" not in str(after[table])
    assert "by a former member" in str(after["digests"])
    # the record reads "a former member"; the person is a stranger now
    shown = (await harness.say("ana", "/wg show P1")).replies[0].to_text()
    assert "a former member" in shown and "ben" not in shown.replace("P1", "")
    assert "You have not joined" in (await harness.say("ben", "/wg me", platform="slack")).replies[0].to_text()
    harness.clear()
    await harness.advance_to(START + timedelta(days=8))
    assert all(m.destination.label != "dm:ben" for m in harness.sent())


async def test_the_only_convener_cannot_erase_themselves(harness: Harness) -> None:
    await harness.say("ana", "/wg join civil-society")
    before = await table_snapshot(harness.app.db)
    r = (await harness.say("ana", "/wg privacy erase confirm")).replies[0]
    assert r.kind == "error" and "only convener" in r.to_text()
    assert await table_snapshot(harness.app.db) == before


def test_operator_cli_exports_and_erases(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wg.db'}"
    assert wgbot("simulate", str(SCRIPTS / "whitepaper.script"), "--db", url).returncode == 0
    out = wgbot("member", "export", "chen", "--db", url)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["profile"]["stakeholder_group"] == "academia" and data["proposals"][0]["id"] == "P2"
    nobody = wgbot("member", "export", "zed", "--db", url)
    assert nobody.returncode == 1 and "no member matches “zed”" in nobody.stderr
    refused = wgbot("member", "erase", "ana", "--db", url, "--yes")
    assert refused.returncode == 1 and "only convener" in refused.stderr
    erased = wgbot("member", "erase", "discord:chen", "--db", url, "--yes")
    assert erased.returncode == 0 and "erased" in erased.stdout
    assert wgbot("member", "export", "chen", "--db", url).returncode == 1
    paper = tmp_path / "paper.md"
    assert wgbot("export", "whitepaper", "--db", url, "--out", str(paper)).returncode == 0
    text = paper.read_text(encoding="utf-8")
    assert "P2 Incident taxonomy** — proposed by a former member" in text and "chen" not in text


async def test_retention_purge_runs_daily_through_the_engine(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[datetime] = []

    async def cached_threads(session: AsyncSession, cutoff: datetime) -> int:
        calls.append(cutoff)
        return 3

    monkeypatch.setitem(purge.PURGERS, "cached thread messages", cached_threads)
    await purge.ensure_planned(harness.app.db, harness.clock.now(), 180)
    await purge.ensure_planned(harness.app.db, harness.clock.now(), 180)  # idempotent
    await harness.advance_to(START + timedelta(days=2))
    first = datetime(2026, 1, 6, 3, 0, tzinfo=UTC)
    assert calls == [first - timedelta(days=180), first + timedelta(days=1) - timedelta(days=180)]


async def test_erasing_a_voter_keeps_the_tally_and_the_ballot_log_verifies(harness: Harness) -> None:
    from bot.audit import verify_all

    await harness.say("ana", "/wg join civil-society")
    await harness.say("ben", "/wg join government", platform="slack")
    await harness.say("ana", '/wg vote open "Meet monthly?" method:yes-no')
    await harness.say("ana", "/wg vote V1 yes")
    await harness.say("ben", '/wg vote V1 no reason:"too often"', platform="slack")
    await harness.say("ana", "/wg vote close V1")
    before = (await harness.say("ana", "/wg results V1")).replies[0].to_text()
    assert "ben" in before
    await harness.say("ben", "/wg privacy erase confirm", platform="slack")
    after = (await harness.say("ana", "/wg results V1")).replies[0].to_text()
    assert "ben" not in after and "a former member" in after
    strip = [line for line in before.splitlines() if "ben" not in line]
    assert [line for line in after.splitlines() if "a former member" not in line] == strip
    results = await verify_all(harness.app.db)
    assert results and all(ok for ok, _ in results), results
