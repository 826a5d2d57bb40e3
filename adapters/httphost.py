"""One aiohttp server for everything `wgbot run` serves over HTTP: Slack's HTTP mode (`/slack/events`)
and the web record share a host and port when both are on.

A starter either hands over the aiohttp application it already has (Slack's Bolt adapter builds
its own) with `mount`, or adds routes to whatever will be served with `extend`. `serve()` runs once,
after every starter had its say, so the router is complete before aiohttp freezes it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger(__name__)


class HttpHost:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._app: web.Application | None = None
        self._extensions: list[Callable[[web.Application], None]] = []
        #: what is served, for the start-up log line ("/slack/events", "the web record")
        self.names: list[str] = []
        self.runner: web.AppRunner | None = None
        self.bound_port: int | None = None
        self.ready = asyncio.Event()

    @property
    def used(self) -> bool:
        return self._app is not None or bool(self._extensions)

    def mount(self, app: web.Application, name: str = "/slack/events") -> None:
        if self._app is not None:
            raise RuntimeError("two adapters each brought an aiohttp application")
        self._app = app
        self.names.append(name)

    def serves(self, path: str) -> bool:
        """Whether the application a starter mounted already routes `path` (Slack's has /healthz)."""
        if self._app is None:
            return False
        return any(getattr(r, "canonical", None) == path for r in self._app.router.resources())

    def extend(self, fn: Callable[[web.Application], None], name: str = "the web record") -> None:
        self._extensions.append(fn)
        self.names.append(name)

    def application(self) -> web.Application:
        app = self._app if self._app is not None else web.Application()
        for fn in self._extensions:
            fn(app)
        return app

    async def open(self) -> int:
        """Start serving; returns the port (port 0 picks a free one)."""
        self.runner = web.AppRunner(self.application(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
        self.ready.set()
        return self.bound_port

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def serve(self) -> None:
        port = await self.open()
        log.info("serving %s on %s:%s", " and ".join(self.names) or "HTTP", self.host, port)
        try:
            await asyncio.Event().wait()
        finally:
            await self.close()
