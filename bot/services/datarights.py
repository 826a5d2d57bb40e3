"""`/wg privacy export` and `/wg privacy erase` (the data itself: bot/privacy.py)."""

from __future__ import annotations

from bot.errors import Forbidden
from bot.privacy import erase_member, export_json, export_member, sole_convener
from bot.reply import Actions, Attachment, Button, Context, Heading, Reply, Text
from bot.services.context import Ctx, command


@command("privacy.export")
async def export(ctx: Ctx) -> Reply:
    member = ctx.require_member()
    data = await export_member(ctx.session, member, ctx.now)
    return Reply(
        blocks=[
            Text(text="Everything wgbot holds about you, as a JSON file (only you see this)."),
            Attachment(
                filename=f"wgbot-my-data-{ctx.now:%Y%m%d}.json", content=export_json(data), mime="application/json"
            ),
        ],
        private=True,
    )


@command("privacy.erase")
async def erase(ctx: Ctx) -> Reply:
    member = ctx.require_member()
    if await sole_convener(ctx.session, member):
        raise Forbidden("You are the group's only convener: make someone else convener first (/wg role).")
    if "confirm" not in ctx.cmd.flags:
        return Reply(
            blocks=[
                Heading(text="Erase your data?"),
                Text(
                    text=(
                        "This removes your profile, your chat accounts, your e-mail address, your subscriptions and "
                        "RSVPs, and your name from the digest archive. Your proposals and answers stay in the "
                        "group's record, attributed to “a former member”; ballots stay counted but no longer linked "
                        "to you. It cannot be undone. Consider /wg privacy export first."
                    )
                ),
                Actions(elements=[Button(label="Erase my data", action="privacy erase confirm", style="danger")]),
                Context(text="Or type /wg privacy erase confirm"),
            ],
            private=True,
        )
    counts = await erase_member(ctx.session, member, ctx.now)
    ctx.member = None
    detail = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    return Reply.text(
        f"Your data was erased{f' ({detail})' if detail else ''}. Your contributions now read “a former member”. "
        "Goodbye, and thank you.",
        private=True,
    )
