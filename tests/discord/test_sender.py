"""The outbox's Discord sender against the loopback server: addresses, nonces, splitting, failures."""

from __future__ import annotations

import pytest
from sqlmodel import select

from adapters.discord.sender import DiscordSender, nonce_for
from bot.clock import VirtualClock
from bot.outbox import DeliveryError, Destination, Outgoing, enqueue
from bot.reply import Fields, Heading, Reply, Text
from storage.models import OutboxMessage
from tests.discord.conftest import Bot
from tests.fakes.discord_server import DiscordServer

CHANNEL_MESSAGES = r"^/channels/(\d+)/messages$"


def outgoing(address: str, reply: Reply, *, key: str = "k1", clock: VirtualClock) -> Outgoing:
    return Outgoing(
        id=1,
        key=key,
        destination=Destination("discord", address, "test"),
        kind=reply.kind,
        reply=reply,
        attempts=1,
        created_at=clock.now(),
    )


async def test_a_resend_after_a_crash_is_dropped_by_the_nonce(
    bot: Bot, server: DiscordServer, clock: VirtualClock
) -> None:
    sender = DiscordSender(bot.client)
    msg = outgoing(f"channel:{server.channel_id}", Reply.text("Reminder @everyone", kind="reminder"), clock=clock)
    first = await sender.send(msg)
    again = await sender.send(msg)  # the outbox lost its mark and sends the row again
    assert first is not None and first == again
    posts = server.matching("POST", CHANNEL_MESSAGES)
    assert len(posts) == 2 and {p.body["nonce"] for p in posts} == {nonce_for("k1")}
    assert all(p.body["enforce_nonce"] is True and p.body["allowed_mentions"] == {"parse": []} for p in posts)
    assert len(server.bot_messages()) == 1
    assert "@everyone" not in server.bot_messages()[0]["embeds"][0]["description"]


async def test_thread_and_dm_addresses(bot: Bot, server: DiscordServer, clock: VirtualClock) -> None:
    sender = DiscordSender(bot.client)
    await sender.send(
        outgoing(f"thread:{server.channel_id}/{server.thread_id}", Reply.text("in the thread"), clock=clock)
    )
    assert server.matching("POST", rf"^/channels/{server.thread_id}/messages$")
    user = server.user(800000000000000009, "carol")
    await sender.send(outgoing(f"dm:{user.id}", Reply.text("hello"), key="k2", clock=clock))
    await sender.send(outgoing(f"dm:{user.id}", Reply.text("again"), key="k3", clock=clock))
    assert len(server.matching("POST", r"^/users/@me/channels$")) == 1, "the DM channel is opened once"
    assert len(server.messages[server.dm_channel_of(user.id)]) == 2
    with pytest.raises(DeliveryError) as bad:
        await sender.send(outgoing("email:someone@example.org", Reply.text("x"), key="k4", clock=clock))
    assert bad.value.permanent


async def test_a_long_digest_is_split_with_one_nonce_per_part(
    bot: Bot, server: DiscordServer, clock: VirtualClock
) -> None:
    reply = Reply(
        kind="digest",
        blocks=[
            Heading(text="Weekly digest"),
            Text(text="x " * 5000),
            Fields(items=[(f"P{i}", "y" * 900) for i in range(30)]),
        ],
    )
    await DiscordSender(bot.client).send(outgoing(f"channel:{server.channel_id}", reply, key="digest:1", clock=clock))
    posts = server.matching("POST", CHANNEL_MESSAGES)
    assert len(posts) >= 3
    nonces = [p.body["nonce"] for p in posts]
    assert len(set(nonces)) == len(nonces) and nonces[0] == nonce_for("digest:1", 0)
    for p in posts:
        assert len(p.body["embeds"]) <= 10


@pytest.mark.parametrize(("status", "code"), [(403, 50013), (404, 10003)])
async def test_forbidden_or_unknown_channel_fails_permanently(
    bot: Bot, server: DiscordServer, clock: VirtualClock, status: int, code: int
) -> None:
    server.fail("POST", CHANNEL_MESSAGES, status, code=code, message="Missing Permissions")
    async with bot.app.db.transaction() as s:
        await enqueue(
            s,
            key="announce:1",
            destination=Destination("discord", f"channel:{server.channel_id}", "channel:wg"),
            reply=Reply.text("News"),
            now=clock.now(),
        )
    assert await bot.app.dispatcher.run_once() == 0
    async with bot.app.db.session() as s:
        (row,) = (await s.exec(select(OutboxMessage))).all()
    assert row.status == "failed" and str(status) in (row.last_error or "")
    assert len(server.matching("POST", CHANNEL_MESSAGES)) == 1, "no retry of what cannot succeed"


async def test_unreachable_discord_is_retried_later(bot: Bot, server: DiscordServer, clock: VirtualClock) -> None:
    async with bot.app.db.transaction() as s:
        await enqueue(
            s,
            key="announce:2",
            destination=Destination("discord", f"channel:{server.channel_id}", "channel:wg"),
            reply=Reply.text("News"),
            now=clock.now(),
        )
    await server.stop()  # Discord goes away
    assert await bot.app.dispatcher.run_once() == 0
    async with bot.app.db.session() as s:
        (row,) = (await s.exec(select(OutboxMessage))).all()
    assert row.status == "pending" and row.not_before > clock.now()


async def test_a_long_digest_from_the_core_is_split_within_embed_limits_never_mid_word(
    bot: Bot, server: DiscordServer, alice: object
) -> None:
    from tests.digest_fixture import add_many_proposals, long_titles

    await bot.command(["bind"], alice)  # type: ignore[arg-type]
    await bot.command(["join"], alice, group="civil-society")  # type: ignore[arg-type]
    titles = long_titles()
    await add_many_proposals(bot.app.db, bot.app.clock, titles)
    since = len(server.requests)
    await bot.command(["digest", "send"], alice)  # type: ignore[arg-type]
    await bot.app.run_due()
    posts = [p for p in server.matching("POST", CHANNEL_MESSAGES, since=since) if p.body and p.body.get("embeds")]
    digest_posts = [
        p
        for p in posts
        if any(
            "Weekly digest" in (e.get("title") or "") or "Proposal 0" in (e.get("description") or "")
            for e in p.body["embeds"]
        )
    ]
    assert len(digest_posts) >= 2, "120 proposals do not fit one Discord message"
    texts: list[str] = []
    for p in digest_posts:
        embeds = p.body["embeds"]
        assert len(embeds) <= 10
        total = 0
        for e in embeds:
            assert len(e.get("description") or "") <= 4096 and len(e.get("title") or "") <= 256
            total += len(e.get("description") or "") + len(e.get("title") or "")
            total += sum(len(f["name"]) + len(f["value"]) for f in e.get("fields") or [])
            total += len((e.get("footer") or {}).get("text", ""))
            texts.append(e.get("description") or "")
        assert total <= 6000
    for title in titles:
        assert sum(f"“{title}”" in t for t in texts) == 1, title
