"""Configuration: the doctor's invite link, endpoint settings, and the token kept out of logs."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

import discord
import discord.http
import pytest
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord.client import intents
from adapters.discord.commands import build_group
from adapters.discord.doctor import application_id, check_discord
from adapters.discord.runtime import DISCORD_API_BASE, api_base, configure_endpoints
from adapters.runtime import platform_starters
from bot.clock import VirtualClock
from bot.config import Settings
from bot.services.context import HANDLERS
from storage.db import Database
from tests.discord.conftest import APP_ID, TOKEN, start_bot
from tests.fakes.discord_server import DiscordServer, FakeUser


async def test_doctor_prints_an_invite_with_the_minimum_permissions() -> None:
    check = await check_discord(Settings(DISCORD_TOKEN=TOKEN))
    assert check.status == "ok" and TOKEN not in check.detail
    url = check.detail[check.detail.index("https://") :]
    query = parse_qs(urlparse(url).query)
    assert query["client_id"] == [str(APP_ID)]
    assert query["scope"] == ["bot applications.commands"]
    perms = discord.Permissions(int(query["permissions"][0]))
    assert perms == discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        use_application_commands=True,
    )
    assert not perms.administrator and not perms.mention_everyone


async def test_doctor_without_a_token_or_with_a_bad_one() -> None:
    assert (await check_discord(Settings())).status == "missing"
    assert (await check_discord(Settings(DISCORD_TOKEN="not-a-token"))).status == "fail"
    assert application_id("bm90LWEtbnVtYmVy.x.y") is None  # "not-a-number"


def test_only_the_needed_intents() -> None:
    wanted = intents()
    assert wanted.guilds and wanted.message_content and wanted.dm_messages
    assert not (wanted.members or wanted.presences or wanted.guild_messages)


def test_endpoints_point_at_a_compatible_server_or_at_discord() -> None:
    try:
        configure_endpoints(Settings(DISCORD_API_BASE="http://127.0.0.1:9/", DISCORD_GATEWAY_URL="ws://127.0.0.1:9/gw"))
        assert discord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
        assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/gw"
        assert api_base("https://spacebar.example/api") == "https://spacebar.example/api/v10"
        assert api_base("https://spacebar.example/api/v9") == "https://spacebar.example/api/v9"
    finally:
        configure_endpoints(Settings())
    assert discord.http.Route.BASE == DISCORD_API_BASE
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


def test_wgbot_run_starts_discord_when_the_token_is_set() -> None:
    from adapters.discord.runtime import start

    assert start in [s for _, _, s in platform_starters(Settings(DISCORD_TOKEN=TOKEN))]
    assert start not in [s for _, _, s in platform_starters(Settings())]


async def test_the_token_never_reaches_the_logs(
    server: DiscordServer, db: Database, clock: VirtualClock, alice: FakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = await start_bot(server, db, clock)
    try:
        await bot.command(["bind"], alice)
        await bot.command(["join"], alice, group="academia")
    finally:
        await bot.stop()
    assert "connected as" in caplog.text, "the logs were captured"
    assert TOKEN not in caplog.text and TOKEN.split(".")[1] not in caplog.text


def _offered(group: app_commands.Group) -> dict[str, str]:
    """grammar command → the Discord command that runs it, e.g. {"meeting": "wg meeting schedule"}."""
    return {cmd.extras["spec"]: cmd.qualified_name for cmd in group.walk_commands() if "spec" in cmd.extras}


async def _run(interaction: Any, text: str) -> None:
    raise AssertionError("not called")


async def _complete(interaction: Any, kind: str, current: str) -> list[app_commands.Choice[str]]:
    return []


def test_every_registered_core_command_has_a_discord_command(caplog: pytest.LogCaptureFixture) -> None:
    """Discord's 25-entry cap silently drops commands; this fails the day a new capability hits it
    (see the planned regrouping in adapters/discord/commands.py)."""
    group = build_group(_run, _complete)
    offered = _offered(group)
    missing = sorted(set(HANDLERS) - set(offered))
    assert not missing, f"core commands with no /wg command on Discord (25-subcommand cap?): {missing}"
    assert "not offered" not in caplog.text
    assert offered["meeting"] == "wg meeting schedule" and offered["meeting.cancel"] == "wg meeting cancel"
    assert set(offered) == set(HANDLERS), "a Discord command for something the core cannot run"


def test_the_whole_grammar_fits_on_discord(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command of SPEC.md registered at once fits under the 25-subcommand cap (the regrouping of
    adapters/discord/commands.py: live-session commands under /wg live, rsvp/agenda/ics under
    /wg meeting, results under /wg vote, answer under /wg checkin)."""
    from bot.grammar import SPECS

    for name in SPECS:
        monkeypatch.setitem(HANDLERS, name, HANDLERS.get(name) or _run)
    offered = _offered(build_group(_run, _complete))
    assert set(SPECS) <= set(offered), sorted(set(SPECS) - set(offered))
    assert offered["results"] == "wg vote results" and offered["rsvp"] == "wg meeting rsvp"
    assert offered["ask"] == "wg live ask" and offered["answer"] == "wg checkin answer"
