"""Command handlers, one module per concept. Importing this package registers them all."""

from bot.services import (  # noqa: F401
    checkins,
    datarights,
    digests,
    groups,
    link,
    meetings,
    members,
    proposals,
    todo,
    vote_jobs,
    votes,
)
