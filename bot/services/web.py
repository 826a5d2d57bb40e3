"""The web record's settings from chat: `/wg web link [rotate]`, `/wg settings web:… summaries:…`.

The record itself is served by adapters/web; here only who may read it and where it is."""

from __future__ import annotations

from bot import webaccess
from bot.errors import UserError
from bot.reply import Context, Reply, Text
from bot.services.context import Ctx, command
from storage.models import WebAccess, WorkingGroup

NO_PUBLIC_URL = "This deployment serves no web record (WGBOT_PUBLIC_URL is not set)."


def parse_visibility(value: str) -> bool:
    v = value.strip().lower()
    if v not in ("private", "public"):
        raise UserError("Give web:private (only through the secret link) or web:public.")
    return v == "public"


def parse_on_off(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v not in ("on", "off"):
        raise UserError(f"Give {name}:on or {name}:off.")
    return v == "on"


async def _access(ctx: Ctx, wg: WorkingGroup) -> WebAccess:
    assert wg.id is not None
    return await webaccess.access_for(ctx.session, wg.id, ctx.now)


def record_url(ctx: Ctx, access: WebAccess) -> str | None:
    return webaccess.absolute(ctx.public_url, webaccess.record_path(access))


def feed_url(ctx: Ctx, access: WebAccess) -> str | None:
    """The calendar feed's address: the public one when the group is public, else the feed-only
    token's. Any member gets it (`/wg ics`, `/wg show` in the channel), so it never opens the record."""
    return webaccess.absolute(ctx.public_url, webaccess.feed_path(access))


async def feed_line(ctx: Ctx) -> str | None:
    """`Calendar feed: <url>` for replies about meetings, or None when nothing serves it."""
    if not ctx.public_url or ctx.wg is None:
        return None
    return (
        f"Calendar feed of every meeting (subscribe in your calendar app): {feed_url(ctx, await _access(ctx, ctx.wg))}"
    )


async def settings_fields(ctx: Ctx, wg: WorkingGroup) -> list[tuple[str, str]]:
    access = await _access(ctx, wg)
    return [
        ("Web record", "public" if access.public else "private (secret link)"),
        ("Summaries on the web", "on" if access.summaries else "off"),
    ]


async def apply_settings(ctx: Ctx, wg: WorkingGroup, public: bool | None, summaries: bool | None) -> list[str]:
    access = await _access(ctx, wg)
    changes: list[str] = []
    if public is not None:
        access.public = public
        changes.append("web record " + ("public" if public else "private"))
    if summaries is not None:
        access.summaries = summaries
        changes.append("summaries on the web " + ("on" if summaries else "off"))
    ctx.session.add(access)
    return changes


@command("web.link")
async def web_link(ctx: Ctx) -> Reply:
    wg = ctx.require_wg()
    action = ctx.cmd.positionals[0].lower() if ctx.cmd.positionals else ""
    if action not in ("", "rotate"):
        raise ctx.fail(f"Unknown `{ctx.cmd.positionals[0][:40]}`: say /wg web link, or /wg web link rotate.")
    ctx.require_convener("see or replace the web record's link")
    access = await _access(ctx, wg)
    if action == "rotate":
        webaccess.rotate(access, ctx.now)
        ctx.session.add(access)
        await ctx.session.flush()
    url = record_url(ctx, access)
    if url is None:
        return Reply(
            blocks=[
                Text(text=NO_PUBLIC_URL),
                Context(text="Set WGBOT_PUBLIC_URL and run wgbot run --web to serve it."),
            ],
            private=True,
        )
    head = "New link (the old one no longer works, nor the old calendar feed address)" if action == "rotate" else "Link"
    vis = "public: anyone can read it" if access.public else "private: only people with this link can read it"
    return Reply(
        blocks=[
            Text(text=f"{head} to “{wg.name}”'s web record: {url}"),
            Context(
                text=f"The record is {vis}. /wg web link rotate replaces the link and the calendar feed's "
                "address; /wg settings web:public|private."
            ),
        ],
        private=True,
    )
