"""Votes through `wgbot simulate` scripts: automatic close announced once per platform, an anonymous
vote, a hidden vote, a restart across the closing time, and `wgbot audit verify` on the result."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

from tests.test_meetings import SCRIPTS, _wgbot, at, run_script

HANDLES = ("ana", "kenji", "nora", "omar")


async def test_consent_vote_closes_at_its_minute_announced_once_per_platform(db_url: str) -> None:
    events = await run_script("vote_consent.script", db_url)
    closed = [e for e in events if e.text.startswith("V1 closed:")]
    assert sorted((e.platform, e.to, e.kind) for e in closed) == [
        ("console", "channel:wg", "announcement"),
        ("discord", "channel:wg", "announcement"),
        ("slack", "channel:wg", "announcement"),
    ]
    assert {e.at for e in closed} == {at("2026-01-07T12:00")}
    assert all("Outcome: adopted by consent" in e.text and "late" not in e.text for e in closed)
    nudges = [e for e in events if e.kind == "reminder"]
    assert [(e.to, e.at) for e in nudges] == [("dm:nora", at("2026-01-06T12:00"))]
    assert "07:00 EST" in nudges[0].text
    assert any("P1 [accepted]" in e.text for e in events)
    assert any(e.to == "user:nora" and e.kind == "error" and "no longer accepted" in e.text for e in events)


async def test_anonymous_vote_never_shows_a_handle_next_to_a_choice(db_url: str) -> None:
    events = await run_script("vote_anonymous.script", db_url)
    opened = next(i for i, e in enumerate(events) if "V1 opened" in e.text)
    choices = ("Geneva", "Nairobi", "Bangkok", " > ", "Closest")
    for e in events[opened:]:
        if any(h in e.to or h in e.text for h in HANDLES):
            assert not any(c in e.text for c in choices), e
    receipts = [e for e in events if "Receipt" in e.text]
    assert len(receipts) == 4 and all(e.to.startswith("user:") for e in receipts)
    final = [e for e in events if "V1 closed" in e.text]
    assert len(final) == 3 and "Closest to most delegations" in final[0].text
    assert "not shown by group: an anonymous vote shows no group of fewer than 3" in final[0].text


async def test_hidden_vote_has_no_counts_before_close(db_url: str) -> None:
    events = await run_script("vote_hidden.script", db_url)
    before = [e for e in events if e.at < at("2026-01-06T09:00")]
    assert before and not any("Totals" in e.text or "Counts so far" in e.text for e in before)
    assert any("Participation so far: 2 of 3 voted" in e.text for e in before)
    after = [e for e in events if e.at >= at("2026-01-06T09:00") and "V1 closed" in e.text]
    assert len(after) == 3 and "Totals: A 1 · B 1 · C 1" in after[0].text
    assert "A, B, C tied; A (listed first) wins" in after[0].text


def test_restart_across_the_closing_time_closes_once_late_and_the_log_verifies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'votes.db'}"
    env = {k: v for k, v in os.environ.items() if k != "WGBOT_DATABASE_URL"}

    def wgbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*_wgbot(), *args], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)

    def run(script: str) -> list[dict[str, str]]:
        p = wgbot("simulate", str(SCRIPTS / script), "--json", "--db", url)
        assert p.returncode == 0, p.stderr[-2000:]
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]

    assert not [m for m in run("vote_restart_1.script") if "closed" in m["text"]]
    closed = [m for m in run("vote_restart_2.script") if "V1 closed" in m["text"]]
    assert sorted(m["platform"] for m in closed) == ["console", "discord", "slack"]
    assert all(m["at"] == "2026-01-07T12:40:00Z" for m in closed)
    assert all("(late: due 2026-01-07 12:00 UTC" in m["text"] and "adopted" in m["text"] for m in closed)
    assert run("vote_restart_3.script") == []

    ok = wgbot("audit", "verify", "--db", url)
    assert ok.returncode == 0, ok.stderr
    assert "wg V1: ok" in ok.stdout
    # one ballot changed by hand: verification fails and names the entry
    with sqlite3.connect(tmp_path / "votes.db") as conn:
        conn.execute("""UPDATE ballots SET choice = '{"answer": "no"}' WHERE id = 1""")
    bad = wgbot("audit", "verify", "V1", "--db", url)
    assert bad.returncode == 1
    assert "BROKEN wg V1 entry #2: the counted ballot differs from what the log recorded" in bad.stderr
    # and a log entry changed by hand breaks the chain at that entry
    with sqlite3.connect(tmp_path / "votes.db") as conn:
        conn.execute("""UPDATE ballots SET choice = '{"answer": "yes"}' WHERE id = 1""")
        conn.execute("""UPDATE ballot_log SET data = '{"choice": {"answer": "no"}, "reason": null}' WHERE seq = 3""")
    chain = wgbot("audit", "verify", "--db", url)
    assert chain.returncode == 1 and "V1 entry #3: its content does not match its hash" in chain.stderr
    assert wgbot("audit", "verify", "V7", "--db", url).returncode == 2
