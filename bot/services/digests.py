"""Weekly digests: planned through the engine, delivered through the outbox, archived.

One `digest.send` job per group is pending at a time, keyed by its due time: executed exactly once
(engine), it composes the week, archives it, records one outbox message per bound channel, DM
subscriber and e-mail subscriber (each in the reader's zone), and plans the next one in the same
transaction. After downtime the job runs late with the engine's late note; a digest more than six
days late is not sent (the next one covers the week) but the chain goes on. `ensure_planned` heals a
group without a pending job (a new group, a database from before digests, a failed job) at start-up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import ratelimit
from bot.digest.compose import Digest as Composed
from bot.digest.compose import compose
from bot.digest.sections import Period
from bot.emaillinks import CONFIRM_ACTION, LIFETIMES, with_unsubscribe
from bot.engine import JobContext, cancel_jobs, job_handler, schedule
from bot.errors import Forbidden, UserError
from bot.grammar import quote
from bot.outbox import ENQUEUE_BATCH, Destination, Queued, enqueue, enqueue_many
from bot.ratelimit import Limit
from bot.reply import Actions, Button, Context, Heading, Reply, Text
from bot.services.context import (
    Ctx,
    channel_destinations,
    command,
    dm_destinations,
    email_destination,
    email_only,
)
from bot.services.members import valid_email
from bot.timefmt import fmt_short
from bot.timeparse import localize
from bot.webaccess import access_for, signed_path
from storage.db import Database
from storage.models import Digest, Identity, Member, ScheduledJob, WorkingGroup

KIND = "digest.send"
#: a digest later than this is not sent: the next one covers the week
TOO_LATE = timedelta(days=6)
#: records (destination, reply, part) messages in the outbox, in order; returns how many were new
SendAll = Callable[[list[tuple[Destination, Reply, str]]], Awaitable[int]]
#: confirmation e-mails (`/wg digest subscribe email:`) one member may cause a day, whatever the addresses
CONFIRMATIONS_PER_MEMBER = Limit(3, timedelta(days=1))
#: confirmation e-mails one mailbox may receive a day, whoever asks (`victim+1@…`, `Victim@…` are one)
CONFIRMATIONS_PER_MAILBOX = Limit(3, timedelta(days=1))


def next_due(wg: WorkingGroup, after: datetime) -> datetime | None:
    """The first digest time strictly after `after`, on the group's weekday and local time."""
    if wg.digest_weekday is None:
        return None
    zone = ZoneInfo(wg.timezone)
    hh, mm = (int(x) for x in wg.digest_time.split(":"))
    day = after.astimezone(zone).date()
    for i in range(8):
        d = day + timedelta(days=i)
        if d.weekday() != wg.digest_weekday:
            continue
        at = localize(datetime.combine(d, time(hh, mm)), wg.timezone)
        if at > after:
            return at
    raise AssertionError("a weekday recurs within 8 days")


def _ref(wg: WorkingGroup) -> str:
    return f"digest:wg{wg.id}"


async def plan(session: AsyncSession, wg: WorkingGroup, now: datetime, *, after: datetime | None = None) -> bool:
    due = next_due(wg, after or now)
    if due is None:
        return False
    key = f"digest:wg{wg.id}:{due:%Y%m%dT%H%MZ}"
    made = await schedule(
        session, kind=KIND, key=key, due_at=due, now=now, wg_id=wg.id, ref=_ref(wg),
        payload={"wg_id": wg.id, "due": due.isoformat()},
    )  # fmt: skip
    if not made:
        # the schedule went back to a time whose job a settings change had cancelled: revive it
        revived = await session.exec(
            update(ScheduledJob)
            .where(col(ScheduledJob.key) == key, col(ScheduledJob.status) == "cancelled")
            .values(status="pending", not_before=due, attempts=0, done_at=None, note=None, claimed_by=None)
        )
        made = bool(revived.rowcount)
    return made


async def _pending(session: AsyncSession, wg: WorkingGroup) -> list[ScheduledJob]:
    q = select(ScheduledJob).where(ScheduledJob.ref == _ref(wg), col(ScheduledJob.status).in_(("pending", "running")))
    return list((await session.exec(q)).all())


