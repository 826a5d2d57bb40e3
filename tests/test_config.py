"""Configuration: every setting is documented in .env.example, and empty values mean "not set"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


def test_every_setting_is_in_env_example_with_a_comment() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    documented = {line.split("=", 1)[0] for line in lines if "=" in line and not line.startswith("#")}
    aliases = {f.alias for f in Settings.model_fields.values() if f.alias}
    assert aliases == documented
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            above = [x for x in lines[:i] if x.strip()]
            assert above and (above[-1].startswith("#") or "=" in above[-1]), line


def test_an_empty_env_example_configures_no_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Copying .env.example unchanged must not look like configured Slack/Discord (empty = unset)."""
    (tmp_path / ".env").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_TOKEN", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert not s.slack_configured and not s.discord_configured and not s.llm_configured
    assert s.database_url == "sqlite:///wgbot.db"
    assert "xoxb" not in repr(Settings(SLACK_BOT_TOKEN="xoxb-secret-value"))
