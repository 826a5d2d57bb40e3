"""Plain words to wgbot, with a model configured: the one command it would run, shown for the
person to confirm with a button. The model never runs anything.

The suggestion must parse with the same grammar as typed text and name a command that exists; the
button carries that command text, so pressing it runs the command exactly as if the person had
typed it — same parser, same permissions, same errors. Anything else (no model, the person opted
out of AI, the group's monthly cap reached, no answer, an answer that does not parse) falls back to
the offline "did you mean" answer. What is sent: only the request, with e-mail addresses and phone
numbers redacted, between an unguessable boundary; never who asked.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func
from sqlmodel import col, select

import prompts
from bot.command import UserRef, Where
from bot.deps import Deps
from bot.errors import UserError
from bot.grammar import SPECS, parse
from bot.llm import LLMError, Message
from bot.mentions import neutralize
from bot.reply import Actions, Button, Context, Reply, Text
from bot.services.context import identity_is
from bot.spotlight import defuse, new_boundary
from bot.structured import Structured, Usage
from bot.transcript import redact
from storage.models import Channel, Identity, LlmUsage, Member

log = logging.getLogger(__name__)
MAX_REQUEST = 1000
MAX_COMMAND = 300


class Suggestion(BaseModel):
    model_config = ConfigDict(extra="ignore")
    command: str = ""
    why: str = ""


async def _group_of(deps: Deps, user: UserRef, where: Where) -> tuple[int | None, bool]:
    """The speaker's group (for accounting and the cap) and whether they opted out of AI."""
    async with deps.db.session() as s:
        idents = (await s.exec(select(Identity).where(*identity_is(user)))).all()
        members = [m for i in idents if (m := await s.get(Member, i.member_id)) is not None]
        if any(m.ai_opt_out for m in members):
            return None, True
        wg_ids = {m.wg_id for m in members}
        if not wg_ids:
            ch = (
                await s.exec(
                    select(Channel).where(Channel.platform == where.platform, Channel.channel_id == where.channel_id)
                )
            ).first()
            wg_ids = {ch.wg_id} if ch is not None else set()
        return (wg_ids.pop() if len(wg_ids) == 1 else None), False


async def _cap_reached(deps: Deps, wg_id: int, now: datetime) -> bool:
    if deps.monthly_token_cap is None:
        return False
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    async with deps.db.session() as s:
        used = (
            await s.exec(
                select(func.coalesce(func.sum(LlmUsage.tokens_in + LlmUsage.tokens_out), 0)).where(
                    LlmUsage.wg_id == wg_id, col(LlmUsage.at) >= start
                )
            )
        ).one()
    return int(used or 0) >= deps.monthly_token_cap


async def suggest_command(deps: Deps, typed: str, user: UserRef, where: Where, registered: set[str]) -> Reply | None:
    if deps.llm is None:
        return None
    wg_id, opted_out = await _group_of(deps, user, where)
    if opted_out or wg_id is None or await _cap_reached(deps, wg_id, deps.clock.now()):
        return None
    usages = "\n".join(f"{SPECS[n].usage}    ({SPECS[n].summary})" for n in sorted(registered) if n in SPECS)
    boundary = new_boundary()
    request = defuse(redact(typed.strip())[:MAX_REQUEST])
    messages = [
        Message("system", prompts.text("suggest_system.txt")),
        Message("user", prompts.render("suggest_user.j2", usages=usages, boundary=boundary, request=request)),
    ]
    usage = Usage(model=deps.llm.model)
    try:
        answer = await Structured(deps.llm, max_tokens=300).ask(messages, Suggestion, name="suggestion", usage=usage)
    except LLMError as exc:
        log.info("no command suggestion from the model: %s", exc)
        answer = None
    finally:
        if usage.calls:
            async with deps.db.transaction() as s:
                s.add(
                    LlmUsage(
                        wg_id=wg_id,
                        at=deps.clock.now(),
                        purpose="suggest",
                        model=(usage.model or deps.llm.model)[:100],
                        tokens_in=usage.tokens_in,
                        tokens_out=usage.tokens_out,
                        calls=usage.calls,
                    )
                )
    if answer is None:
        return None
    text = " ".join(answer.command.split()).removeprefix("/wg ").removeprefix("/wg").strip()
    if not text or len(text) > MAX_COMMAND or "\n" in answer.command:
        return None
    try:
        cmd = parse(text, user, where)
    except UserError:
        return None  # not a command the grammar accepts: never shown
    if cmd.name not in registered:
        return None
    return Reply(
        blocks=[
            Text(text="I think you mean this command. Nothing runs until you press the button:"),
            Text(text=neutralize(f"/wg {text}")),
            Actions(elements=[Button(label="Run it", action=text, style="primary")]),
            Context(
                text=f"Suggested by an AI model ({usage.model or deps.llm.model}); it runs with your own "
                "permissions, exactly as if you typed it. /wg help lists every command."
            ),
        ],
        private=True,
    )