async def replan(session: AsyncSession, wg: WorkingGroup, now: datetime) -> None:
    """After a settings change: the pending digest moves to the new weekday/time (or is dropped)."""
    due = next_due(wg, now)
    pending = await _pending(session, wg)
    if due is not None and any(j.due_at == due for j in pending):
        return
    await cancel_jobs(session, _ref(wg), now, "the digest schedule changed")
    if due is not None:
        await plan(session, wg, now)


async def ensure_planned(db: Database, now: datetime) -> int:
    """Give every group with a digest schedule a pending digest job; returns how many were planned."""
    made = 0
    async with db.transaction() as s:
        for wg in (await s.exec(select(WorkingGroup).where(col(WorkingGroup.digest_weekday).is_not(None)))).all():
            if not await _pending(s, wg):
                made += await plan(s, wg, now)
    return made


async def deliver(session: AsyncSession, digest: Composed, send_all: SendAll, now: datetime) -> int:
    """One message per bound channel (group zone), DM subscriber and e-mail subscriber (their zone),
    handed to `send_all` in order, ENQUEUE_BATCH at a time (the outbox records each list in batched
    INSERTs, not one per reader; the lists stay short so memory does not grow with the group);
    returns how many messages the digest has."""
    wg = digest.wg
    assert wg.id is not None
    count = 0
    out: list[tuple[Destination, Reply, str]] = []
    for ch, dest in await channel_destinations(session, wg.id):
        out.append((dest, digest.render(wg.timezone), f"ch{ch.id}"))
    members = (
        await session.exec(
            select(Member).where(Member.wg_id == wg.id, col(Member.erased_at).is_(None)).order_by(col(Member.id))
        )
    ).all()
    dms = await dm_destinations(session, [m for m in members if m.digest_dm])
    # the group's web access row, held for the loop: every e-mail reader's signed unsubscribe link
    # reads it, and the session forgets rows nobody references (one query per reader otherwise)
    access = await access_for(session, wg.id, now) if any(m.digest_email and m.email for m in members) else None
    for m in members:
        if m.digest_dm:
            assert m.id is not None
            dm = dms[m.id]
            if dm is not None and dm.platform != "email":
                out.append((dm, digest.render(m.timezone), f"dm{m.id}"))
        if m.digest_email and m.email:
            # with its signed one-click unsubscribe link (footer and List-Unsubscribe header)
            reply = await with_unsubscribe(session, digest.render(m.timezone, email=True), m, now)
            out.append((email_destination(m.email), reply, f"email{m.id}"))
        if len(out) >= ENQUEUE_BATCH:
            count += len(out)
            await send_all(out)
            out = []
    del access  # held until every link is signed
    if out:
        await send_all(out)
    return count + len(out)


def archive(digest: Composed, now: datetime, *, trigger: str, late: bool) -> Digest:
    assert digest.wg.id is not None
    reply = digest.render(digest.wg.timezone)
    return Digest(
        wg_id=digest.wg.id,
        week=digest.period.week,
        period_start=digest.period.start,
        period_end=digest.period.end,
        trigger=trigger,
        late=late,
        quiet=digest.quiet,
        text=reply.to_text(),
        payload=reply.model_dump(mode="json"),
        created_at=now,
    )


@job_handler(KIND, grace=False)
async def digest_job(ctx: JobContext) -> None:
    wg = await ctx.session.get(WorkingGroup, ctx.payload["wg_id"])
    due = datetime.fromisoformat(ctx.payload["due"])
    if wg is None or wg.digest_weekday is None:
        ctx.notes.append("the digest is off")
        return
    # the chain goes on whatever happens to this one
    await plan(ctx.session, wg, ctx.now, after=max(due, ctx.now))
    if ctx.now - due > TOO_LATE:
        ctx.notes.append(f"not sent: {ctx.now - due} late; the next digest covers the week")
        return
    digest = await compose(ctx.session, wg, Period(due - timedelta(days=7), due))

    sent = await deliver(ctx.session, digest, ctx.send_many, ctx.now)
    ctx.session.add(archive(digest, ctx.now, trigger="scheduled", late=ctx.late_by is not None))
    ctx.notes.append(f"{sent} digest message(s)")


# ---------------------------------------------------------------- commands


def building(wg: WorkingGroup, now: datetime) -> Period:
    """The period of the digest being built at `now`: from the last scheduled digest to the next one.
    At the digest minute itself the one just due is already sent (or being sent), so it is the next
    week's. Without a schedule (`digest:off`): the last seven days."""
    due = next_due(wg, now)
    if due is None:
        return Period(now - timedelta(days=7), now)
    return Period(due - timedelta(days=7), due)


