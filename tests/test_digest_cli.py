"""Digests through the real CLI: a simulated week, a restart across Monday 09:00 (sent once, late),
and `wgbot digest show` reading the archive back."""

from __future__ import annotations

from pathlib import Path

from tests.test_simulate import SCRIPTS, events, wgbot


def test_restart_across_monday_sends_the_digest_once_late_and_archives_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wg.db'}"
    before = wgbot("simulate", str(SCRIPTS / "digest_week.script"), "--json", "--db", url)
    assert before.returncode == 0, before.stderr
    assert [e for e in events(before.stdout) if e["kind"] == "digest"] == []
    after = wgbot("simulate", str(SCRIPTS / "digest_after_restart.script"), "--json", "--db", url)
    assert after.returncode == 0, after.stderr
    sent = [e for e in events(after.stdout) if e["kind"] == "digest"]
    assert sorted((e["platform"], e["to"]) for e in sent) == [
        ("console", "channel:wg"),
        ("discord", "channel:wg"),
        ("email", "email:chen@example.edu"),
        ("email", "email:ngozi@example.org"),
        ("slack", "channel:wg"),
        ("slack", "dm:ben"),
    ]
    for e in sent:
        assert e["at"] == "2026-01-12T12:00:00Z"
        assert "(late: due 2026-01-12 09:00 UTC, sent 3 h 00 min late after the bot was offline)" in e["text"]
        assert "New: P1 “Shared glossary” by ben" in e["text"]
        assert "Drafted the glossary outline." in e["text"]
    again = wgbot("simulate", str(SCRIPTS / "digest_after_restart.script"), "--json", "--db", url)
    assert [e for e in events(again.stdout) if e["kind"] == "digest"] == []

    shown = wgbot("digest", "show", "--db", url, "--week", "2026-W02")
    assert shown.returncode == 0, shown.stderr
    assert "[scheduled, late; sent 2026-01-12 12:00 UTC]" in shown.stdout
    assert "Weekly digest: wg, 5 Jan 2026 – 12 Jan 2026" in shown.stdout
    assert wgbot("digest", "show", "--db", url).stdout == shown.stdout  # the latest by default
    missing = wgbot("digest", "show", "--db", url, "--week", "2026-W09")
    assert missing.returncode == 1 and "no digest of “wg” archived for week 2026-W09" in missing.stderr
    for impossible, why in (("2026-W99", "2026 has weeks W01 to W53"), ("2025-w53", "2025 has weeks W01 to W52")):
        nonweek = wgbot("digest", "show", "--db", url, "--week", impossible)
        assert nonweek.returncode == 1 and f"is not a week: {why}" in nonweek.stderr, nonweek.stderr
    bad = wgbot("digest", "show", "--db", url, "--week", "last")
    assert bad.returncode == 1 and "not an ISO week" in bad.stderr
    nope = wgbot("digest", "show", "--db", url, "--wg", "nope")
    assert nope.returncode == 1 and "no working group named “nope”" in nope.stderr
