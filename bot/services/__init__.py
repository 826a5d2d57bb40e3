"""Command handlers, one module per concept. Importing this package registers them all."""

from bot.services import (  # noqa: F401
    checkins,
    datarights,
    digests,
    groups,
    link,
    live,
    live_minutes,
    live_pause,
    live_poll,
    live_privacy,
    live_qa,
    meetings,
    members,
    proposals,
    rsvp,
    summaries,
    todo,
    vote_jobs,
    vote_reports,
    votes,
)
