"""`wgbot doctor`: is Discord configured, and the invite link with the minimum permissions.

The application id is the bot user's id, which is the base64 first segment of the token, so the
link is printed without any network call; the token itself is never printed.
"""

from __future__ import annotations

import base64
import binascii

import discord

from adapters.doctor import PLATFORM_CHECKS, Check
from bot.config import Settings


def permissions() -> discord.Permissions:
    """What the bot needs, nothing more: no Administrator, no Mention Everyone."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        use_application_commands=True,
    )


def application_id(token: str) -> int | None:
    head = token.split(".", 1)[0]
    try:
        raw = base64.b64decode(head + "=" * (-len(head) % 4), altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(raw) if raw.isdigit() else None


def invite_url(app_id: int) -> str:
    return discord.utils.oauth_url(app_id, permissions=permissions(), scopes=("bot", "applications.commands"))


async def check_discord(settings: Settings) -> Check:
    if settings.discord_token is None:
        return Check(
            "Discord",
            "missing",
            "no DISCORD_TOKEN: create an application at https://discord.com/developers/applications "
            "(see the README's Discord section).",
        )
    app_id = application_id(settings.discord_token.get_secret_value())
    if app_id is None:
        return Check("Discord", "fail", "DISCORD_TOKEN does not look like a bot token: copy it again from Bot → Token.")
    where = f" via {settings.discord_api_base}" if settings.discord_api_base else ""
    return Check(
        "Discord",
        "ok",
        f"token set for application {app_id}{where}. Message Content intent must be enabled "
        f"(Bot → Privileged Gateway Intents). Invite: {invite_url(app_id)}",
    )


if check_discord not in PLATFORM_CHECKS:
    PLATFORM_CHECKS.append(check_discord)
