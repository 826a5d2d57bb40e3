"""What a newcomer reads and installs: the README's opening claims only what exists, the licence
file matches the declared licence, dependencies have upper bounds, and the demo spans a whole week."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

from bot.core import available_commands

ROOT = Path(__file__).resolve().parent.parent


def opening() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## ", 1)[0].lower()


def test_the_opening_lines_claim_only_what_exists() -> None:
    exists = available_commands()
    claims = {"vote": "vote", "summar": "summarize", "digest": "digest.preview", "check-in": "checkin"}
    for word, command in claims.items():
        if command not in exists:
            assert word not in opening(), f"the README opens with {word!r}, but /wg {command} does not exist"


def test_the_licence_file_matches_the_declared_licence() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence


def test_cli_libraries_have_upper_bounds() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    for name in ("typer", "rich"):
        [spec] = [d for d in deps if re.match(rf"{name}\b", d)]
        assert "<" in spec or "~=" in spec, spec


def test_the_demo_is_a_whole_week(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-c", "from adapters.cli import main; main()", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert r.returncode == 0, r.stderr
    times = [datetime.fromisoformat(json.loads(line)["at"]) for line in r.stdout.splitlines() if line.strip()]
    first, last = min(times), max(times)
    assert last.date() - first.date() == timedelta(days=7), (first, last)  # Monday to the next Monday
    # the white paper goes to a temporary directory, named on stderr; the current one stays clean
    assert list(tmp_path.iterdir()) == []
    [where] = re.findall(r"to (\S+wgbot-demo-\S+whitepaper\.md)", r.stderr)
    paper = Path(where)
    assert "white paper" in paper.read_text(encoding="utf-8")
    paper.unlink()
    paper.parent.rmdir()
