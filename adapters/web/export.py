"""`wgbot export chart`: the web record's participation chart as a file for reports.

SVG is written directly. PNG is drawn by the headless Chromium the project already uses for its
browser tests (`chromium --headless --screenshot`), so no image library joins the dependencies; without
Chromium on the PATH the command says so and writes nothing."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlmodel import func, select

from adapters.web import chart
from bot.clock import SystemClock
from bot.config import Settings
from storage.db import Database
from storage.models import WorkingGroup

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


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


def browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def png(svg_text: str, out: Path, width: int, height: int) -> None:
    exe = browser()
    if exe is None:
        raise ExportError("PNG needs Chromium (apt-get install chromium); or write --out FILE.svg.")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "chart.html"
        page.write_text(f"<!doctype html><body style='margin:0'>{svg_text}</body>", encoding="utf-8")
        shot = Path(tmp) / "chart.png"
        args = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp}/profile",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            page.as_uri(),
        ]
        try:
            subprocess.run(args, capture_output=True, timeout=120, check=False)
        except subprocess.TimeoutExpired:
            raise ExportError("Chromium did not finish drawing the chart in 120 s.") from None
        if not shot.exists():
            raise ExportError("Chromium could not draw the chart (is it installed correctly?).")
        out.write_bytes(shot.read_bytes())


def export_chart(settings: Settings, out: Path, *, wg_name: str | None, by: str, weeks: int) -> str:
    suffix = out.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise ExportError("Give --out a file ending in .svg or .png.")
    if by not in ("group", "region"):
        raise ExportError("--by is group or region.")
    data, name = asyncio.run(load(settings, wg_name, by, weeks))
    label = "stakeholder group" if by == "group" else "region"
    text = chart.svg(data, title=f"{name}: participation by {label}, week by week")
    if suffix == ".svg":
        out.write_text(text, encoding="utf-8")
    else:
        width, height = chart.size(data)
        png(text, out, width, height)
    return f"wrote the participation chart of “{name}” ({len(data.weeks)} weeks, by {by}) to {out}"
