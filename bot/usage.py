"""Tokens spent at the LLM, per working group and month: what `wgbot usage` prints.

Months are calendar months in UTC, the same ones the monthly cap counts (`WGBOT_LLM_MONTHLY_TOKEN_CAP`).
Grouped in Python rather than with a dialect-specific date function: the table holds one row per
summary or suggestion, few enough to read.
"""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import col, select

from storage.db import Database
from storage.models import LlmUsage, WorkingGroup


async def usage_by_month(db: Database) -> list[tuple[str, str, int, int, int, int]]:
    """(group name, YYYY-MM, calls, tokens in, tokens out, summaries) rows, by group then month."""
    async with db.session() as s:
        names = {wg.id: wg.name for wg in (await s.exec(select(WorkingGroup))).all()}
        rows = (await s.exec(select(LlmUsage).order_by(col(LlmUsage.at)))).all()
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        t = totals[(names.get(r.wg_id, f"#{r.wg_id}"), f"{r.at:%Y-%m}")]
        t[0] += r.calls
        t[1] += r.tokens_in
        t[2] += r.tokens_out
        t[3] += 1 if r.purpose == "summary" else 0
    return [(wg, month, *t) for (wg, month), t in sorted(totals.items())]  # type: ignore[misc]
