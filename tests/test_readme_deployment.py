"""The README's deployment section is followed to the letter by operators: the role in its connection
URL is created, the systemd units do what they say (migrations once, not on every worker restart),
the environment file it shows is one every command accepts, and every variable and `wgbot` command it
names exists; the quick start says what the console limits."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from adapters.cli import app
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("\n## Deployment on PostgreSQL", 1)[1].split("\n## ", 1)[0]


def systemd_files() -> dict[str, str]:
    """The `ini` block, by the file each part says it is (`# /etc/…` headers)."""
    [block] = re.findall(r"```ini\n(.*?)```", section(), re.S)
    files: dict[str, str] = {}
    for part in re.split(r"^# (?=/etc/)", block, flags=re.M)[1:]:
        name, _, body = part.partition("\n")
        files[name.split()[0]] = body
    return files


def assignments(text: str, prefix: str = "") -> dict[str, str]:
    return dict(re.findall(rf"^{prefix}([A-Z][A-Z0-9_]*)=(.*)$", text, re.M))


def test_the_role_in_the_connection_url_is_created() -> None:
    text = section()
    roles = set(re.findall(r"postgresql://(\w+):", text))
    assert roles, "the section shows a connection URL"
    for role in roles:
        assert re.search(rf"createuser\b[^\n]*\b{role}\b", text) or f"CREATE ROLE {role}" in text, role
        assert re.search(rf"createdb\b[^\n]*--owner={role}\b", text) or f"OWNER {role}" in text, role


def test_the_migration_unit_runs_once_not_on_every_worker_restart() -> None:
    files = systemd_files()
    migrate = files["/etc/systemd/system/wgbot-migrate.service"]
    worker = files["/etc/systemd/system/wgbot@.service"]
    assert "Type=oneshot" in migrate and "RemainAfterExit=yes" in migrate
    assert "Requires=wgbot-migrate.service" in worker and "Restart=always" in worker
    for unit in (migrate, worker):
        if "network-online.target" in unit:
            assert "Wants=network-online.target" in unit  # After= alone does not pull it in


def test_the_environment_file_is_accepted_by_every_command_and_the_workers() -> None:
    files = systemd_files()
    env = assignments(files["/etc/wgbot/env"])
    Settings(_env_file=None, **env)  # type: ignore[arg-type]  # `wgbot db upgrade`, `wgbot doctor`
    worker = files["/etc/systemd/system/wgbot@.service"]
    unit_env = assignments(worker, prefix="Environment=")
    [(variable, _)] = re.findall(r"(DISCORD_SHARD_IDS?)=\$\$\(\((%i - 1)\)\)", worker)  # set by ExecStart
    for shard in ("0", "1"):
        Settings(_env_file=None, **env, **unit_env, **{variable: shard})  # type: ignore[arg-type]


def test_every_variable_and_command_named_exists() -> None:
    text = section()
    known = {field.alias for field in Settings.model_fields.values()} | {"WGBOT_TEST_DATABASE_URL"}
    named = set(re.findall(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b", text))
    assert named and named <= known, named - known
    cli = typer.main.get_command(app)
    commands = re.findall(r"(?<![=\w@-])wgbot((?: [a-z][a-z-]*)+)", text)
    assert commands
    for words in commands:
        command: object = cli
        for word in words.split():
            subcommands = getattr(command, "commands", None)  # a group
            if subcommands is None:
                break  # an argument or the prose after the command
            assert word in subcommands, f"`wgbot{words}`: there is no `{word}` command"
            command = subcommands[word]
        assert getattr(command, "commands", None) is None, f"`wgbot{words}` is not a whole command"


def test_the_quick_start_names_the_command_limit_the_console_keeps() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("\n## Quick start", 1)[1].split("\n## ", 1)[0]
    limit = Settings.model_fields["rate_commands_per_minute"]
    assert "wgbot console" in quick and f"{limit.alias}=0 .venv/bin/wgbot console" in quick
    assert f"{limit.default} commands a minute" in quick
