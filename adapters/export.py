"""Writing exports to disk safely: the whole file or nothing (a temporary file renamed into place), so
an error never leaves an empty or half-written file over an existing one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import bot.services  # noqa: F401  (every capability registers its white-paper, export and erase parts)
from bot import whitepaper
from bot.whitepaper_render import render
from storage.db import Database


class ExportError(Exception):
    pass


def write_atomically(target: Path, data: bytes) -> None:
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ExportError(f"{target} is a directory; give a file name with --out")
    if not directory.is_dir():
        raise ExportError(f"cannot write {target}: the folder {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None


async def write_whitepaper(
    database_url: str, target: Path, *, fmt: str, wg: str | None, step: Callable[[str, int], None]
) -> int:
    db = Database(database_url)
    try:
        await db.upgrade()
        async with db.session() as s:
            try:
                group = await whitepaper.find_group(s, wg)
            except whitepaper.UnknownGroup as exc:
                raise ExportError(str(exc)) from None
            total = len(group.themes) + 5
            paper = await whitepaper.build(s, group, lambda name: step(name, total))
    finally:
        await db.dispose()
    data = render(paper, fmt).encode("utf-8")
    write_atomically(target, data)
    return len(data)
