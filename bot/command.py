"""Who said what where: the core's view of an incoming command, independent of any platform."""

from __future__ import annotations

from dataclasses import dataclass, field

PLATFORMS = ("console", "slack", "discord")


@dataclass(frozen=True)
class UserRef:
    platform: str
    user_id: str
    handle: str
    #: the platform's own idea of the user's zone (Slack users.info), used as the default on join
    timezone: str | None = None
    #: the namespace `user_id` is unique in: the Slack team id; "" where user ids are global
    #: (Discord snowflakes, console names). Identities are looked up by (platform, workspace, user_id).
    workspace: str = ""


@dataclass(frozen=True)
class Where:
    platform: str
    channel_id: str
    channel_name: str = ""
    thread_id: str | None = None
    is_dm: bool = False
    #: the Slack team id / Discord guild id the channel lives in ("" on the console and in Discord DMs)
    workspace: str = ""
    #: the command's own text is a message everyone in the channel sees (a Slack mention of the bot in a
    #: channel), unlike a slash command, a button or a DM
    said_in_channel: bool = False


@dataclass
class Command:
    """A parsed command: `name` is the grammar's command (e.g. `propose`, `vote.open`)."""

    name: str
    user: UserRef
    where: Where
    positionals: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    rest: str = ""
    raw: str = ""
    #: set when the command came from a button or select (the message it should update)
    from_action: bool = False
