"""A Discord-compatible server on loopback, enough for discord.py 2.6/2.7 to log in, connect and talk.

It speaks the REST API under `/api/v10` (login, application info, command sync, interaction
callbacks and webhook follow-ups, channel messages with history paging and nonce deduplication,
DM channels) and the gateway (`HELLO`, `IDENTIFY` → `READY` + `GUILD_CREATE`, heartbeat ACKs,
`RESUME`, invalid sessions). Every REST request is recorded; tests wait for requests with
`wait_request()` (event-driven, with a timeout) and push events with `push_*()`.

Sharding as on Discord: GET /gateway/bot recommends `shards`; a session that IDENTIFYs with
`shard: [id, count]` gets READY and GUILD_CREATE for the guilds of that shard only
(`(guild_id >> 22) % count`), a guild's events on that shard and DMs on shard 0. A session without a
shard gets everything. `more_guilds` adds guilds (each with one text channel) beside `guild_id`.

Point discord.py at it with `DISCORD_API_BASE=server.api_base` and
`DISCORD_GATEWAY_URL=server.gateway_url`. Only loopback is used.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
ALL_PERMISSIONS = str((1 << 41) - 1)


def snowflake_at(when: datetime, seq: int) -> int:
    ms = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (seq & 0xFFF)


def _json(body: Any, status: int) -> web.Response:
    # discord.py decodes a body as JSON only when the content type is exactly `application/json`
    return web.Response(body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"})


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 200


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.username,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    times: int = 1


@dataclass
class DiscordServer:
    """The fake. Construct, `await start()`, use, `await stop()`."""

    app_id: int = 900000000000000001
    guild_id: int = 900000000000000100
    channel_id: int = 900000000000000200
    thread_id: int = 900000000000000300
    channel_name: str = "wg"
    bot: FakeUser = field(default_factory=lambda: FakeUser(900000000000000001, "wgbot", bot=True))
    users: dict[int, FakeUser] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    messages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    identifies: int = 0
    resumes: int = 0
    #: guilds READY lists besides `guild_id` whose GUILD_CREATE never comes (as in a Discord outage)
    unavailable_guilds: list[int] = field(default_factory=list)
    #: the shard count GET /gateway/bot recommends
    shards: int = 1
    #: guilds besides `guild_id`: guild id → the id of its one text channel
    more_guilds: dict[int, int] = field(default_factory=dict)
    #: every event sent on the gateway: (event, its guild or None, the shard of the session or None)
    delivered: list[tuple[str, int | None, int | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._seq = 0
        self._changed = asyncio.Condition()
        self._ws: web.WebSocketResponse | None = None
        #: every live gateway session: Discord delivers each event to every session of the token
        #: (of the event's shard, when sessions are sharded)
        self._sockets: list[web.WebSocketResponse] = []
        #: the `[shard_id, shard_count]` each session IDENTIFYed with (None: unsharded)
        self._shard_of: dict[web.WebSocketResponse, tuple[int, int] | None] = {}
        #: interactions already answered (a second callback gets 400, code 40060, as on Discord)
        self._acknowledged: set[str] = set()
        self._connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._failures: list[Failure] = []
        self._originals: dict[str, dict[str, Any]] = {}
        self._dm_channels: dict[int, int] = {}
        self.port = 0
        self.messages.setdefault(self.channel_id, [])
        self.messages.setdefault(self.thread_id, [])
        for channel in self.more_guilds.values():
            self.messages.setdefault(channel, [])

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def sessions(self) -> int:
        """Gateway sessions connected now (one per running client)."""
        return len([ws for ws in self._sockets if not ws.closed])

    def session_shards(self) -> list[tuple[int, int] | None]:
        """The shard of each session connected now, as IDENTIFY gave it."""
        return [self._shard_of.get(ws) for ws in self._sockets if not ws.closed]

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---- ids and objects ---------------------------------------------------------------------

    def new_id(self) -> int:
        return snowflake_at(datetime.now(UTC), next(self._ids))

    def user(self, user_id: int, name: str) -> FakeUser:
        self.users.setdefault(user_id, FakeUser(user_id, name))
        return self.users[user_id]

    def guild_of(self, channel_id: int) -> int | None:
        """The guild a channel or thread belongs to (None: a DM)."""
        if channel_id in (self.channel_id, self.thread_id):
            return self.guild_id
        return next((g for g, c in self.more_guilds.items() if c == channel_id), None)

    def channel_payload(self, channel_id: int | None = None) -> dict[str, Any]:
        cid = channel_id or self.channel_id
        if cid == self.thread_id:
            return {
                "id": str(self.thread_id),
                "type": 11,
                "guild_id": str(self.guild_id),
                "parent_id": str(self.channel_id),
                "name": "t1",
                "owner_id": str(self.bot.id),
                "message_count": 0,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": "2026-01-01T00:00:00+00:00",
                    "locked": False,
                },
            }
        for user_id, dm in self._dm_channels.items():
            if dm == cid:
                return {
                    "id": str(dm),
                    "type": 1,
                    "recipients": [self.users[user_id].payload()],
                    "last_message_id": None,
                }
        return {
            "id": str(cid),
            "type": 0,
            "guild_id": str(self.guild_of(cid) or self.guild_id),
            "name": self.channel_name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def guild_payload(self, guild_id: int | None = None) -> dict[str, Any]:
        gid = guild_id or self.guild_id
        extra = gid != self.guild_id
        return {
            "id": str(gid),
            "name": "IGF working group",
            "icon": None,
            "owner_id": "1",
            "afk_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "unavailable": False,
            "large": False,
            "member_count": 2,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "roles": [
                {
                    "id": str(gid),
                    "name": "@everyone",
                    "permissions": ALL_PERMISSIONS,
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "members": [],
            "channels": [self.channel_payload(self.more_guilds[gid] if extra else self.channel_id)],
            "threads": [] if extra else [self.channel_payload(self.thread_id)],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def message_payload(
        self, channel_id: int, body: dict[str, Any], *, author: FakeUser | None = None, flags: int = 0
    ) -> dict[str, Any]:
        mid = self.new_id()
        msg: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": (author or self.bot).payload(),
            "content": body.get("content") or "",
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": body.get("type", 0),
            "flags": flags | int(body.get("flags") or 0),
        }
        guild = self.guild_of(channel_id)
        if guild is not None:
            msg["guild_id"] = str(guild)
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        return msg

    def store(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.messages.setdefault(int(msg["channel_id"]), []).append(msg)
        return msg

    def find_message(self, message_id: int | str) -> dict[str, Any] | None:
        for msgs in self.messages.values():
            for m in msgs:
                if m["id"] == str(message_id):
                    return m
        return None

    def dm_channel_of(self, user_id: int) -> int:
        return self._dm_channels[user_id]

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for msgs in self.messages.values() for m in msgs if m["author"]["id"] == str(self.bot.id)]

    # ---- failures ------------------------------------------------------------------------------

    def fail(
        self, method: str, path: str, status: int, *, code: int = 0, message: str = "error", times: int = 1
    ) -> None:
        """The next `times` requests matching `method` and the `path` regex get this error."""
        self._failures.append(Failure(method, re.compile(path), status, {"code": code, "message": message}, times))

    def _failure(self, method: str, path: str) -> Failure | None:
        for f in self._failures:
            if f.method == method and f.pattern.search(path) and f.times > 0:
                f.times -= 1
                return f
        return None

    # ---- waiting ---------------------------------------------------------------------------------

    async def _record(self, rec: Recorded) -> None:
        async with self._changed:
            self.requests.append(rec)
            self._changed.notify_all()

    def matching(self, method: str, path: str, *, since: int = 0) -> list[Recorded]:
        pattern = re.compile(path)
        return [r for r in self.requests[since:] if r.method == method and pattern.search(r.path)]

    async def wait_request(
        self, method: str, path: str, *, since: int = 0, count: int = 1, within: float = 60
    ) -> list[Recorded]:
        """Wait until `count` requests match (recorded at index ≥ since); returns them."""

        async def ready() -> list[Recorded]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.matching(method, path, since=since)) >= count)
                return self.matching(method, path, since=since)

        return await asyncio.wait_for(ready(), within)

    def mark(self) -> int:
        """An index to pass as `since=`: only requests after this moment."""
        return len(self.requests)

    async def wait_connected(self, within: float = 60) -> None:
        await asyncio.wait_for(self._connected.wait(), within)

    # ---- REST ------------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                body = {"files": [], "file_contents": []}
                reader = await request.multipart()
                async for part in reader:
                    if part.name == "payload_json":  # type: ignore[union-attr]
                        body.update(json.loads(await part.text()))  # type: ignore[union-attr]
                    else:
                        body["files"].append(part.filename)  # type: ignore[union-attr]
                        body["file_contents"].append(await part.read())  # type: ignore[union-attr]
            else:
                raw = await request.text()
                body = json.loads(raw) if raw else None
        failure = self._failure(request.method, path)
        if failure is not None:
            await self._record(Recorded(request.method, path, dict(request.query), body, failure.status))
            return _json(failure.body, failure.status)
        status, result = self._handle(request.method, path, dict(request.query), body)
        await self._record(Recorded(request.method, path, dict(request.query), body, status))
        if status == 204:
            return web.Response(status=204)
        return _json(result, status)

    def _handle(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        m: re.Match[str] | None
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return 200, {"url": self.gateway_url, "shards": self.shards, "session_start_limit": limit}
        if method == "GET" and path == "/users/@me":
            return 200, self.bot.payload()
        if method == "GET" and path == "/oauth2/applications/@me":
            return 200, {
                "id": str(self.app_id),
                "name": "wgbot",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None},
                "verify_key": "0" * 64,
                "flags": 0,
                "interactions_endpoint_url": None,
            }
        if m := re.fullmatch(r"/applications/(\d+)/commands", path):
            if method == "PUT":
                self.commands = [
                    # like Discord, context-menu commands come back with an empty description
                    {
                        "description": "",
                        **c,
                        "id": str(self.new_id()),
                        "application_id": str(self.app_id),
                        "version": "1",
                    }
                    for c in body
                ]
                return 200, self.commands
            return 200, self.commands
        if m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            return self._callback(int(m[1]), m[2], body)
        if m := re.fullmatch(r"/webhooks/(\d+)/([^/]+)", path):
            if method == "POST":
                original = self._originals.get(m[2])
                channel_id = int(original["channel_id"]) if original else self.channel_id
                return 200, self.store(self.message_payload(channel_id, body))
        if m := re.fullmatch(r"/webhooks/(\d+)/([^/]+)/messages/@original", path):
            original = self._originals.get(m[2])
            if original is None:
                return 404, {"code": 10008, "message": "Unknown Message"}
            if method == "PATCH":
                original.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
                return 200, original
            if method == "DELETE":
                msgs = self.messages.get(int(original["channel_id"]), [])
                if original in msgs:
                    msgs.remove(original)
                self._originals.pop(m[2], None)
                return 204, None
            return 200, original
        if method == "POST" and path == "/users/@me/channels":
            user_id = int(body["recipient_id"])
            self.user(user_id, f"user{user_id}")
            dm = self._dm_channels.setdefault(user_id, self.new_id())
            self.messages.setdefault(dm, [])
            return 200, self.channel_payload(dm)
        if m := re.fullmatch(r"/channels/(\d+)/messages", path):
            channel_id = int(m[1])
            if channel_id not in self.messages:
                return 404, {"code": 10003, "message": "Unknown Channel"}
            if method == "POST":
                if body.get("enforce_nonce") and body.get("nonce") is not None:
                    for existing in self.messages[channel_id]:
                        if existing.get("nonce") == body["nonce"]:
                            return 200, existing
                return 200, self.store(self.message_payload(channel_id, body))
            return 200, self._history(channel_id, query)
        if m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path):
            found = self.find_message(m[2])
            if found is None or found["channel_id"] != m[1]:
                return 404, {"code": 10008, "message": "Unknown Message"}
            if method == "PATCH":
                found.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
            return 200, found
        if m := re.fullmatch(r"/channels/(\d+)", path):
            return 200, self.channel_payload(int(m[1]))
        return 404, {"code": 0, "message": f"fake Discord has no {method} {path}"}

    def _history(self, channel_id: int, query: dict[str, str]) -> list[dict[str, Any]]:
        """Discord's paging: newest first; `before`/`after` exclusive; `after` takes the oldest ones."""
        limit = min(int(query.get("limit", 50)), 100)
        msgs = sorted(self.messages[channel_id], key=lambda x: int(x["id"]))
        if "after" in query:
            page = [x for x in msgs if int(x["id"]) > int(query["after"])][:limit]
            return list(reversed(page))
        if "before" in query:
            msgs = [x for x in msgs if int(x["id"]) < int(query["before"])]
        return list(reversed(msgs[-limit:]))

    def _callback(self, interaction_id: int, token: str, body: dict[str, Any]) -> tuple[int, Any]:
        kind = int(body["type"])
        if kind != 8:  # autocompletion results are not an acknowledgement
            if token in self._acknowledged:
                return 400, {"code": 40060, "message": "Interaction has already been acknowledged."}
            self._acknowledged.add(token)
        data = body.get("data") or {}
        channel_id = int(self._pending.get(token, {}).get("channel_id", self.channel_id))
        interaction = {"id": str(interaction_id), "type": self._pending.get(token, {}).get("type", 2)}
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 5):  # a message (or the "thinking" placeholder that becomes one)
            flags = int(data.get("flags") or 0) | (128 if kind == 5 else 0)
            msg = self.store(self.message_payload(channel_id, data, flags=flags))
            self._originals[token] = msg
            interaction.update(response_message_id=msg["id"], response_message_loading=kind == 5)
            interaction["response_message_ephemeral"] = bool(flags & 64)
            resource["message"] = msg
        elif kind == 7:  # update the clicked message
            message_id = self._pending.get(token, {}).get("message_id")
            msg = self.find_message(message_id) if message_id else None
            if msg is not None:
                msg.update({k: v for k, v in data.items() if k in ("content", "embeds", "components")})
                self._originals[token] = msg
                resource["message"] = msg
        elif kind == 6:
            message_id = self._pending.get(token, {}).get("message_id")
            msg = self.find_message(message_id) if message_id else None
            if msg is not None:
                self._originals[token] = msg
        return 200, {"interaction": interaction, "resource": resource}

    # ---- gateway ---------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self._sockets.append(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op = frame.get("op")
            if op == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                self.identifies += 1
                shard = (frame.get("d") or {}).get("shard")
                self._shard_of[ws] = (int(shard[0]), int(shard[1])) if shard else None
                await self._ready(ws)
            elif op == 6:
                self.resumes += 1
                await self.dispatch("RESUMED", {}, ws=ws)
        self._sockets.remove(ws)
        self._shard_of.pop(ws, None)
        if self._ws is ws:
            self._connected.clear()
        return ws

    async def _ready(self, ws: web.WebSocketResponse) -> None:
        await self._send_ready(ws)
        self._connected.set()

    def _on_shard(self, guild_id: int | None, shard: tuple[int, int] | None) -> bool:
        """Whether Discord sends this guild's events (a DM's, for None) to a session of this shard."""
        if shard is None:
            return True
        shard_id, count = shard
        return shard_id == (0 if guild_id is None else (guild_id >> 22) % count)

    async def _send_ready(self, ws: web.WebSocketResponse) -> None:
        """READY listing the session's guilds (those of its shard), then a GUILD_CREATE for each."""
        shard = self._shard_of.get(ws)
        listed = [g for g in [self.guild_id, *self.more_guilds, *self.unavailable_guilds] if self._on_shard(g, shard)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.bot.payload(),
            "guilds": [{"id": str(g), "unavailable": True} for g in listed],
            "session_id": f"session-{self.identifies}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        await self.dispatch("READY", ready, ws=ws)
        for g in listed:
            if g not in self.unavailable_guilds:
                await self.dispatch("GUILD_CREATE", self.guild_payload(g), ws=ws)

    async def dispatch(self, event: str, data: Any, *, ws: web.WebSocketResponse | None = None) -> None:
        """To one session (`ws`), or, as Discord does, to every session connected with the token that
        has the event's shard (a guild's events go to its shard, DMs to shard 0)."""
        assert self._ws is not None, "no client connected"
        self._seq += 1
        guild = data.get("guild_id") if isinstance(data, dict) else None
        if event == "GUILD_CREATE":
            guild = data["id"]
        guild_id = int(guild) if guild is not None else None
        if ws is not None:
            targets = [ws]
        else:
            live = [w for w in self._sockets if not w.closed]
            targets = [w for w in live if self._on_shard(guild_id, self._shard_of.get(w))]
        for target in targets:
            shard = self._shard_of.get(target)
            self.delivered.append((event, guild_id, shard[0] if shard else None))
            await target.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    async def push_ready_again(self) -> None:
        """A second READY on every live connection (as after a session Discord could not resume)."""
        for ws in [w for w in self._sockets if not w.closed]:
            self.identifies += 1
            await self._send_ready(ws)

    async def invalidate_session(self) -> None:
        """Op 9 with d=false: the client must drop its session and IDENTIFY again (no RESUME)."""
        assert self._ws is not None
        self._connected.clear()
        await self._ws.send_json({"op": 9, "d": False, "s": None, "t": None})

    # ---- pushed events ---------------------------------------------------------------------------

    _pending: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _member(self, user: FakeUser) -> dict[str, Any]:
        return {
            "user": user.payload(),
            "roles": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": ALL_PERMISSIONS,
        }

    async def push_interaction(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        channel_id: int | None = None,
        message: dict[str, Any] | None = None,
        dm: bool = False,
    ) -> str:
        """Send an INTERACTION_CREATE; returns its token (the callback and follow-ups are keyed by it)."""
        iid = self.new_id()
        token = f"token-{iid}"
        cid = channel_id or self.channel_id
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": kind,
            "data": data,
            "channel_id": str(cid),
            "channel": self.channel_payload(cid),
            "token": token,
            "version": 1,
            "app_permissions": ALL_PERMISSIONS,
            "attachment_size_limit": 10 * 1024 * 1024,
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_of(cid) or self.guild_id)},
            "context": 1 if dm else 0,
        }
        if dm:
            payload["user"] = user.payload()
        else:
            payload["guild_id"] = str(self.guild_of(cid) or self.guild_id)
            payload["guild_locale"] = "en-US"
            payload["member"] = self._member(user)
        if message is not None:
            payload["message"] = message
        self._pending[token] = {"channel_id": cid, "type": kind, "message_id": message["id"] if message else None}
        await self.dispatch("INTERACTION_CREATE", payload)
        return token

    def command_data(self, path: list[str], options: dict[str, Any], *, focused: str | None = None) -> dict[str, Any]:
        """`/wg <path…> name:value…` as Discord encodes it (subcommand nesting, typed values)."""
        root = next(c for c in self.commands if c["name"] == path[0])
        leaf_options = []
        for name, value in options.items():
            opt_type = 5 if isinstance(value, bool) else 3
            opt: dict[str, Any] = {"name": name, "type": opt_type, "value": value}
            if name == focused:
                opt["focused"] = True
            leaf_options.append(opt)
        nested: list[dict[str, Any]] = leaf_options
        for i, word in reversed(list(enumerate(path[1:], start=1))):
            is_group = i < len(path) - 1
            nested = [{"name": word, "type": 2 if is_group else 1, "options": nested}]
        return {"id": root["id"], "name": path[0], "type": 1, "options": nested}

    async def push_command(self, path: list[str], options: dict[str, Any], *, user: FakeUser, **kw: Any) -> str:
        return await self.push_interaction(2, self.command_data(path, options), user=user, **kw)

    async def push_autocomplete(
        self, path: list[str], options: dict[str, Any], focused: str, *, user: FakeUser, **kw: Any
    ) -> str:
        return await self.push_interaction(4, self.command_data(path, options, focused=focused), user=user, **kw)

    async def push_click(
        self, message: dict[str, Any], custom_id: str, *, user: FakeUser, values: list[str] | None = None
    ) -> str:
        component_type = 3 if values is not None else 2
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        return await self.push_interaction(3, data, user=user, channel_id=int(message["channel_id"]), message=message)

    async def push_modal_submit(self, custom_id: str, fields: dict[str, str], *, user: FakeUser) -> str:
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in fields.items()]
        return await self.push_interaction(5, {"custom_id": custom_id, "components": rows}, user=user)

    async def push_message(self, content: str, *, user: FakeUser, channel_id: int | None = None) -> dict[str, Any]:
        """A member writes in a channel or thread: stored (for history) and sent as MESSAGE_CREATE."""
        msg = self.store(self.message_payload(channel_id or self.channel_id, {"content": content}, author=user))
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    def original(self, token: str) -> dict[str, Any] | None:
        return self._originals.get(token)
