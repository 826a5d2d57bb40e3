"""`wgbot member export|erase`: the operator's way to honour a data request made outside the chat."""

from __future__ import annotations

import bot.services  # noqa: F401  (every capability registers its white-paper, export and erase parts)
from bot.clock import SystemClock
from bot.privacy import erase_member, export_json, export_member, find_members, sole_convener
from storage.db import Database
from storage.models import Member


class MemberDataError(Exception):
    pass


async def _one(db: Database, ref: str, wg: str | None) -> Member:
    async with db.session() as s:
        found = await find_members(s, ref, wg)
    if not found:
        raise MemberDataError(f"no member matches “{ref}” (try the display name, handle, e-mail or platform:user_id)")
    if len(found) > 1:
        raise MemberDataError(f"“{ref}” matches {len(found)} members (in several groups?): add --wg NAME")
    return found[0]


async def export(database_url: str, ref: str, wg: str | None) -> str:
    db = Database(database_url)
    try:
        await db.upgrade()
        member = await _one(db, ref, wg)
        async with db.session() as s:
            fresh = await s.get(Member, member.id)
            assert fresh is not None
            return export_json(await export_member(s, fresh, SystemClock().now()))
    finally:
        await db.dispose()


async def erase(database_url: str, ref: str, wg: str | None) -> dict[str, int]:
    db = Database(database_url)
    try:
        await db.upgrade()
        member = await _one(db, ref, wg)
        async with db.transaction() as s:
            fresh = await s.get(Member, member.id)
            assert fresh is not None
            if await sole_convener(s, fresh):
                raise MemberDataError("this member is the group's only convener: make someone else convener first")
            return await erase_member(s, fresh, SystemClock().now())
    finally:
        await db.dispose()
