"""One digest: every registered section for the period, as a Reply in the reader's zone."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.digest import chart
from bot.digest import summaries as _summaries  # noqa: F401  (registers the thread summaries section)
from bot.digest.sections import SECTIONS, Period, Section
from bot.reply import Block, Context, Heading, Reply, Text
from bot.timefmt import fmt_date
from storage.models import WorkingGroup


@dataclass
class Digest:
    wg: WorkingGroup
    period: Period
    sections: list[Section]
    #: participation by stakeholder group over the weeks up to this one (the e-mail draws it)
    chart: chart.Participation | None = None
    #: one rendering per zone: a digest goes to thousands of readers in a handful of zones. Callers
    #: must not change a rendered Reply (the outbox serialises it; e-mail and late notes copy it).
    _rendered: dict[tuple[str, bool], Reply] = field(default_factory=dict, repr=False)

    @property
    def quiet(self) -> bool:
        return not any(s.activity for s in self.sections)

    def render(self, tz: str, *, email: bool = False) -> Reply:
        """The digest for a reader in `tz`: their dates and times. `email`: for an e-mail reader, who
        may have no chat account, so no chat commands (the e-mail's footer says how to stop it)."""
        if (tz, email) not in self._rendered:
            self._rendered[tz, email] = self._render(tz, email)
        return self._rendered[tz, email]

    def _render(self, tz: str, email: bool) -> Reply:
        start, end = fmt_date(self.period.start, tz), fmt_date(self.period.end, tz)
        blocks: list[Block] = [Heading(text=f"Weekly digest: {self.wg.name}, {start} – {end}")]
        if self.quiet:
            blocks.append(Text(text="A quiet week: no new proposals, votes, check-in answers or discussion."))
        for s in self.sections:
            if self.quiet and s.activity:
                continue
            lines = s.lines(tz)
            if lines:
                blocks += [Heading(text=s.title), Text(text="\n".join(lines))]
        if self.chart is not None and not self.chart.empty:
            title = f"{self.wg.name}: participation by stakeholder group, week by week"
            blocks.append(chart.to_block(self.chart, title))
        how = "" if email else " · /wg digest subscribe [dm|email:<address>]"
        blocks.append(Context(text=f"Week {self.period.week} · times in {tz}{how}"))
        return Reply(blocks=blocks, kind="digest")


async def compose(session: AsyncSession, wg: WorkingGroup, period: Period) -> Digest:
    sections: list[Section] = []
    for _order, _name, fn in SECTIONS:
        found = await fn(session, wg, period)
        if found is not None:
            sections.append(found)
    assert wg.id is not None
    # the weeks (Monday 00:00 in the group's zone) up to the one the period mostly covers
    middle = period.start + (period.end - period.start) / 2
    weekly = await chart.participation(session, wg.id, wg.timezone, middle, weeks=chart.WEEKS)
    return Digest(wg=wg, period=period, sections=sections, chart=weekly)
