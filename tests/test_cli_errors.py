"""The CLI fails with one line and a non-zero exit status, never a traceback, on what a person can fix;
`wgbot doctor` changes nothing and tells optional parts from missing ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def wgbot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WGBOT_", "SLACK_", "DISCORD_"))}
    env = dict(env or {})
    first = [env.pop("PYTHONPATH")] if "PYTHONPATH" in env else []
    clean["PYTHONPATH"] = os.pathsep.join([*first, str(ROOT)])
    return subprocess.run(
        [sys.executable, "-c", "from adapters.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**clean, "COLUMNS": "300", **env},
        stdin=subprocess.DEVNULL,
    )


def one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("wgbot: ") and expected in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("db", "upgrade"), "cannot reach the database postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"),
        (("export", "ics", "--db", "postgresql://postgres:hunter22@127.0.0.1:1/nowhere"), "Connect call failed"),
        (("console", "--db", "postgresql://postgres@127.0.0.1:1/nowhere"), "cannot reach the database"),
        (("console", "--db", "foo://somewhere/db"), "unsupported database `foo://`"),
        (("console", "--db", "sqlite:///:memory:"), "in-memory SQLite database"),
    ],
)
def test_database_trouble_is_one_line(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    result = wgbot(*args, cwd=tmp_path, env={"WGBOT_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"})
    one_line_error(result, expected)
    assert "hunter22" not in result.stderr


def test_export_of_an_unknown_group_fails_and_keeps_the_file(tmp_path: Path) -> None:
    env = {"WGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'wg.db'}"}
    assert wgbot("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    out = tmp_path / "team.ics"
    out.write_text("my calendar")
    result = wgbot("export", "ics", "--wg", "nope", "--out", str(out), cwd=tmp_path, env=env)
    one_line_error(result, "No working group named “nope”")
    assert out.read_text() == "my calendar"


def test_doctor_creates_no_database_and_marks_optional_parts(tmp_path: Path) -> None:
    result = wgbot("doctor", cwd=tmp_path, env={"WGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"})
    assert not (tmp_path / "fresh.db").exists()
    assert list(tmp_path.iterdir()) == []
    cells = [line.split("│") for line in result.stdout.splitlines() if "│" in line]
    rows = {c[1].strip(): c[2].strip() for c in cells}
    assert rows["LLM"] == "optional" and rows["e-mail"] == "optional" and rows["public URL"] == "optional"
    assert "no WGBOT_PUBLIC_URL" in result.stdout
    assert rows["database"] == "missing"
    assert rows["packages"] == "ok"


def test_doctor_warns_when_a_package_is_shadowed(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "prompts"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("")
    result = wgbot("doctor", cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "elsewhere")})
    [row] = [line for line in result.stdout.splitlines() if line.startswith("│ packages")]
    assert "│ warn" in row and f"`prompts` from {other}" in row and "own virtual environment" in row


@pytest.mark.parametrize("args", [("--help",), ("run", "--help"), ("simulate", "--help"), ("export", "ics", "--help")])
def test_help_has_no_stray_placeholders(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = wgbot(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout and "{" not in result.stdout and "}" not in result.stdout, result.stdout


#: a token of the right shape (never used: the shard settings are refused before any network call)
DISCORD = {"DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gs3cr3t.t0kenPart"}


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("run",), {**DISCORD, "DISCORD_SHARD_ID": "x", "DISCORD_SHARD_COUNT": "2"}, "DISCORD_SHARD_ID must be one"),
        (
            ("run",),
            {**DISCORD, "DISCORD_SHARD_ID": "2", "DISCORD_SHARD_COUNT": "2"},
            "must be below DISCORD_SHARD_COUNT (2)",
        ),
        (("run",), {**DISCORD, "DISCORD_SHARD_ID": "1"}, "DISCORD_SHARD_ID is set without DISCORD_SHARD_COUNT"),
        (("run",), {**DISCORD, "DISCORD_SHARD_COUNT": "2"}, "DISCORD_SHARD_COUNT is set without DISCORD_SHARD_ID"),
        (
            ("run",),
            {**DISCORD, "DISCORD_SHARD_IDS": "0", "DISCORD_SHARD_COUNT": "9" * 23},
            "DISCORD_SHARD_COUNT must be at most 100,000",
        ),
        (("doctor",), {"WGBOT_RATE_COMMANDS_PER_MINUTE": "-1"}, "WGBOT_RATE_COMMANDS_PER_MINUTE: Input should be"),
        (("db", "upgrade"), {"WGBOT_LOG_FORMAT": "xml", "SMTP_PORT": "abc"}, "SMTP_PORT"),
    ],
)
def test_an_unusable_setting_is_one_line_naming_it(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    """A value from the environment or .env that cannot be used: one line naming the variable (never
    its value, which may be a secret), not a page of traceback; and nothing is created."""
    result = wgbot(*args, cwd=tmp_path, env={"WGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'wg.db'}", **env})
    one_line_error(result, expected)
    assert "see .env.example" in result.stderr
    assert not (tmp_path / "wg.db").exists()


@pytest.mark.parametrize(
    "env",
    [
        {"DISCORD_SHARD_COUNT": "2"},
        {"DISCORD_SHARD_IDS": "0,1"},
        {"DISCORD_SHARD_ID": "x", "DISCORD_SHARD_COUNT": "0"},
    ],
)
def test_shard_settings_concern_only_the_command_that_starts_discord(tmp_path: Path, env: dict[str, str]) -> None:
    """A worker's shard settings in a shared environment (the count there, the ids in each worker's
    unit): `wgbot db upgrade` and the other commands work; `wgbot doctor` warns that `run` would refuse,
    and `wgbot run` refuses in one line (test_an_unusable_setting_is_one_line_naming_it)."""
    env = {"WGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'wg.db'}", **env}
    upgraded = wgbot("db", "upgrade", cwd=tmp_path, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "wg.db").exists()
    usage = wgbot("usage", cwd=tmp_path, env=env)
    assert usage.returncode == 0 and "no LLM usage recorded" in usage.stdout, usage.stderr
    doctor = wgbot("doctor", cwd=tmp_path, env={**env, **DISCORD})
    [row] = [line for line in doctor.stdout.splitlines() if line.startswith("│ Discord shards")]
    assert "│ warn" in row and "`wgbot run` would refuse to start here: DISCORD_SHARD" in row, row
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    # without a Discord token nothing reads them: `wgbot run` ignores them (test_shards), doctor says so
    doctor = wgbot("doctor", cwd=tmp_path, env=env)
    [row] = [line for line in doctor.stdout.splitlines() if line.startswith("│ Discord shards")]
    assert "│ ok" in row and "ignored: no DISCORD_TOKEN" in row, row


def test_db_upgrade_says_what_it_did(tmp_path: Path) -> None:
    from storage.db import script_head

    env = {"WGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'wg.db'}"}
    first = wgbot("db", "upgrade", "0003", cwd=tmp_path, env=env)
    assert first.returncode == 0 and "schema created, now at revision 0003" in first.stdout, first
    second = wgbot("db", "upgrade", cwd=tmp_path, env=env)
    assert f"upgraded from revision 0003 to {script_head()}" in second.stdout, second
    third = wgbot("db", "upgrade", cwd=tmp_path, env=env)
    assert f"already at revision {script_head()} (the latest); nothing to do" in third.stdout, third


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        (None, "optional", "members cannot subscribe an e-mail address"),
        ("https://wg.example.org", "ok", "e-mail answer and unsubscribe links"),
        ("wg.example.org", "warn", "not an absolute http(s) address"),
    ],
)
def test_doctor_says_what_the_public_url_is_for(url: str | None, status: str, words: str) -> None:
    from adapters.doctor import check_public_url
    from bot.config import Settings

    check = check_public_url(Settings(_env_file=None, WGBOT_PUBLIC_URL=url))  # type: ignore[call-arg]
    assert (check.name, check.status) == ("public URL", status) and words in check.detail