@command("digest.preview")
async def preview(ctx: Ctx) -> Reply:
    wg = ctx.require_wg()
    ctx.require_member()
    period = building(wg, ctx.now)
    digest = await compose(ctx.session, wg, Period(period.start, period.end, as_of=ctx.now))
    reply = digest.render(ctx.tz)
    reply.private = True
    return reply


@command("digest.send")
async def send_now(ctx: Ctx) -> Reply:
    ctx.require_convener("send the digest")
    wg = ctx.require_wg()
    digest = await compose(ctx.session, wg, Period(ctx.now - timedelta(days=7), ctx.now))
    stamp = f"{ctx.now:%Y%m%dT%H%M%S}:{ctx.rng.getrandbits(32):08x}"

    async def send_all(messages: list[tuple[Destination, Reply, str]]) -> int:
        key = f"digest:manual:wg{wg.id}:{stamp}"
        queued = [Queued(f"{key}:{part}", dest, reply, wg.id) for dest, reply, part in messages]
        return await enqueue_many(ctx.session, queued, now=ctx.now)

    sent = await deliver(ctx.session, digest, send_all, ctx.now)
    ctx.session.add(archive(digest, ctx.now, trigger="manual", late=False))
    return Reply.text(f"Digest sent now: {sent} message(s) (channels and subscribers).", private=True)


@command("digest.subscribe")
async def subscribe(ctx: Ctx) -> Reply:
    m = ctx.require_member()
    how = (ctx.cmd.positionals[0].strip().lower() if ctx.cmd.positionals else "") or None
    address = ctx.cmd.options.get("email")
    ref = (ctx.cmd.options.get("for") or "").strip()
    if ref:
        # a convener subscribes a member's address (trusted with addresses, as with /wg member add):
        # the way a member gets the e-mailed digest where nothing can be confirmed (no WGBOT_PUBLIC_URL)
        ctx.require_convener("subscribe other members")
        if address is None or how not in (None, "email"):
            raise ctx.fail("With for:<member>, give the address: /wg digest subscribe email:<address> for:<member>.")
        email = valid_email(address)
        target = await ctx.member_by_ref(ref)
        if target.digest_email and (target.email or "").lower() == email.lower():
            raise UserError(f"{target.display_name} already receives the digest by e-mail at {email}.")
        previous = target.email
        target.email, target.digest_email = email, True
        ctx.session.add(target)
        told = ""
        if target.id != m.id:
            replaced = (
                f" It replaces {previous} as the address on your profile."
                if previous and previous.lower() != email.lower()
                else ""
            )
            stop_how = (
                "reply “unsubscribe” to it" if await email_only(ctx.session, target) else "/wg digest unsubscribe email"
            )
            reached = await _tell(
                ctx,
                target,
                f"{m.display_name}, a convener, subscribed {email} to the weekly digest of this working group: "
                f"it will be e-mailed there, times in {target.timezone}.{replaced} To stop it: {stop_how}.",
            )
            told = f" {target.display_name} is told privately." if reached else ""
        return Reply.text(
            f"{target.display_name} will receive the weekly digest by e-mail at {email}, times in "
            f"{target.timezone}.{told}",
            private=True,
        )
    if address is not None:
        if how not in (None, "email"):
            raise ctx.fail("Choose one: dm, or email:<address>.")
        email = valid_email(address)
        if m.digest_email and (m.email or "").lower() == email.lower():
            raise UserError(f"You already receive the digest by e-mail at {email}.")
        if m.role == "convener":
            # a convener is trusted with addresses (as with /wg member add)
            return subscribe_email(ctx, m, email)
        if not ctx.public_url:
            # nothing can be confirmed without a web address for the link, and a profile's address
            # (/wg join … email:) is not confirmed either: it could be anyone's inbox
            raise Forbidden(
                f"wgbot sends the digest only to an address its owner has confirmed, and this deployment "
                f"cannot send confirmation links (WGBOT_PUBLIC_URL is not set), so members cannot subscribe "
                f"an address themselves. Ask a convener to subscribe it for you "
                f"(/wg digest subscribe email:{email} for:{quote(m.display_name)}), or the operator to set "
                f"WGBOT_PUBLIC_URL. /wg digest subscribe dm works now."
            )
        return await send_confirmation(ctx, m, email)
    if how not in (None, "dm"):
        raise ctx.fail(f"`{how[:20]}` is not a way to receive it: use dm, or email:<address>.")
    has_chat = (await ctx.session.exec(select(Identity.id).where(Identity.member_id == m.id).limit(1))).first()
    if has_chat is None:
        raise UserError("You have no chat account to receive DMs on; use email:<address>.")
    if m.digest_dm:
        raise UserError("You already receive the digest by DM.")
    m.digest_dm = True
    ctx.session.add(m)
    return Reply.text(f"You will receive the weekly digest by DM, times in {m.timezone}.", private=True)


