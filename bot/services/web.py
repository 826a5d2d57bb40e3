"""The web record's settings from chat: `/wg web link [rotate]`, `/wg web feed [rotate]`,
`/wg settings web:… summaries:…`.

The record itself is served by adapters/web; here only who may read it and where it is."""

from __future__ import annotations

from collections.abc import Callable

from bot import webaccess
from bot.errors import UserError
from bot.reply import Block, Context, Reply, Text
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


def _no_public_url(done: str) -> Reply:
    """The answer of `/wg web link|feed [rotate]` without WGBOT_PUBLIC_URL: what a rotation did
    (`done`, or nothing), and that there is no address to show."""
    return Reply(
        blocks=[
            Text(text=done + NO_PUBLIC_URL + (" There is no new address to show." if done else "")),
            Context(text="Set WGBOT_PUBLIC_URL and run wgbot run --web to serve it."),
        ],
        private=True,
    )


async def _show_or_rotate(
    ctx: Ctx, wg: WorkingGroup, what: str, why: str, rotate: Callable[[WebAccess], object]
) -> tuple[str, WebAccess]:
    """`/wg web link|feed [rotate]`'s common part: the action ("" or "rotate"), checked, for a
    convener only; on "rotate", the group's access rotated (by `rotate`) and flushed."""
    action = ctx.cmd.positionals[0].lower() if ctx.cmd.positionals else ""
    if action not in ("", "rotate"):
        raise ctx.fail(f"Unknown `{ctx.cmd.positionals[0][:40]}`: say /wg web {what}, or /wg web {what} rotate.")
    ctx.require_convener(why)
    access = await _access(ctx, wg)
    if action == "rotate":
        rotate(access)
        ctx.session.add(access)
        await ctx.session.flush()
    return action, access


@command("web.link")
async def web_link(ctx: Ctx) -> Reply:
    wg = ctx.require_wg()
    action, access = await _show_or_rotate(
        ctx, wg, "link", "see or replace the web record's link", lambda a: webaccess.rotate(a, ctx.now)
    )
    url = record_url(ctx, access)
    if url is None:
        # rotated all the same: links given out while an address was set (or a record served by
        # `wgbot run --web` behind a proxy) stop working, and the answer says so
        done = (
            "Replaced: the web record's link, the calendar feed's address and the answer and confirmation "
            "links in e-mails sent so far no longer work (the unsubscribe links in digests keep working). "
            if action == "rotate"
            else ""
        )
        return _no_public_url(done)
    if action == "rotate":
        head = (
            "New link (the old one no longer works, nor the old calendar feed address, nor the answer and "
            "confirmation links in e-mails sent so far)"
        )
        after = (
            "E-mailed reminders and check-ins from now on carry new links; the unsubscribe links in digests "
            "already sent keep working. "
        )
    else:
        head, after = "Link", ""
    vis = "public: anyone can read it" if access.public else "private: only people with this link can read it"
    return Reply(
        blocks=[
            Text(text=f"{head} to “{wg.name}”'s web record: {url}"),
            Context(
                text=f"The record is {vis}. {after}/wg web link rotate replaces the link, the calendar feed's "
                "address and the links in e-mails sent so far; /wg web feed rotate only the feed's address; "
                "/wg settings web:public|private."
            ),
        ],
        private=True,
    )


@command("web.feed")
async def web_feed(ctx: Ctx) -> Reply:
    """The calendar feed's address, or a new one (the old one 404s; the record's link and the e-mails'
    links stay): the feed is pasted into calendar apps and posted in the channel, so it leaks more
    easily than the record's link, and replacing it alone costs nobody the record's address."""
    wg = ctx.require_wg()
    action, access = await _show_or_rotate(
        ctx, wg, "feed", "see or replace the calendar feed's address", webaccess.rotate_feed
    )
    if not ctx.public_url:
        done = "Replaced: the calendar feed's address no longer works. " if action == "rotate" else ""
        return _no_public_url(done)
    private_feed = webaccess.absolute(ctx.public_url, f"/f/{access.feed_token}/calendar.ics")
    if action == "rotate":
        head = "New calendar feed address (the old one no longer works; whoever subscribed to it subscribes again)"
    else:
        head = "Calendar feed address"
    lines: list[Block] = [Text(text=f"{head} of “{wg.name}”: {private_feed}")]
    if access.public:
        lines.append(
            Context(
                text=f"The record is public, so its feed is also at {feed_url(ctx, access)}, which only "
                "/wg settings web:private closes."
            )
        )
    else:
        lines.append(
            Context(
                text="/wg ics and /wg show give members this address. The record's link and the links in "
                "e-mails are unchanged (/wg web link rotate replaces those too)."
            )
        )
    return Reply(blocks=lines, private=True)
