"""Proposals: P<n>, with amendments kept as history."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import col, func, select

from bot.errors import Forbidden, NotFound, UserError
from bot.reply import Context, Divider, Fields, Form, FormField, Heading, Reply, Response, Text
from bot.sanitize import clean, clean_line
from bot.services.context import Ctx, command, parse_ref, shows
from bot.timefmt import fmt, fmt_date
from bot.vocab import PROPOSAL_STATUSES, theme
from storage.models import Member, Proposal, ProposalRevision

MAX_TITLE = 200
MAX_BODY = 4000
LIST_LIMIT = 25
PROPOSE_USAGE = '/wg propose "<title>" <body> [theme:<theme>]'


def valid_title(raw: str) -> str:
    title = clean_line(raw)
    if not title:
        raise UserError(
            'The title is empty: put it in quotes, e.g. /wg propose "Shared incident taxonomy" …',
            PROPOSE_USAGE,
        )
    if len(title) > MAX_TITLE:
        raise UserError(f"The title is too long ({len(title)} characters; the limit is {MAX_TITLE}).", PROPOSE_USAGE)
    return title


def valid_body(raw: str) -> str:
    body = clean(raw).strip()
    if not body:
        raise UserError("The proposal needs a body: say what you propose after the quoted title.", PROPOSE_USAGE)
    if len(body) > MAX_BODY:
        raise UserError(f"The body is too long ({len(body)} characters; the limit is {MAX_BODY}).", PROPOSE_USAGE)
    return body


_PROPOSAL = select(Proposal).where(Proposal.wg_id == bindparam("wg_id"), Proposal.number == bindparam("number"))


async def get_proposal(ctx: Ctx, ref: str) -> Proposal:
    wg = ctx.require_wg()
    number = parse_ref(ref, "P", "proposal")
    p = (await ctx.session.exec(_PROPOSAL, params={"wg_id": wg.id, "number": number})).first()
    if p is None:
        raise NotFound(f"There is no proposal P{number} in this working group.")
    return p


async def _name(ctx: Ctx, member_id: int | None) -> str:
    if member_id is None:
        return "a former member"
    m = await ctx.session.get(Member, member_id)
    if m is None or m.erased_at is not None:
        return "a former member"
    return f"{m.display_name} ({m.stakeholder_group})"


def _can_edit(member: Member, p: Proposal) -> bool:
    return member.role == "convener" or p.author_id == member.id


async def proposal_card(ctx: Ctx, p: Proposal, tz: str, *, heading: str | None = None) -> Reply:
    fields = [("Status", p.status), ("Author", await _name(ctx, p.author_id))]
    if p.theme:
        fields.append(("Theme", p.theme))
    fields.append(("Proposed", fmt(p.created_at, tz)))
    return Reply(
        blocks=[
            Heading(text=heading or f"P{p.number}: {p.title}"),
            Text(text=p.body),
            Fields(items=fields),
        ]
    )


@command("propose")
async def propose(ctx: Ctx) -> Response | Reply:
    member = ctx.require_participant("make proposals")
    wg = ctx.require_wg()
    opts = ctx.cmd.options
    raw_title = opts["title"] if "title" in opts else (ctx.cmd.positionals[0] if ctx.cmd.positionals else None)
    raw_body = opts["body"] if "body" in opts else ctx.cmd.rest
    if raw_title is None and not raw_body.strip():
        return Response(
            form=Form(
                title="New proposal",
                action="propose",
                submit_label="Propose",
                fields=[
                    FormField(name="title", label="Title", max_length=MAX_TITLE),
                    FormField(name="body", label="What do you propose?", multiline=True, max_length=MAX_BODY),
                    FormField(
                        name="theme",
                        label="Theme (optional)",
                        required=False,
                        max_length=100,
                        placeholder="; ".join(wg.themes)[:150],
                    ),
                ],
            ),
            replies=[Reply.error("Give a title in quotes and a body.", PROPOSE_USAGE)],
        )
    if raw_title is None:
        raise UserError("Put the title in double quotes, then the body.", PROPOSE_USAGE)
    title = valid_title(raw_title)
    body = valid_body(raw_body)
    chosen = theme(opts["theme"], wg.themes) if opts.get("theme") else None
    number = await ctx.next_number("P")
    p = Proposal(
        wg_id=wg.id,  # type: ignore[arg-type]
        number=number,
        title=title,
        body=body,
        theme=chosen,
        author_id=member.id,
        status="open",
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(p)
    await ctx.session.flush()
    assert p.id is not None
    ctx.session.add(
        ProposalRevision(proposal_id=p.id, revision=1, title=title, body=body, editor_id=member.id, created_at=ctx.now)
    )
    card = await proposal_card(ctx, p, wg.timezone, heading=f"New proposal P{number}: {title}")
    card.blocks.append(Context(text=f"Discuss in a thread; see it with /wg show P{number}."))
    await ctx.announce(card, key=f"proposal:{p.id}:created")
    return Reply.text(f"Proposal P{number} recorded and announced.", private=True)


@command("proposals")
async def proposals(ctx: Ctx) -> Reply:
    wg = ctx.require_wg()
    status = ctx.cmd.positionals[0].lower() if ctx.cmd.positionals else "active"
    if status not in (*PROPOSAL_STATUSES, "all", "active"):
        raise UserError(
            f"Unknown status `{status[:20]}`. Use one of: {', '.join(PROPOSAL_STATUSES)}, all.",
            "/wg proposals [open|voting|accepted|rejected|withdrawn|all]",
        )
    q = select(Proposal).where(Proposal.wg_id == wg.id)
    if status == "active":
        q = q.where(col(Proposal.status).in_(("open", "voting")))
    elif status != "all":
        q = q.where(Proposal.status == status)
    total = (await ctx.session.exec(select(func.count()).select_from(q.subquery()))).one()
    rows = (await ctx.session.exec(q.order_by(col(Proposal.number)).limit(LIST_LIMIT))).all()
    label = "open or voting" if status == "active" else status
    if not rows:
        return Reply.text(f"No proposals ({label}). Make one with {PROPOSE_USAGE}")
    lines = [
        f"P{p.number} [{p.status}] {p.title}"
        + (f" · {p.theme}" if p.theme else "")
        + f" · {fmt_date(p.created_at, ctx.tz)}"
        for p in rows
    ]
    blocks = [Heading(text=f"Proposals ({label}): {total}"), Text(text="\n".join(lines))]
    if total > len(rows):
        blocks.append(Context(text=f"Showing the first {len(rows)} of {total}."))
    return Reply(blocks=blocks)


_REVISIONS = (
    select(ProposalRevision)
    .where(ProposalRevision.proposal_id == bindparam("proposal_id"))
    .order_by(col(ProposalRevision.revision))
)


@shows("P")
async def show_proposal(ctx: Ctx, number: int) -> Reply:
    p = await get_proposal(ctx, f"P{number}")
    card = await proposal_card(ctx, p, ctx.tz)
    revs = (await ctx.session.exec(_REVISIONS, params={"proposal_id": p.id})).all()
    if len(revs) > 1:
        history = [f"r{r.revision} {fmt(r.created_at, ctx.tz)} by {await _name(ctx, r.editor_id)}" for r in revs]
        card.blocks += [Divider(), Context(text="History: " + "; ".join(history))]
    return card


@command("show")
async def show(ctx: Ctx) -> Response | Reply:
    from bot.services.context import SHOW_HANDLERS

    ctx.require_wg()
    ref = ctx.cmd.positionals[0].strip().lstrip("#").upper()
    letter = ref[:1]
    if letter not in SHOW_HANDLERS or not (ref[1:].isascii() and ref[1:].isdigit()) or len(ref) > 10:
        kinds = ", ".join(f"{k}<n>" for k in sorted(SHOW_HANDLERS))
        raise UserError(f"`{ctx.cmd.positionals[0][:40]}` is not an id I know; use one of {kinds}.", ctx.spec_usage)
    return await SHOW_HANDLERS[letter](ctx, int(ref[1:]))


@command("amend")
async def amend(ctx: Ctx) -> Reply:
    member = ctx.require_participant("amend proposals")
    p = await get_proposal(ctx, ctx.cmd.positionals[0])
    if not _can_edit(member, p):
        raise Forbidden(f"Only the author of P{p.number} or a convener can amend it.")
    if p.status != "open":
        raise UserError(f"P{p.number} is {p.status}; only open proposals can be amended.")
    body = valid_body(ctx.cmd.rest)
    if body == p.body:
        raise UserError(f"That is already the text of P{p.number}.")
    last = (
        await ctx.session.exec(select(func.max(ProposalRevision.revision)).where(ProposalRevision.proposal_id == p.id))
    ).one()
    p.body = body
    p.updated_at = ctx.now
    ctx.session.add(p)
    ctx.session.add(
        ProposalRevision(
            proposal_id=p.id,  # type: ignore[arg-type]
            revision=(last or 0) + 1,
            title=p.title,
            body=body,
            editor_id=member.id,
            created_at=ctx.now,
        )
    )
    await ctx.session.flush()
    wg = ctx.require_wg()
    card = await proposal_card(ctx, p, wg.timezone, heading=f"P{p.number} amended by {member.display_name}: {p.title}")
    await ctx.announce(card, key=f"proposal:{p.id}:rev{(last or 0) + 1}")
    return Reply.text(
        f"P{p.number} amended (revision {(last or 0) + 1}); the earlier text is kept in its history.",
        private=True,
    )


@command("withdraw")
async def withdraw(ctx: Ctx) -> Reply:
    member = ctx.require_participant("withdraw proposals")
    p = await get_proposal(ctx, ctx.cmd.positionals[0])
    if not _can_edit(member, p):
        raise Forbidden(f"Only the author of P{p.number} or a convener can withdraw it.")
    if p.status not in ("open", "voting"):
        raise UserError(f"P{p.number} is already {p.status}.")
    p.status = "withdrawn"
    p.updated_at = ctx.now
    ctx.session.add(p)
    await ctx.session.flush()
    await ctx.announce(
        Reply.text(f"P{p.number} “{p.title}” was withdrawn by {member.display_name}."),
        key=f"proposal:{p.id}:withdrawn",
    )
    return Reply.text(f"P{p.number} withdrawn.", private=True)
