"""`wgbot export chart`: the web record's participation chart as a file for reports.

SVG is written directly; PNG is drawn by `chart_png.py` (Pillow), the same picture the e-mailed
digest carries."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import func, select

from adapters.web import chart, chart_png
from bot.clock import SystemClock
from bot.config import Settings
from storage.db import Database
from storage.models import WorkingGroup


class ExportError(Exception):
    pass


async def load(settings: Settings, wg_name: str | None, by: str, weeks: int) -> tuple[chart.Participation, str]:
    database = Database(settings.database_url)
    try:
        await database.upgrade()
        async with database.session() as s:
            q = select(WorkingGroup)
            if wg_name is not None:
                q = q.where(func.lower(WorkingGroup.name) == wg_name.lower())
            groups = list((await s.exec(q)).all())
            if not groups:
                raise ExportError(f"No working group called “{wg_name}”." if wg_name else "There is no group yet.")
            if len(groups) > 1:
                names = ", ".join(g.name for g in groups)
                raise ExportError(f"Name the working group with --wg (groups: {names}).")
            wg = groups[0]
            assert wg.id is not None
            data = await chart.participation(s, wg.id, wg.timezone, SystemClock().now(), by=by, weeks=weeks)
            return data, wg.name
    finally:
        await database.dispose()


def export_chart(settings: Settings, out: Path, *, wg_name: str | None, by: str, weeks: int) -> str:
    suffix = out.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise ExportError("Give --out a file ending in .svg or .png.")
    if by not in ("group", "region"):
        raise ExportError("--by is group or region.")
    data, name = asyncio.run(load(settings, wg_name, by, weeks))
    label = "stakeholder group" if by == "group" else "region"
    title = f"{name}: participation by {label}, week by week"
    text = chart.svg(data, title=title)
    if suffix == ".svg":
        out.write_text(text, encoding="utf-8")
    else:
        out.write_bytes(chart_png.png(data, title=title))
    return f"wrote the participation chart of “{name}” ({len(data.weeks)} weeks, by {by}) to {out}"