def subscribe_email(ctx: Ctx, m: Member, email: str) -> Reply:
    m.email, m.digest_email = email, True
    ctx.session.add(m)
    return Reply.text(f"You will receive the weekly digest by e-mail at {email}, times in {m.timezone}.", private=True)


def mailbox(email: str) -> str:
    """The inbox an address delivers to, as far as can be told: case, a `+tag` and (at Gmail) dots
    do not make another mailbox."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _confirm_keys(m: Member, email: str) -> list[tuple[str, Limit, str]]:
    digest = hashlib.sha256(mailbox(email).encode()).hexdigest()[:32]
    return [
        (f"digest-confirm:member:{m.id}", CONFIRMATIONS_PER_MEMBER, "you have asked for"),
        # the address itself is not kept in rate_counters, only a digest of it
        (f"digest-confirm:mailbox:{digest}", CONFIRMATIONS_PER_MAILBOX, "this mailbox has been sent"),
    ]


def _too_many(ctx: Ctx, m: Member, limit: Limit, who: str) -> UserError:
    again = ratelimit.window_start(ctx.now, limit.window) + limit.window
    left = again - ctx.now
    hours, minutes = divmod(max(1, int(left.total_seconds() // 60)), 60)
    wait = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return UserError(
        f"No confirmation e-mail sent: {who} {limit.count} digest confirmation e-mails today, the most "
        f"allowed in a day (so that nobody can fill someone's inbox). Try again after "
        f"{fmt_short(again, m.timezone)} (in {wait}), or ask a convener to subscribe the address."
    )


async def send_confirmation(ctx: Ctx, m: Member, email: str) -> Reply:
    """Double opt-in: e-mail `email` a signed link that subscribes it (adapters/web/actions.py, then
    `confirm` below); nothing changes until its owner opens it. One per address and member a day,
    and at most `CONFIRMATIONS_PER_MEMBER` per member and `CONFIRMATIONS_PER_MAILBOX` per mailbox
    (`mailbox`) a day; a refusal is not counted."""
    assert m.id is not None
    limits = _confirm_keys(m, email)
    for key, limit, who in limits:
        if await ratelimit.used(ctx.session, key, limit, ctx.now) >= limit.count:
            raise _too_many(ctx, m, limit, who)
    lifetime = LIFETIMES["confirm"]
    path = await signed_path(
        ctx.session, wg_id=m.wg_id, member_id=m.id, purpose="confirm", subject=email, now=ctx.now, lifetime=lifetime
    )
    wg = ctx.require_wg()
    mail = Reply(
        blocks=[
            Heading(text=f"Confirm the weekly digest of “{wg.name}”"),
            Text(
                text=(
                    f"{m.display_name}, a member of the working group “{wg.name}”, asked for its weekly digest "
                    f"to be sent to {email}. To confirm, open the link below within {lifetime.days} days."
                )
            ),
            Actions(elements=[Button(label="Confirm", action=CONFIRM_ACTION, link=path)]),
            Context(text="If you did not ask for this, ignore this e-mail: nothing more is sent to this address."),
        ],
        kind="announcement",
    )
    key = f"digest:confirm:{m.id}:{email.lower()}:{ctx.now.date().isoformat()}"
    sent = await enqueue(
        ctx.session, key=key, destination=email_destination(email), reply=mail, now=ctx.now, wg_id=m.wg_id
    )
    if not sent:
        raise UserError(f"A confirmation link was already sent to {email} today; open it from that mailbox.")
    for key, limit, who in limits:
        # counted once the e-mail is queued; two requests at once: the later one's transaction undoes it all
        if await ratelimit.hit(ctx.session, key, limit, ctx.now) > limit.count:
            raise _too_many(ctx, m, limit, who)
    return Reply.text(
        f"A confirmation link is on its way to {email}. The digest goes there once it is opened "
        f"(within {lifetime.days} days); until then nothing changes.",
        private=True,
    )


def confirm(session: AsyncSession, m: Member, email: str) -> str:
    """The confirmation link was opened: `m`'s digest goes to `email` (the one code path after the
    double opt-in; a second click says so)."""
    if m.digest_email and (m.email or "").lower() == email.lower():
        return f"The digest already goes to {email}; nothing to change."
    m.email, m.digest_email = email, True
    session.add(m)
    return f"Confirmed: the weekly digest of the working group will be sent to {email}."


@command("digest.unsubscribe")
async def unsubscribe(ctx: Ctx) -> Reply:
    me = m = ctx.require_member()
    how = ctx.cmd.positionals[0].strip().lower() if ctx.cmd.positionals else ""
    if how not in ("", "all", "dm", "email", "e-mail"):
        raise ctx.fail(f"`{how[:20]}` is not a subscription: use dm or email (or nothing for both).")
    if (ctx.cmd.options.get("for") or "").strip():
        # the counterpart of `subscribe … for:` (an e-mail-only member replied "unsubscribe", a member's
        # address is to go): a convener stops a member's e-mailed digest; DMs are the member's own choice
        ctx.require_convener("unsubscribe other members")
        m = await ctx.member_by_ref(ctx.cmd.options["for"])
        if m.id != me.id and not await email_only(ctx.session, m):
            if how == "dm":
                raise Forbidden(
                    f"A convener stops only a member's e-mailed digest; {m.display_name} stops the DMs in the chat "
                    "(/wg digest unsubscribe dm)."
                )
            how = "email"
    how = how or "all"
    if m.id == me.id:
        stopped = stop(ctx.session, m, how)
        return Reply.text(f"Digest by {stopped} stopped. It is still posted in the group's channels.", private=True)
    address = m.email
    stopped = stop(ctx.session, m, how, who=f"{m.display_name} is")
    again = (
        "to receive it again, reply to ask a convener"
        if await email_only(ctx.session, m)
        else "to receive it again: /wg digest subscribe"
    )
    reached = await _tell(
        ctx,
        m,
        f"{me.display_name}, a convener, stopped your weekly digest of this working group by {stopped}"
        f"{f' (to {address})' if 'e-mail' in stopped and address else ''}; {again}.",
    )
    return Reply.text(
        f"{m.display_name} no longer receives the digest by {stopped}."
        + (f" {m.display_name} is told privately." if reached else ""),
        private=True,
    )


async def _tell(ctx: Ctx, member: Member, text: str) -> bool:
    """A private notice to `member` about what a convener changed in their digest subscription, through
    the outbox (their DM, or their address for an e-mail-only member), as other notices to members."""
    wg = ctx.require_wg()
    notice = Reply(
        blocks=[Heading(text=f"Your weekly digest of “{wg.name}”"), Text(text=text)],
        kind="announcement",
    )
    return await ctx.dm(member, notice, key=f"digest:for:{member.id}:{ctx.now.isoformat()}:{ctx.rng.getrandbits(32)}")


def stop(session: AsyncSession, m: Member, how: str, who: str = "You are") -> str:
    """Stop `m`'s digest by DM, e-mail or both (`how`: dm, email, all): the one code path of
    `/wg digest unsubscribe` and of the one-click link in e-mailed digests. Returns what stopped
    ("DM", "e-mail", "DM and e-mail"); refuses when nothing was subscribed, naming `who` ("You are",
    or "Zara is" when a convener acts for her)."""
    stop_dm = how in ("all", "dm") and m.digest_dm
    stop_email = how in ("all", "email", "e-mail") and m.digest_email
    if not stop_dm and not stop_email:
        what = {"dm": "by DM", "email": "by e-mail", "e-mail": "by e-mail"}.get(how, "by DM or e-mail")
        raise UserError(f"{who} not subscribed to the digest {what}; nothing to stop.")
    if stop_dm:
        m.digest_dm = False
    if stop_email:
        m.digest_email = False
    session.add(m)
    return " and ".join(w for w, on in (("DM", stop_dm), ("e-mail", stop_email)) if on)
