"""The web record served for real on loopback (aiohttp on 127.0.0.1, a free port) over a group built
through the real core commands; requests go over HTTP with aiohttp's client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from sqlmodel import select

from adapters.httphost import HttpHost
from adapters.web.server import WebRecord
from bot.reply import Response
from storage.models import WebAccess, WorkingGroup
from tests.conftest import Harness

PUBLIC = "https://wg.example.org"


def text_of(response: Response) -> str:
    return "\n".join(r.to_text() for r in response.replies)


@dataclass
class Site:
    harness: Harness
    url: str
    http: aiohttp.ClientSession
    record: WebRecord

    async def get(self, path: str, **kw: object) -> tuple[int, str, aiohttp.typedefs.LooseHeaders]:
        async with self.http.get(self.url + path, allow_redirects=False, **kw) as resp:  # type: ignore[arg-type]
            return resp.status, await resp.text(), resp.headers

    async def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        async with self.http.post(self.url + path, data=data, allow_redirects=False) as resp:
            return resp.status, await resp.text()

    async def access(self) -> WebAccess:
        async with self.harness.app.db.session() as s:
            wg = (await s.exec(select(WorkingGroup))).one()
            row = await s.get(WebAccess, wg.id)
        assert row is not None
        return row

    async def record_path(self) -> str:
        return f"/r/{(await self.access()).token}/"


async def populate(h: Harness) -> None:
    """Ana (convener, Paris, civil society, WEOG) and Kenji (Tokyo, academia, Asia-Pacific); two
    proposals, a weekly meeting on Thursdays 14:00 Paris, and the web link made."""
    await h.say("ana", "/wg join civil-society region:weog tz:Europe/Paris")
    await h.say("kenji", "/wg join academia region:asia-pacific tz:Asia/Tokyo")
    await h.say("ana", '/wg propose "Shared glossary" One glossary for the group.')
    await h.say("kenji", '/wg propose "Incident taxonomy" A taxonomy of AI incidents.')
    await h.say("ana", '/wg meeting "Weekly sync" at:"2026-01-08 14:00 Europe/Paris" every:weekly duration:1h')
    await h.say("ana", "/wg web link")


@pytest.fixture
async def site(harness: Harness) -> AsyncIterator[Site]:
    harness.app.core.public_url = PUBLIC
    await populate(harness)
    host = HttpHost("127.0.0.1", 0)
    web_record = WebRecord(harness.app.db, harness.clock)
    host.extend(web_record.install)
    port = await host.open()
    async with aiohttp.ClientSession() as http:
        yield Site(harness, f"http://127.0.0.1:{port}", http, web_record)
    await host.close()
