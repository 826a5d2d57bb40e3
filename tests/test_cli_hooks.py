"""The operator CLI (`wgbot export whitepaper`, `wgbot member export|erase`) runs in a process that
never started the bot: every capability's white-paper, export and erase parts must still be there
(they register themselves when their modules are imported; the CLI once imported only the base)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.test_simulate import wgbot

SCRIPT = """\
@2026-12-01T09:00:00Z
alice: /wg join civil-society region:weog
dave: /wg join academia region:weog
alice: /wg propose "Adopt X" We should adopt X theme:"cybersecurity of AI"
alice: /wg vote open P1
alice: /wg vote V1 agree
dave: /wg vote V1 agree
alice: /wg vote close V1
alice: /wg meeting "M" at:"2026-12-01T10:00:00Z"
alice: /wg live start M1
dave: /wg ask I'll draft the report
alice: /wg live end
"""


def _simulated(tmp_path: Path) -> tuple[Path, str]:
    script, db = tmp_path / "s.script", tmp_path / "wg.db"
    script.write_text(SCRIPT, encoding="utf-8")
    r = wgbot("simulate", str(script), "--db", f"sqlite:///{db}")
    assert r.returncode == 0, r.stderr
    return db, f"sqlite:///{db}"


def test_cli_white_paper_has_vote_results_and_live_minutes(tmp_path: Path) -> None:
    _db, url = _simulated(tmp_path)
    out = tmp_path / "paper.md"
    r = wgbot("export", "whitepaper", "--db", url, "--out", str(out))
    assert r.returncode == 0, r.stderr
    paper = out.read_text(encoding="utf-8")
    assert "V1" in paper and "Live sessions" in paper, paper


def test_cli_member_export_and_erase_cover_ballots_and_minutes(tmp_path: Path) -> None:
    db, url = _simulated(tmp_path)
    out = tmp_path / "dave.json"
    r = wgbot("member", "export", "dave", "--db", url, "--out", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert "ballots" in data and "live" in data, sorted(data)
    r = wgbot("member", "erase", "dave", "--yes", "--db", url)
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(db) as conn:
        text = "\n".join(str(row) for row in conn.execute("SELECT * FROM live_sessions"))
    assert "dave" not in text
