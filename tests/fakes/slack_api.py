"""A loopback stand-in for the Slack Web API (and for `response_url` webhooks).

It answers the methods the adapter uses the way Slack does (`{"ok": true, …}`, errors as
`{"ok": false, "error": …}` with HTTP 200, rate limits as HTTP 429 with `Retry-After`), and records
every call — method, the merged query / form / JSON body, and the Authorization header — so a test
can assert on exactly what would have reached Slack. It can be told to fail the next calls of a
method (`fail_next`) to exercise retries.

Files: `files_upload_v2`'s three steps — `files.getUploadURLExternal` hands out an upload URL on this
server, the client POSTs the bytes there, `files.completeUploadExternal` shares them in a channel —
end in `files` (one `UploadedFile` per file id). `fail_uploads` makes the next POSTs answer 500.

Socket Mode: `apps.connections.open` (called with the app-level token) answers a `ws://` URL served
here. On connect the websocket says `{"type": "hello", …}` as Slack does; the test then `push`es
envelopes (`envelope_id`, `type`, `payload`, `accepts_response_payload`) and waits for their acks
(`ack_for`), which the client sends back as `{"envelope_id": …[, "payload": …]}`. Waits are bounded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER_ID = "UBOT"
WORKSPACE_URL = "https://wg-test.slack.com/"


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    authorization: str | None
    status: int = 200
    ok: bool = True


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    content: bytes | None = None
    #: set by files.completeUploadExternal
    channel: str | None = None
    title: str | None = None
    initial_comment: str | None = None


@dataclass
class FakeSlackAPI:
    scopes: list[str] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (channel, thread ts) → the thread's messages, oldest first (parent included)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    responses: list[Call] = field(default_factory=list)
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    base: str = ""
    #: Socket Mode: connections opened so far, messages the client sent back (acks), in order
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    socket_messages: list[dict[str, Any]] = field(default_factory=list)
    _socket_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    files: dict[str, UploadedFile] = field(default_factory=dict)
    fail_uploads: int = 0
    _file_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None
    #: Slack's posting limits, enforced when set: chat.postMessage per second per channel, and across
    #: the workspace (a token bucket holding `overall_burst` posts); a post over either is answered
    #: 429 with Retry-After (whole seconds, as Slack sends it) and not accepted
    channel_rate: float | None = None
    overall_rate: float | None = None
    overall_burst: float = 5.0
    _channel_last: dict[str, float] = field(default_factory=dict)
    _tokens: float = 0.0
    _refilled: float | None = None

    @property
    def url(self) -> str:
        """The Web API base URL (what SLACK_API_URL is set to)."""
        return f"{self.base}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base}/response/{name}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/socket/{name}", self._socket)
        app.router.add_post("/upload/{file_id}", self._upload)
        self._changed = asyncio.Condition()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- test helpers -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str = "ratelimited",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._failures.setdefault(method, []).extend(
            Failure(status, {"ok": False, "error": error}, headers) for _ in range(times)
        )

    def of(self, method: str, *, ok_only: bool = True) -> list[dict[str, Any]]:
        """The bodies of the calls to one method (by default only those Slack accepted)."""
        return [c.body for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def clear(self) -> None:
        self.calls.clear()
        self.responses.clear()

    async def wait_until(self, predicate: Callable[[], bool], within: float = 60.0) -> None:
        """Wait (at most `within` seconds) until `predicate()` holds; re-checked on every socket change."""
        assert self._changed is not None, "start() the fake first"
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), within)

    async def socket_connected(self, within: float = 60.0) -> web.WebSocketResponse:
        await self.wait_until(lambda: any(not ws.closed for ws in self.sockets), within)
        return next(ws for ws in reversed(self.sockets) if not ws.closed)

    async def push(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str,
        accepts_response_payload: bool = False,
        **extra: Any,
    ) -> None:
        """Send one Socket Mode envelope (`slash_commands`, `events_api`, `interactive`) to the client."""
        ws = await self.socket_connected()
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            **extra,
        }
        await ws.send_str(json.dumps(envelope))

    def acks(self, envelope_id: str) -> list[dict[str, Any]]:
        return [m for m in self.socket_messages if m.get("envelope_id") == envelope_id]

    async def ack_for(self, envelope_id: str, within: float = 60.0) -> dict[str, Any]:
        """The client's acknowledgement of one envelope, waiting for it at most `within` seconds."""
        await self.wait_until(lambda: bool(self.acks(envelope_id)), within)
        return self.acks(envelope_id)[0]

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    # ---- the server ---------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                body.update(await request.json())
            else:
                form = await request.post()
                body.update({k: v for k, v in form.items() if isinstance(v, str)})
        for key in ("blocks", "view", "attachments"):
            if isinstance(body.get(key), str):
                body[key] = json.loads(body[key])
        return body

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(Call(f"response:{request.match_info['name']}", body, None))
        return web.Response(text="ok")

    def shared(self) -> list[UploadedFile]:
        """Files whose upload was completed (shared in a conversation)."""
        return [f for f in self.files.values() if f.channel is not None]

    async def _upload(self, request: web.Request) -> web.Response:
        data = await request.read()
        self.calls.append(Call("upload", {"file_id": request.match_info["file_id"], "bytes": len(data)}, None))
        if self.fail_uploads:
            self.fail_uploads -= 1
            return web.Response(status=500, text="upload failed")
        upload = self.files.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        upload.content = data
        return web.Response(text=f"OK - {len(data)}")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)  # answers the client's pings, as Slack does
        await ws.prepare(request)
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self.sockets) + 1,
                    "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": "A1"},
                }
            )
        )
        self.sockets.append(ws)
        await self._notify()
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                self.socket_messages.append(json.loads(msg.data))
                await self._notify()
        await self._notify()
        return ws

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await self._body(request)
        auth = request.headers.get("Authorization")
        queue = self._failures.get(method)
        if queue:
            failure = queue.pop(0)
            self.calls.append(Call(method, body, auth, status=failure.status, ok=False))
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        if method == "chat.postMessage" and (wait := self._over_limit(str(body.get("channel")))) is not None:
            self.calls.append(Call(method, body, auth, status=429, ok=False))
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        result = handler(body) if handler else {"ok": True}
        self.calls.append(Call(method, body, auth, ok=bool(result.get("ok"))))
        headers = {"x-oauth-scopes": ",".join(self.scopes)} if method == "auth.test" else {}
        return web.json_response(result, headers=headers)

    def _over_limit(self, channel: str) -> float | None:
        """Seconds until this post would be allowed, or None (then it counts against the limits)."""
        now = time.monotonic()
        waits = []
        if self.channel_rate:
            last = self._channel_last.get(channel)
            gap = 1.0 / self.channel_rate
            if last is not None and now - last < gap:
                waits.append(gap - (now - last))
        tokens = 0.0
        if self.overall_rate:
            if self._refilled is None:
                self._tokens, self._refilled = self.overall_burst, now
            tokens = min(self.overall_burst, self._tokens + (now - self._refilled) * self.overall_rate)
            if tokens < 1:
                waits.append((1 - tokens) / self.overall_rate)
        if waits:
            return max(waits)
        if self.overall_rate:
            self._tokens, self._refilled = tokens - 1, now
        self._channel_last[channel] = now
        return None

    def _next_ts(self) -> str:
        return f"1767600000.{next(self._ts):06d}"

    def m_auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": WORKSPACE_URL,
            "team": "WG Test",
            "user": "wgbot",
            "team_id": "T1",
            "user_id": BOT_USER_ID,
            "bot_id": "BBOT",
        }

    def m_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "channel": body.get("channel"),
            "ts": self._next_ts(),
            "message": {"text": body.get("text")},
        }

    def m_chat_postEphemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def m_chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"), "text": body.get("text")}

    def m_views_open(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V1", **(body.get("view") or {})}}

    def m_users_info(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(body.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def m_conversations_info(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(body.get("channel")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": channel}

    def m_conversations_join(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": body.get("channel")}}

    def m_conversations_replies(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = self.threads.get((str(body.get("channel")), str(body.get("ts"))))
        if messages is None:
            return {"ok": False, "error": "thread_not_found"}
        limit = int(body.get("limit") or 1000)
        start = int(body.get("cursor") or 0)
        page = messages[start : start + limit]
        if start and messages:  # like Slack, every page starts with the parent message
            page = [messages[0], *page]
        more = start + limit < len(messages)
        meta = {"next_cursor": str(start + limit) if more else ""}
        return {"ok": True, "messages": page, "has_more": more, "response_metadata": meta}

    def m_chat_getPermalink(self, body: dict[str, Any]) -> dict[str, Any]:
        ts = str(body.get("message_ts", "")).replace(".", "")
        return {"ok": True, "permalink": f"{WORKSPACE_URL}archives/{body.get('channel')}/p{ts}"}

    def m_apps_connections_open(self, body: dict[str, Any]) -> dict[str, Any]:
        ws_base = self.base.replace("http://", "ws://", 1)
        return {"ok": True, "url": f"{ws_base}/socket/{next(self._socket_ids)}?ticket=fake"}

    def m_conversations_open(self, body: dict[str, Any]) -> dict[str, Any]:
        users = str(body.get("users") or "")
        if not users or "," in users:
            return {"ok": False, "error": "not_implemented" if users else "users_list_not_supplied"}
        if users not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + users}}

    def m_files_getUploadURLExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("filename") or not str(body.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):04d}"
        self.files[file_id] = UploadedFile(file_id, str(body["filename"]), int(body["length"]))
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def m_files_completeUploadExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        listed = body.get("files")
        entries = json.loads(listed) if isinstance(listed, str) else listed or []
        done = []
        for entry in entries:
            upload = self.files.get(str(entry.get("id")))
            if upload is None or upload.content is None or len(upload.content) != upload.length:
                return {"ok": False, "error": "file_not_found"}
            upload.channel = str(body.get("channel_id") or "") or None
            upload.title = entry.get("title")
            upload.initial_comment = body.get("initial_comment")
            done.append({"id": upload.id, "name": upload.filename, "title": upload.title})
        return {"ok": True, "files": done}
