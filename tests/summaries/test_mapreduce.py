"""The map-reduce plan of bot/summarizer.py, without a model: how partial summaries are grouped."""

from __future__ import annotations

from bot.summarizer import Summarizer, SummaryConfig, estimate_tokens
from bot.summary_schema import SummaryDoc
from bot.transcript import redact


def test_partials_are_merged_in_even_groups_within_the_budget() -> None:
    summarizer = Summarizer(None, SummaryConfig(context_tokens=8192, max_output_tokens=1200))
    partial = SummaryDoc(tldr="x" * 2400)
    cost = estimate_tokens(partial.dump()) + 5
    per_call = summarizer.chunk_tokens // cost
    assert per_call == 7  # the budget fits seven such partials
    groups = summarizer._groups([partial] * 30)
    assert [len(g) for g in groups] == [6, 6, 6, 6, 6]  # five calls either way; 6+6+6+6+6, not 7+7+7+7+2
    assert all(sum(estimate_tokens(d.dump()) + 5 for d in g) <= summarizer.chunk_tokens for g in groups)


def test_partials_too_big_to_share_a_call_are_still_merged_in_pairs() -> None:
    summarizer = Summarizer(None, SummaryConfig(context_tokens=1024, max_output_tokens=200))
    big = SummaryDoc(tldr="y" * 3000)
    assert [len(g) for g in summarizer._groups([big] * 5)] == [2, 2, 1]


def test_redaction_finds_addresses_only_where_they_start() -> None:
    text = "write to a.b+c@x.org, not@ or to x@y.co.uk; call +49 30 1234 5678 on 2026-01-05 at 10:00"
    assert redact(text) == (
        "write to [e-mail redacted], not@ or to [e-mail redacted]; call [phone redacted] on 2026-01-05 at 10:00"
    )
