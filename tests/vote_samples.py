"""Vote cards and ballot forms built by the real core functions, for the adapters' golden files."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.reply import Form, Reply
from bot.services.vote_render import vote_card
from bot.services.votes import ballot_form
from bot.tally import Cast, tally
from storage.models import Vote

OPENED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def vote(method: str, options: list[str], number: int = 2) -> Vote:
    return Vote(
        wg_id=1,
        number=number,
        question="Which workstreams this quarter? <!channel>",
        method=method,
        options=options,
        closes_at=datetime(2026, 1, 9, 17, 0, tzinfo=UTC),
        salt="0" * 32,
        opened_at=OPENED,
    )


def approval_card() -> Reply:
    v = vote("approval", ["Taxonomy", "Training", "Red-teaming"])
    live = tally("approval", v.options, [Cast(choice={"options": [0, 2]}, group="academia")], roll=5)
    card = vote_card(v, "Europe/Paris", cast=1, roll=5, live=live, heading="New vote V2: " + v.question)
    return card.model_copy(update={"kind": "announcement"})


def ranked_form() -> Form:
    return ballot_form(vote("ranked", ["Geneva", "Nairobi", "Bangkok"], number=3), "Europe/Paris")
