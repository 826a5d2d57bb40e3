"""`wgbot simulate` and `wgbot demo` through the real CLI: the JSON contract of SPEC.md, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"


def wgbot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from adapters.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def events(stdout: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_foundation_script_keeps_the_contract_and_is_deterministic() -> None:
    first = wgbot("simulate", str(SCRIPTS / "foundation.script"), "--json")
    second = wgbot("simulate", str(SCRIPTS / "foundation.script"), "--json")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    out = events(first.stdout)
    for e in out:
        assert {"at", "platform", "to", "text", "kind"} <= set(e)
        assert e["kind"] in {"reply", "announcement", "reminder", "digest", "summary", "error"}
        assert e["to"].split(":", 1)[0] in {"channel", "thread", "dm", "email", "user"}
    smoke = [e for e in out if e["kind"] == "announcement" and "New proposal P1: Contract smoke proposal" in e["text"]]
    assert sorted(e["platform"] for e in smoke) == ["console", "discord", "slack"]
    assert {e["at"] for e in smoke} == {"2026-02-02T09:00:00Z"}
    unknown = [e for e in out if "Unknown command `frobnicate`" in e["text"]]
    assert unknown == [
        {
            "at": "2026-02-02T09:10:00Z",
            "platform": "slack",
            "to": "user:ben",
            "text": "Unknown command `frobnicate`. Type /wg help for the list.\nUsage: /wg help [command]",
            "kind": "error",
        }
    ]
    in_thread = [e for e in out if e["to"] == "thread:t1"]
    assert len(in_thread) == 1 and "P2 [open]" in in_thread[0]["text"]
    assert any(e["to"] == "user:dora" and "You have not joined" in e["text"] for e in out)
    # the mention in a title is neutralised in the plain text too
    mention = [e for e in out if e["kind"] == "announcement" and "look" in e["text"]]
    assert len(mention) == 6 and all("@everyone" not in e["text"] and "<!channel>" not in e["text"] for e in mention)
    # times are shown in the reader's zone: chen reads Shanghai time
    assert any(e["to"] == "thread:t1" and "2 Feb 2026" in e["text"] for e in out)


def test_plain_output_and_script_errors() -> None:
    plain = wgbot("simulate", str(SCRIPTS / "foundation.script"))
    assert plain.returncode == 0
    assert "[2026-02-02 09:00 UTC] console channel:wg (announcement)" in plain.stdout


def test_script_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.script"
    bad.write_text("@2026-01-01T00:00:00Z\n+forever\n", encoding="utf-8")
    r = wgbot("simulate", str(bad))
    assert r.returncode == 2 and "line 2" in r.stderr


def test_demo_runs_from_the_installed_package_data(tmp_path: Path) -> None:
    paper = tmp_path / "paper.md"
    r = wgbot("demo", "--json", "--whitepaper", str(paper))
    assert r.returncode == 0, r.stderr
    out = events(r.stdout)
    assert any(e["kind"] == "announcement" and e["platform"] == "discord" for e in out)
    # the week ends with the Monday digest: every channel, the DM subscriber, the e-mail subscribers
    digests = [e for e in out if e["kind"] == "digest"]
    assert sorted((e["platform"], e["to"]) for e in digests) == [
        ("console", "channel:wg"),
        ("discord", "channel:wg"),
        ("email", "email:jonas@example.org"),
        ("email", "email:lea.novak@example.int"),
        ("slack", "channel:wg"),
        ("slack", "dm:carlos"),
    ]
    assert {e["at"] for e in digests} == {"2026-01-12T08:00:00Z"} and out[-1]["kind"] == "digest"
    assert "Capacity building for small CERTs" in digests[0]["text"]
    # an e-mail reader may have no chat account: their digest names no chat command, and says how to stop it
    for e in digests:
        if e["platform"] == "email":
            assert "/wg" not in e["text"] and "reply with “unsubscribe”" in e["text"], e["text"]
        else:
            assert "/wg digest subscribe" in e["text"]
    assert "# wg: white paper" in paper.read_text(encoding="utf-8") and "white paper" in r.stderr
    # the short live session: the queue posted once per channel and then edited in place, the quick
    # poll closing by itself, the pause round's synthesis and the minutes, on every platform
    board = [e for e in out if e["platform"] == "slack" and e["kind"] == "announcement" and "queue — M1" in e["text"]]
    assert board[0]["text"].startswith("Question queue") and len(board) >= 2
    assert all(e["text"].startswith("(edits the earlier message)") for e in board[1:])
    assert "(session ended)" in board[-1]["text"]
    for prefix in ("V2 closed: Pilot with two CERTs first?", "Pause round closed", "Minutes: M1"):
        assert sorted(e["platform"] for e in out if e["text"].startswith(prefix)) == ["console", "discord", "slack"]
    [summary] = [e for e in out if e["kind"] == "summary" and e["to"] == "thread:t2"]  # (live minutes are too)
    assert "offline summarizer" in summary["text"]
    assert "We agreed to start from MITRE ATLAS" in summary["text"] and "— carlos, due friday" in summary["text"]


def test_version_run_without_credentials_and_doctor(tmp_path: Path) -> None:
    assert wgbot("--version").stdout.startswith("wgbot ")
    env = {"WGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_BOT_TOKEN": "", "DISCORD_TOKEN": ""}
    r = wgbot("run", env=env)
    assert r.returncode == 1
    assert "wgbot console" in r.stderr and "wgbot demo" in r.stderr
    up = wgbot("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    doc = wgbot("doctor", env={**env, "COLUMNS": "200"})
    assert "database" in doc.stdout and "ok" in doc.stdout
    assert "SMTP_HOST" in doc.stdout


def test_secrets_never_reach_the_logs() -> None:
    import logging

    from adapters.logs import SecretFilter

    f = SecretFilter(["s3cr3t-value"])
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "token %s and %s", ("s3cr3t-value", "xoxb-1234-5678-abcdefgh"), None
    )
    f.filter(record)
    assert "s3cr3t" not in record.getMessage() and "xoxb" not in record.getMessage()
