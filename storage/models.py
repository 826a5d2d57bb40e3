"""SQLModel tables. Every schema change goes with an Alembic migration in storage/migrations.

Ids shown to people (P3, M2) are per-working-group numbers handed out by `Sequence`, never the
primary key, so two groups on one deployment each start at 1 and ids leak nothing across groups.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class WorkingGroup(SQLModel, table=True):
    __tablename__ = "working_groups"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    timezone: str = Field(default="UTC", max_length=64)
    #: 0 = Monday … 6 = Sunday; None turns the weekly digest off
    digest_weekday: int | None = Field(default=0)
    digest_time: str = Field(default="09:00", max_length=5)
    themes: list[str] = Field(default_factory=list, sa_type=JSON)
    #: the language summaries are written in unless `lang:` says otherwise
    language: str = Field(default="en", max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    #: who created the group with the first `/wg bind` (they become its convener when they join);
    #: none for a group no person created (the simulation's `wg`): its first joiner is convener
    creator_platform: str | None = Field(default=None, max_length=20)
    creator_workspace: str | None = Field(default=None, max_length=100)
    creator_user_id: str | None = Field(default=None, max_length=100)


class Channel(SQLModel, table=True):
    """A chat channel bound to a working group; announcements go to every one of them."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel_id"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id", index=True)
    platform: str = Field(max_length=20)
    #: the Slack team id / Discord guild id the channel lives in ("" on the console)
    workspace: str = Field(default="", max_length=100)
    channel_id: str = Field(max_length=100)
    name: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Member(SQLModel, table=True):
    __tablename__ = "members"
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id", index=True)
    display_name: str = Field(max_length=100)
    stakeholder_group: str = Field(max_length=40)
    region: str | None = Field(default=None, max_length=40)
    timezone: str = Field(default="UTC", max_length=64)
    language: str = Field(default="en", max_length=16)
    email: str | None = Field(default=None, max_length=254)
    role: str = Field(default="member", max_length=20)
    ai_opt_out: bool = Field(default=False)
    digest_dm: bool = Field(default=False)
    digest_email: bool = Field(default=False)
    joined_at: datetime = Field(sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Identity(SQLModel, table=True):
    """One platform account of a member (a linked member has one per platform)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("wg_id", "platform", "workspace", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id")
    member_id: int = Field(foreign_key="members.id", index=True)
    platform: str = Field(max_length=20)
    #: the Slack team id the user id belongs to; "" where user ids are global (Discord, console)
    workspace: str = Field(default="", max_length=100)
    user_id: str = Field(max_length=100)
    handle: str = Field(max_length=100)
    #: the channel to DM this identity in, when the platform needs one opened (Slack IM id)
    dm_channel: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Proposal(SQLModel, table=True):
    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("wg_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id", index=True)
    number: int
    title: str = Field(max_length=200)
    body: str = Field(max_length=4000)
    theme: str | None = Field(default=None, max_length=100)
    author_id: int | None = Field(default=None, foreign_key="members.id")
    status: str = Field(default="open", max_length=20)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ProposalRevision(SQLModel, table=True):
    """Amendment history: revision 1 is the original text; each amendment adds one."""

    __tablename__ = "proposal_revisions"
    __table_args__ = (UniqueConstraint("proposal_id", "revision"),)
    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposals.id", index=True)
    revision: int
    title: str = Field(max_length=200)
    body: str = Field(max_length=4000)
    editor_id: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class Sequence(SQLModel, table=True):
    """Per-group counters for the public ids (P<n>, V<n>, M<n>, C<n>, Q<n>)."""

    __tablename__ = "sequences"
    wg_id: int = Field(foreign_key="working_groups.id", primary_key=True)
    kind: str = Field(max_length=10, primary_key=True)
    value: int = Field(default=0)


class OutboxMessage(SQLModel, table=True):
    """Every message the bot sends to a place other than the speaker's reply goes through here.

    Written in the same transaction as the change it announces; sent by the dispatcher, which claims
    rows with a lease so that two processes never send the same row, and retries after a crash.
    `key` is the idempotency key: inserting the same logical message twice is a no-op.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        # the per-destination ordering check (is an earlier message to this place undelivered?)
        Index("ix_outbox_destination", "platform", "address", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    wg_id: int | None = Field(default=None, foreign_key="working_groups.id")
    platform: str = Field(max_length=20)
    #: platform address: `channel:<id>`, `thread:<channel id>/<thread id>`, `dm:<user id>`, `email:<addr>`
    address: str = Field(max_length=300)
    #: what people call it: `channel:wg`, `dm:alice`; shown by simulate and in logs
    label: str = Field(max_length=300)
    kind: str = Field(max_length=20)
    payload: dict[str, Any] = Field(sa_type=JSON)
    status: str = Field(default="pending", max_length=10)
    attempts: int = Field(default=0)
    not_before: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: the platform's id for the sent message (Slack ts, Discord message id), for later updates
    platform_ref: str | None = Field(default=None, max_length=100)
    #: the key of an earlier message this one replaces in place (a vote card with fresh counts)
    edit_of: str | None = Field(default=None, max_length=255)
    last_error: str | None = Field(default=None, max_length=500)
    #: pages of a long reply already delivered (a restart mid-message resumes after them); while
    #: sending, `platform_ref` holds the first page's id
    pages_sent: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class InboundEvent(SQLModel, table=True):
    """Platform event ids already handled: Slack retries and Socket Mode re-deliveries run once."""

    __tablename__ = "inbound_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    event_id: str = Field(max_length=200)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)


class ScheduledJob(SQLModel, table=True):
    """Work that falls due at a time (a reminder, a check-in question, a planning step).

    The database, not APScheduler, is the source of truth: a job is claimed with a conditional
    UPDATE and a lease, executed in one transaction with the outbox messages it produces, and marked
    `done` (or `skipped`, with the reason in `note`) in that same transaction, so it runs once even
    with several processes. `key` is unique: scheduling the same logical job twice is a no-op.
    """

    __tablename__ = "scheduled_jobs"
    __table_args__ = (Index("ix_scheduled_jobs_due", "status", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=40)
    wg_id: int | None = Field(default=None, foreign_key="working_groups.id")
    #: what the job is about (`meeting:3`, `checkin:2`), so changing that thing can cancel its jobs
    ref: str | None = Field(default=None, max_length=60, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: when the work is due (what lateness is measured from)
    due_at: datetime = Field(sa_type=UTCDateTime)
    #: after this the work is pointless (the meeting started): skipped, not done late
    useful_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: the earliest time to (re)try: `due_at`, later after a failure
    not_before: datetime = Field(sa_type=UTCDateTime)
    #: pending → running → done | skipped | cancelled | failed
    status: str = Field(default="pending", max_length=10)
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    late: bool = Field(default=False)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Meeting(SQLModel, table=True):
    """M<n>. `start_at` is the first occurrence; a recurring meeting's `rrule` is evaluated in
    `timezone` (the zone it was given in), so 14:00 Paris stays 14:00 Paris across DST changes."""

    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("wg_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id", index=True)
    number: int
    title: str = Field(max_length=200)
    start_at: datetime = Field(sa_type=UTCDateTime)
    timezone: str = Field(default="UTC", max_length=64)
    duration_minutes: int = Field(default=60)
    rrule: str | None = Field(default=None, max_length=300)
    #: reminder offsets before each occurrence, in minutes
    remind_minutes: list[int] = Field(default_factory=list, sa_type=JSON)
    link: str | None = Field(default=None, max_length=500)
    status: str = Field(default="scheduled", max_length=12)
    #: bumped on every move: reminder jobs of an earlier revision are void
    revision: int = Field(default=1)
    created_by: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Rsvp(SQLModel, table=True):
    """A member's answer to a meeting (for a recurring meeting, to the series)."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    answer: str = Field(max_length=10)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Checkin(SQLModel, table=True):
    """C<n>: a question asked on a schedule. `rrule` gives the dates, `time_of_day` the local time;
    each member is asked at that time in their own zone unless `timezone` is set."""

    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("wg_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id", index=True)
    number: int
    question: str = Field(max_length=500)
    rrule: str = Field(max_length=300)
    #: the first date the rule is evaluated from (ISO date)
    start_date: str = Field(max_length=10)
    time_of_day: str = Field(default="09:00", max_length=5)
    timezone: str | None = Field(default=None, max_length=64)
    status: str = Field(default="active", max_length=12)
    created_by: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class CheckinAnswer(SQLModel, table=True):
    """One member's answer to one occurrence (local date) of a check-in; kept for the digest."""

    __tablename__ = "checkin_answers"
    __table_args__ = (UniqueConstraint("checkin_id", "member_id", "occurrence"),)
    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="checkins.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    occurrence: str = Field(max_length=10)
    text: str = Field(max_length=4000)
    answered_at: datetime = Field(sa_type=UTCDateTime)


class LinkCode(SQLModel, table=True):
    """A one-time code that joins a second platform account to a member (`/wg link`)."""

    __tablename__ = "link_codes"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    wg_id: int = Field(foreign_key="working_groups.id")
    member_id: int = Field(foreign_key="members.id", index=True)
    #: the platform the code was asked for on; it must be redeemed on another
    platform: str = Field(max_length=20)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    """A convener's invitation code (`/wg invite`): lets someone join from a DM, without a bound
    channel. Only a SHA-256 of the code is stored, so a database reader cannot use the codes."""

    __tablename__ = "invitations"
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_by: int = Field(foreign_key="members.id")
    uses_left: int = Field(default=1)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class RateCounter(SQLModel, table=True):
    """How many times `key` (a person's commands, a member's announcements, failed code attempts)
    happened in the fixed window starting at `window_start`. In the database, so the limits hold
    across every process of a deployment; old windows are pruned by retention."""

    __tablename__ = "rate_counters"
    key: str = Field(max_length=200, primary_key=True)
    window_start: datetime = Field(sa_type=UTCDateTime, primary_key=True, index=True)
    count: int = Field(default=0)


class Digest(SQLModel, table=True):
    """An archived digest: what was sent for a week (`wgbot digest show --week`), as rendered in the
    group's zone. `trigger` is `scheduled` (the weekly one, once per due time) or `manual` (/wg digest send)."""

    __tablename__ = "digests"
    __table_args__ = (Index("ix_digests_wg_week", "wg_id", "week"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id")
    #: the ISO week the digest covers, `2026-W02`
    week: str = Field(max_length=8)
    period_start: datetime = Field(sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    trigger: str = Field(default="scheduled", max_length=10)
    late: bool = Field(default=False)
    quiet: bool = Field(default=False)
    text: str = Field(sa_type=Text)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Vote(SQLModel, table=True):
    """V<n>: a decision on a proposal or a free-standing question.

    `options` are the labels shown as A, B, C… (empty for consent and yes-no; ISO instants for
    `time`). `result` is the tally frozen at close (bot/tally.py `Result.model_dump()`), so later
    membership changes never rewrite a decision."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("wg_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id", index=True)
    number: int
    proposal_id: int | None = Field(default=None, foreign_key="proposals.id", index=True)
    question: str = Field(max_length=500)
    method: str = Field(max_length=20)
    options: list[str] = Field(default_factory=list, sa_type=JSON)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    quorum_count: int | None = Field(default=None)
    quorum_percent: int | None = Field(default=None)
    anonymous: bool = Field(default=False)
    hidden: bool = Field(default=False)
    balanced: bool = Field(default=False)
    #: open → closed
    status: str = Field(default="open", max_length=10)
    #: mixed into the voters' pseudonyms in the ballot log, so the log names nobody
    salt: str = Field(max_length=32)
    opened_by: int | None = Field(default=None, foreign_key="members.id")
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=300)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class VoteVoter(SQLModel, table=True):
    """The voter roll, frozen when the vote opens, with the member's stakeholder group and region then."""

    __tablename__ = "vote_voters"
    __table_args__ = (UniqueConstraint("vote_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    vote_id: int = Field(foreign_key="votes.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    stakeholder_group: str = Field(max_length=40)
    region: str | None = Field(default=None, max_length=40)
    nudged: bool = Field(default=False)


class Ballot(SQLModel, table=True):
    """A voter's current ballot (the last one they cast counts); its history is in `BallotLogEntry`."""

    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("vote_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    vote_id: int = Field(foreign_key="votes.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    choice: dict[str, Any] = Field(sa_type=JSON)
    reason: str | None = Field(default=None, max_length=1000)
    #: the log entry that recorded this ballot (what `wgbot audit verify` checks it against)
    log_seq: int
    cast_at: datetime = Field(sa_type=UTCDateTime)


class BallotLogEntry(SQLModel, table=True):
    """The append-only ballot log of one vote: each entry carries the hash of the one before.

    `voter` is a pseudonym (a hash of the vote's salt and the member id), never a name."""

    __tablename__ = "ballot_log"
    __table_args__ = (UniqueConstraint("vote_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    vote_id: int = Field(foreign_key="votes.id", index=True)
    seq: int
    #: open | ballot | withdraw | close
    kind: str = Field(max_length=10)
    voter: str | None = Field(default=None, max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = Field(sa_type=UTCDateTime)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class RsvpOccurrence(SQLModel, table=True):
    """A member's answer for one occurrence of a recurring meeting (its local date in the meeting's
    zone); it overrides their answer to the series (`Rsvp`) for that date only."""

    __tablename__ = "rsvp_occurrences"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", "occurrence"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    #: YYYY-MM-DD in the meeting's zone
    occurrence: str = Field(max_length=10)
    answer: str = Field(max_length=10)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class LiveSession(SQLModel, table=True):
    """A live session of a meeting. `active_wg_id` is the group's id while the session is live and
    NULL after: its unique index makes "one live session per group" hold across processes."""

    __tablename__ = "live_sessions"
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id", index=True)
    active_wg_id: int | None = Field(default=None, unique=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    started_by: int | None = Field(default=None, foreign_key="members.id")
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: the minutes as plain text (what `/wg show M<n>` and the digest show), written at `live end`
    minutes: str | None = Field(default=None, max_length=20000)


class LiveAttendance(SQLModel, table=True):
    """Who took part in a live session, from which platform (one row per member and platform)."""

    __tablename__ = "live_attendance"
    __table_args__ = (UniqueConstraint("session_id", "member_id", "platform"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="live_sessions.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    platform: str = Field(max_length=10)
    stakeholder_group: str = Field(max_length=40)
    at: datetime = Field(sa_type=UTCDateTime)


class LiveQuestion(SQLModel, table=True):
    """Q<n>. An anonymous question keeps its asker (for rate limits and erasure) but no output ever
    names them."""

    __tablename__ = "live_questions"
    __table_args__ = (UniqueConstraint("wg_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id", index=True)
    session_id: int = Field(foreign_key="live_sessions.id", index=True)
    number: int
    member_id: int = Field(foreign_key="members.id")
    anonymous: bool = Field(default=False)
    text: str = Field(max_length=500)
    platform: str = Field(max_length=10)
    stakeholder_group: str = Field(max_length=40)
    #: open | answered | dismissed
    status: str = Field(default="open", max_length=10)
    upvotes: int = Field(default=0)
    asked_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LiveUpvote(SQLModel, table=True):
    __tablename__ = "live_upvotes"
    __table_args__ = (UniqueConstraint("question_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="live_questions.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    platform: str = Field(max_length=10)
    at: datetime = Field(sa_type=UTCDateTime)


class LivePoll(SQLModel, table=True):
    """A quick poll: a V<n> vote opened during a live session."""

    __tablename__ = "live_polls"
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="live_sessions.id", index=True)
    vote_id: int = Field(foreign_key="votes.id", unique=True)


class LivePause(SQLModel, table=True):
    """A pause-and-react round; `synthesis` is the grouped text posted when it closed."""

    __tablename__ = "live_pauses"
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="live_sessions.id", index=True)
    prompt: str = Field(max_length=500)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    #: open | closed
    status: str = Field(default="open", max_length=10)
    synthesis: str | None = Field(default=None, max_length=20000)


class LiveReaction(SQLModel, table=True):
    """One reaction per member and round (a second one replaces the first)."""

    __tablename__ = "live_reactions"
    __table_args__ = (UniqueConstraint("pause_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    pause_id: int = Field(foreign_key="live_pauses.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    text: str = Field(max_length=300)
    platform: str = Field(max_length=10)
    stakeholder_group: str = Field(max_length=40)
    at: datetime = Field(sa_type=UTCDateTime)


class WebAccess(SQLModel, table=True):
    """Who may read a group's public record (adapters/web) and with what.

    Private by default: the record is reachable only at `/r/<token>`; rotating the token makes the
    old address 404 at once. `link_secret` keys the HMAC of the signed links in e-mails (RSVP,
    check-in answer, unsubscribe, confirm); it is never shown and is independent of the record's token."""

    __tablename__ = "web_access"
    wg_id: int = Field(foreign_key="working_groups.id", primary_key=True)
    public: bool = Field(default=False)
    token: str = Field(max_length=64, unique=True)
    #: the calendar feed's own token (`/f/<feed_token>/calendar.ics`): it opens the feed and nothing
    #: else, so the address members paste into calendar apps (and `/wg show` posts) never opens the
    #: record; rotated together with `token`, or alone (`/wg web feed rotate`)
    feed_token: str = Field(max_length=64, unique=True)
    #: thread summaries appear on the record only when a convener turns them on
    summaries: bool = Field(default=False)
    link_secret: str = Field(max_length=64)
    #: signed into every e-mail link; `/wg web link rotate` bumps it, and the answer and confirmation
    #: links signed with an older one are refused as replaced (bot/webaccess.py)
    link_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(sa_type=UTCDateTime)
    #: when `/wg web link rotate` last replaced the links
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ThreadSummary(SQLModel, table=True):
    """One summary of a chat thread, the cache that makes asking again free.

    No thread text is kept: `fingerprint` holds one short hash per message (of what would be sent to
    the model, after the privacy filter), enough to tell an unchanged thread (no call), a thread that
    only grew (an incremental update from `doc`), and one edited or with a member opted out (a full
    summary). Rows older than `WGBOT_RETENTION_DAYS` go in the daily purge (bot/purge.py).
    """

    __tablename__ = "thread_summaries"
    __table_args__ = (Index("ix_thread_summaries_thread", "wg_id", "platform", "channel_id", "thread_id"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id")
    platform: str = Field(max_length=20)
    channel_id: str = Field(max_length=100)
    thread_id: str = Field(max_length=100)
    #: [[message id, hash], …] of the messages summarised, in thread order
    fingerprint: list[list[str]] = Field(default_factory=list, sa_type=JSON)
    #: the validated summary (bot.summary_schema.SummaryDoc), speakers still pseudonymous
    doc: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: `llm` or `offline`
    engine: str = Field(max_length=10)
    model: str | None = Field(default=None, max_length=100)
    prompt_version: str = Field(max_length=40)
    language: str = Field(default="en", max_length=16)
    tokens_in: int = Field(default=0)
    tokens_out: int = Field(default=0)
    calls: int = Field(default=0)
    note: str | None = Field(default=None, max_length=300)
    requested_by: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class ActionItem(SQLModel, table=True):
    """A<n>: something someone is to do, from a thread summary or a live session's minutes.

    Thread items keep the summary's pseudonyms in `text` and `owner` (nothing else is stored about
    the thread) and `people` maps each pseudonym that is a member to the member's id, so names are
    rendered at read time: the current display name, "a former member" after erasure, nothing for
    someone who opted out. `owners` are the member ids the item is assigned to (for `/wg todo`).
    A re-summarized thread's items are matched by `key` (normalized text and owners): still there →
    kept, gone → closed as superseded. `/wg todo done A<n>` closes one by hand."""

    __tablename__ = "action_items"
    __table_args__ = (
        UniqueConstraint("wg_id", "number"),
        Index("ix_action_items_source", "wg_id", "source_ref"),
    )
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id")
    number: int
    #: `thread` or `meeting`
    source: str = Field(max_length=10)
    #: `thread:<platform>:<channel>:<thread>` or `live:<live session id>`
    source_ref: str = Field(max_length=240)
    meeting_id: int | None = Field(default=None, foreign_key="meetings.id")
    platform: str | None = Field(default=None, max_length=20)
    link: str | None = Field(default=None, max_length=500)
    text: str = Field(max_length=500)
    owner: str | None = Field(default=None, max_length=200)
    owners: list[int] = Field(default_factory=list, sa_type=JSON)
    people: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    due: str | None = Field(default=None, max_length=100)
    key: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    #: set when closed: `done` (by a person) or `superseded` (no longer in the thread's summary)
    closed: str | None = Field(default=None, max_length=12)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: int | None = Field(default=None, foreign_key="members.id")


class LlmUsage(SQLModel, table=True):
    """Tokens spent at the LLM, per call purpose: what `wgbot usage` reports and the monthly cap reads."""

    __tablename__ = "llm_usage"
    __table_args__ = (Index("ix_llm_usage_wg_at", "wg_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    wg_id: int = Field(foreign_key="working_groups.id")
    at: datetime = Field(sa_type=UTCDateTime)
    #: `summary`, `suggest`
    purpose: str = Field(max_length=20)
    model: str = Field(max_length=100)
    tokens_in: int = Field(default=0)
    tokens_out: int = Field(default=0)
    calls: int = Field(default=0)
