"""The outbox: recorded before sending, sent once, retried after failures and crashes, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.clock import VirtualClock
from bot.outbox import DeliveryError, Destination, Dispatcher, Outgoing, Queued, enqueue, enqueue_many
from bot.reply import Heading, Reply, Text
from storage.db import Database
from storage.models import OutboxMessage

DEST = Destination("slack", "channel:C1", "channel:wg")


class FlakySender:
    platform = "slack"

    def __init__(self, failures: list[DeliveryError | None]) -> None:
        self.failures = failures
        self.delivered: list[str] = []

    async def send(self, message: Outgoing) -> str | None:
        if self.failures:
            failure = self.failures.pop(0)
            if failure is not None:
                raise failure
        self.delivered.append(message.reply.to_text())
        return "ts"


async def put(db: Database, clock: VirtualClock, key: str, text: str) -> bool:
    async with db.transaction() as s:
        return await enqueue(s, key=key, destination=DEST, reply=Reply.text(text), now=clock.now())


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list((await s.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())  # type: ignore[arg-type]


async def test_same_key_is_recorded_once_and_sent_once(db: Database, clock: VirtualClock) -> None:
    assert await put(db, clock, "k1", "hello")
    assert not await put(db, clock, "k1", "hello again")
    sender = FlakySender([])
    d = Dispatcher(db, clock, [sender], worker_id="w1")
    assert await d.run_once() == 1
    assert await d.run_once() == 0
    assert sender.delivered == ["hello"]
    assert [r.status for r in await rows(db)] == ["sent"]


async def test_rate_limit_waits_for_retry_after_then_delivers_once(db: Database, clock: VirtualClock) -> None:
    await put(db, clock, "k1", "first")
    await put(db, clock, "k2", "second")
    sender = FlakySender([DeliveryError("429", retry_after=30)])
    d = Dispatcher(db, clock, [sender], worker_id="w1")
    assert await d.run_once() == 0
    assert await d.next_due() == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    assert await d.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await d.run_once() == 2
    assert sender.delivered == ["first", "second"]  # order kept for the destination


async def test_permanent_failure_is_recorded_not_retried(db: Database, clock: VirtualClock) -> None:
    await put(db, clock, "k1", "to a deleted channel")
    d = Dispatcher(db, clock, [FlakySender([DeliveryError("channel_not_found", permanent=True)])], worker_id="w1")
    await d.run_once()
    [row] = await rows(db)
    assert row.status == "failed" and row.last_error == "channel_not_found"
    assert await d.next_due() is None


async def test_a_claim_by_a_dead_worker_is_taken_over_after_its_lease(db: Database, clock: VirtualClock) -> None:
    await put(db, clock, "k1", "survives a crash")
    dead = Dispatcher(db, clock, [FlakySender([])], worker_id="dead", lease=timedelta(seconds=60))
    claimed = await dead.claim()  # claimed, then the process "dies" before sending
    assert len(claimed) == 1
    sender = FlakySender([])
    alive = Dispatcher(db, clock, [sender], worker_id="alive")
    assert await alive.run_once() == 0  # still leased
    clock.advance(timedelta(seconds=61))
    assert await alive.run_once() == 1
    assert sender.delivered == ["survives a crash"]
    [row] = await rows(db)
    assert row.status == "sent" and row.attempts == 2


async def test_only_platforms_with_a_sender_are_claimed(db: Database, clock: VirtualClock) -> None:
    await put(db, clock, "k1", "for slack")
    d = Dispatcher(db, clock, [], worker_id="console-only")
    assert await d.run_once() == 0
    assert [r.status for r in await rows(db)] == ["pending"]


async def test_retention_prunes_old_event_ids_and_delivered_messages_only(db: Database, clock: VirtualClock) -> None:
    from bot.retention import Retention
    from storage.models import InboundEvent

    await put(db, clock, "old-sent", "delivered long ago")
    await Dispatcher(db, clock, [FlakySender([])], worker_id="w").run_once()
    await put(db, clock, "old-failed", "to a deleted channel")
    await Dispatcher(db, clock, [FlakySender([DeliveryError("gone", permanent=True)])], worker_id="w").run_once()
    async with db.transaction() as s:
        s.add(InboundEvent(platform="slack", event_id="Ev-old", received_at=clock.now()))
        await enqueue(
            s,
            key="old-unsent",
            destination=Destination("discord", "channel:1", "channel:wg"),
            reply=Reply.text("waits for a Discord process"),
            now=clock.now(),
        )
    clock.advance(timedelta(days=31))
    await put(db, clock, "new", "recent")
    async with db.transaction() as s:
        s.add(InboundEvent(platform="slack", event_id="Ev-new", received_at=clock.now()))
    assert await Retention(db, clock).prune() == (1, 1)
    remaining = {r.key: r.status for r in await rows(db)}
    assert remaining == {"old-failed": "failed", "old-unsent": "pending", "new": "pending"}


OTHER = Destination("slack", "channel:C2", "channel:other")


async def put_to(db: Database, clock: VirtualClock, dest: Destination, key: str, text: str) -> None:
    async with db.transaction() as s:
        await enqueue(s, key=key, destination=dest, reply=Reply.text(text), now=clock.now())


async def test_a_destinations_due_run_is_claimed_at_once_in_order(db: Database, clock: VirtualClock) -> None:
    for i in range(5):
        await put(db, clock, f"k{i}", f"m{i}")
    await put_to(db, clock, OTHER, "o1", "other")
    d = Dispatcher(db, clock, [FlakySender([])], worker_id="w1", run=4)
    claimed = await d.claim()  # one transaction: each destination's head and the run behind it
    assert [r.key for r in claimed] == ["k0", "k1", "k2", "k3", "o1"]
    assert {r.status for r in claimed} == {"sending"} and {r.attempts for r in claimed} == {1}
    # a second dispatcher finds these destinations busy: k4 waits behind k0…k3, it is not sent out of order
    assert await Dispatcher(db, clock, [FlakySender([])], worker_id="w2").claim() == []


async def test_a_retry_mid_run_hands_the_rest_back_and_keeps_the_order(db: Database, clock: VirtualClock) -> None:
    for i in range(4):
        await put(db, clock, f"k{i}", f"m{i}")
    await put_to(db, clock, OTHER, "o1", "other")
    sender = FlakySender([])
    failures = iter([None, DeliveryError("429", retry_after=30)])

    async def send(message: Outgoing) -> str | None:
        if message.destination == DEST:
            failure = next(failures, None)
            if failure is not None:
                raise failure
        sender.delivered.append(message.reply.to_text())
        return "ts"

    sender.send = send  # type: ignore[method-assign]
    d = Dispatcher(db, clock, [sender], worker_id="w1")
    assert await d.run_once() == 2  # m0, and the other channel is not held back
    assert sorted(sender.delivered) == ["m0", "other"]
    state = {r.key: (r.status, r.attempts) for r in await rows(db)}
    # m1 waits for its retry; m2 and m3 were handed back unsent, their claim uncounted
    assert state == {
        "k0": ("sent", 1),
        "k1": ("pending", 1),
        "k2": ("pending", 0),
        "k3": ("pending", 0),
        "o1": ("sent", 1),
    }
    assert await d.run_once() == 0  # m2 and m3 do not overtake m1
    clock.advance(timedelta(seconds=30))
    assert await d.run_once() == 3
    assert sender.delivered[2:] == ["m1", "m2", "m3"]


async def test_a_long_run_renews_its_lease_message_by_message(db: Database, clock: VirtualClock) -> None:
    """Each delivered message gives the rest of the run a fresh lease: a run longer than one lease is
    not taken over (and resent) by another worker while it is still being sent."""
    for i in range(3):
        await put(db, clock, f"k{i}", f"m{i}")
    other = Dispatcher(db, clock, [FlakySender([])], worker_id="other", lease=timedelta(seconds=10))
    stolen: list[list[str]] = []
    delivered: list[str] = []

    class SlowSender:
        platform = "slack"

        async def send(self, message: Outgoing) -> str | None:
            clock.advance(timedelta(seconds=8))  # each message takes most of a lease
            stolen.append([r.key for r in await other.claim()])
            delivered.append(message.reply.to_text())
            return "ts"

    d = Dispatcher(db, clock, [SlowSender()], worker_id="w1", lease=timedelta(seconds=10))
    assert await d.run_once() == 3
    assert delivered == ["m0", "m1", "m2"] and stolen == [[], [], []]
    assert [(r.status, r.claimed_by, r.attempts) for r in await rows(db)] == [("sent", "w1", 1)] * 3


async def test_enqueue_many_records_in_order_once_in_batches(db: Database, clock: VirtualClock) -> None:
    other = Destination("slack", "dm:U2", "dm:zara")
    shared = Reply(blocks=[Heading(text="Shared"), Text(text="for everyone")], kind="digest")
    assert await put(db, clock, "m2", "recorded earlier")
    msgs = [
        Queued("m1", DEST, Reply.text("one")),
        Queued("m2", DEST, Reply.text("not again: recorded earlier")),
        Queued("m3", other, shared),
        Queued("m1", DEST, Reply.text("not again: repeated in the list")),
        Queued("m4", DEST, shared, wg_id=None),
        Queued("m5", other, Reply.text("five")),
        Queued("m6", DEST, Reply.text("six")),
    ]
    async with db.transaction() as s:  # batches of 2: four INSERTs, one of them all conflicts
        assert await enqueue_many(s, msgs, now=clock.now(), batch=2) == 5
    async with db.transaction() as s:
        assert await enqueue_many(s, msgs, now=clock.now()) == 0  # nothing twice
    got = await rows(db)
    assert [r.key for r in got] == ["m2", "m1", "m3", "m4", "m5", "m6"]  # ids follow the list
    assert got[2].payload == shared.model_dump(mode="json") == got[3].payload  # encoded once, read back whole
    assert (got[2].kind, got[2].address, got[2].status) == ("digest", "dm:U2", "pending")
    assert got[2].not_before == clock.now()
    sender = AddressedSender([])
    d = Dispatcher(db, clock, [sender], worker_id="w1")
    while await d.run_once():
        pass
    shared_text = shared.to_text()
    assert [t for a, t in sender.sent if a == "channel:C1"] == ["recorded earlier", "one", shared_text, "six"]
    assert [t for a, t in sender.sent if a == "dm:U2"] == [shared_text, "five"]


class AddressedSender(FlakySender):
    def __init__(self, failures: list[DeliveryError | None]) -> None:
        super().__init__(failures)
        self.sent: list[tuple[str, str]] = []

    async def send(self, message: Outgoing) -> str | None:
        self.sent.append((message.destination.address, message.reply.to_text()))
        return await super().send(message)


async def test_enqueue_many_is_part_of_the_callers_transaction(db: Database, clock: VirtualClock) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            assert await enqueue_many(s, [Queued(f"k{i}", DEST, Reply.text(str(i))) for i in range(3)], now=clock.now())
            raise RuntimeError("the change they report failed")
    assert await rows(db) == []
    async with db.transaction() as s:
        assert await enqueue_many(s, [], now=clock.now()) == 0
