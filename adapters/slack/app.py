"""The Slack adapter: Bolt's AsyncApp translating Slack's entry points into core commands.

Entry points: the `/wg` slash command, `@wgbot <command>` mentions (also in threads, where slash
commands do not exist), plain messages in the bot's DM, buttons and selects (`block_actions`),
modal submissions (`view_submission`) and the "Summarize thread" message shortcut.

Every listener acknowledges at once (Slack retries, then shows an error, after 3 seconds) and hands
the work to a tracked background task. The work of one person in one conversation runs in the order
it arrived (`TaskTracker.spawn(..., key=(user, channel))`, called before the ack), so `propose` then
`amend` typed in quick succession never apply the other way round; other people and other channels
are not held up. The answers of one person's commands are posted in that same order on a second
chain, so their next command does not wait for Slack to take the previous answer. The one exception
is a modal submission: there the core runs first, for up to 2 seconds, so that a mistake is shown
inside the still-open modal (`response_action: errors`) instead of the person losing what they
typed; if the core is slower, the modal closes and the answer follows as a message.

Events are deduplicated by `event_id` in the database: Slack retries an event it thinks was not
acknowledged (`X-Slack-Retry-Num`), Socket Mode can deliver one twice, and with several processes
behind one URL only the database sees them all. The id goes to the core with the command
(`Core.handle_text(..., event_id=...)`), which records it in the command's own transaction: an
event whose handling failed (or whose process died) is not marked as handled, so Slack's retry
runs it, while a delivery of an event already handled (or a concurrent duplicate that lost the race)
does nothing and answers nothing. Request signatures and the
5-minute timestamp window are checked by Bolt's built-in middleware, which stays on. Slash commands
and interactions, which have no event id and which Slack never retries, are guarded against replay
within that window by their signature, per process (adapters/slack/replay.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.health import Probe
from adapters.health import health as health_report
from adapters.slack.render import (
    FORM_CALLBACK,
    Message,
    decode_action,
    decode_form,
    file_comment,
    render_form,
    render_reply,
    with_files_sent,
)
from adapters.slack.render import render_single as render_one
from adapters.slack.replay import ReplayGuard, deduplicated_by_event_id
from adapters.slack.text import decode, strip_bot_mention
from adapters.slack.updates import UpdateThrottle
from adapters.slack.users import UserDirectory
from adapters.tasks import Gate, TaskTracker
from bot.command import UserRef, Where
from bot.core import Core
from bot.grammar import find_spec, strip_prefix
from bot.reply import Attachment, Form, Reply, Response

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SUMMARIZE_SHORTCUT = "wg_summarize"
#: how long a modal submission waits for the core before closing the modal anyway (Slack allows 3 s)
FORM_WAIT = 2.0
#: commands run by the core at once (`adapters.tasks.Gate`), unless SLACK_CONCURRENT_COMMANDS says otherwise
DEFAULT_CONCURRENCY = 4
_ACTION_ID = re.compile(r"^wg\d*:")


@dataclass(frozen=True)
class Target:
    """Where the answers to one interaction go."""

    channel_id: str
    user_id: str
    thread_ts: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    #: the message whose button was clicked, replaced by `Response.update`
    message_ts: str | None = None
    #: that message is ephemeral: chat.update cannot reach it, its response_url can
    ephemeral_source: bool = False


def command_name(text: str) -> str | None:
    spec, _ = find_spec(strip_prefix(text).split()[:2])
    return spec.name if spec else None


def _is_dm(channel_id: str, channel_name: str = "") -> bool:
    return channel_id.startswith("D") or channel_name == "directmessage"


def _team(body: dict[str, Any]) -> str:
    """The workspace (team id) of a slash command, event, click, form or shortcut payload."""
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    return str(team or "")[:100]


def _key(user_id: object, channel_id: object) -> tuple[str, str] | None:
    """What orders the work: one person in one conversation (see `TaskTracker.spawn`)."""
    if not user_id or not channel_id:
        return None
    return (str(user_id), str(channel_id))


def _upload_error(exc: BaseException) -> str:
    """Why an upload failed, for the log: Slack's error code (and the scope it needs), never a token."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or "error")
        needed = exc.response.get("needed")
        return f"{error} (needs {needed})" if needed else error
    if isinstance(exc, KeyError):
        return "conversations.open answered without a channel id"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def _action_channel(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return str(channel) if channel else None


class SlackAdapter:
    def __init__(
        self,
        core: Core,
        client: AsyncWebClient,
        *,
        signing_secret: str,
        users: UserDirectory | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.core = core
        self.client = client
        self.users = users or UserDirectory(client)
        self.tasks = TaskTracker()
        #: commands in the core at once (SLACK_CONCURRENT_COMMANDS; see `Gate`)
        self.gate = Gate(concurrency)
        #: how long a modal submission waits for the core (FORM_WAIT; tests that expect the inline
        #: errors, not the later answer, lengthen it so that a loaded machine does not change the path)
        self.form_wait = FORM_WAIT
        #: one chat.update per message per second at most (a busy vote card), the latest one last
        self.updates = UpdateThrottle(lambda coro: self.tasks.spawn(coro, name="slack chat.update"))
        #: adapter states for /healthz: this one answers HTTP, so it is connected; `wgbot run` adds the others
        self.probes: dict[str, Probe] = {"slack": lambda: "connected"}
        #: reported by /healthz without deciding health: `wgbot run` adds the engine role
        self.roles: dict[str, Probe] = {}
        self._secret = signing_secret.encode()
        #: slash commands and interactions already received in the signature window (adapters/slack/replay.py)
        self.replays = ReplayGuard()
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            request_verification_enabled=True,
            # Every listener only hands its work off and acknowledges (the form waits for the core
            # on purpose, see `_view`), so it runs inline and the ack is returned the moment it is
            # called. With False, Bolt runs the listener in a task and polls for the ack every
            # 10 ms: at least one such sleep per request, later still on a busy event loop.
            process_before_response=True,
            logger=logging.getLogger("slack_bolt"),
        )
        self._register()

    # ---- entry points -------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app

        @app.command("/wg")
        async def on_command(ack: Any, body: dict[str, Any]) -> None:
            key = _key(body.get("user_id"), body.get("channel_id"))
            self.tasks.spawn(self._slash(body), name=f"slack /wg {body.get('trigger_id', '')}", key=key)
            await ack()

        @app.middleware
        async def hand_off_events(body: dict[str, Any], context: Any, next_: Any) -> None:
            # Events are acknowledged by Bolt itself before their listener even starts; handing the
            # work off here, inside the dispatch, means it is tracked before Slack gets its 200.
            event = body.get("event") or {}
            if body.get("type") == "event_callback" and self._is_command_event(event):
                self.tasks.spawn(
                    self._message(body, context.get("bot_user_id")),
                    name=f"slack {body.get('event_id')}",
                    key=_key(event.get("user"), event.get("channel")),
                )
            await next_()

        @app.event("app_mention")
        async def on_mention() -> None:
            """Handled by `hand_off_events`; registered so that Bolt acknowledges the event."""

        @app.event("message")
        async def on_message() -> None:
            """Idem: DMs to the bot are handed off; other message events are acknowledged and ignored."""

        @app.action(_ACTION_ID)
        async def on_action(ack: Any, body: dict[str, Any]) -> None:
            key = _key((body.get("user") or {}).get("id"), _action_channel(body))
            self.tasks.spawn(self._action(body), name=f"slack action {body.get('trigger_id', '')}", key=key)
            await ack()

        @app.view(FORM_CALLBACK)
        async def on_view(ack: Any, body: dict[str, Any]) -> None:
            await self._view(ack, body)

        @app.shortcut(SUMMARIZE_SHORTCUT)
        async def on_shortcut(ack: Any, body: dict[str, Any]) -> None:
            key = _key((body.get("user") or {}).get("id"), (body.get("channel") or {}).get("id"))
            self.tasks.spawn(self._shortcut(body), name=f"slack shortcut {body.get('trigger_id', '')}", key=key)
            await ack()

    @staticmethod
    def _is_command_event(event: dict[str, Any]) -> bool:
        """A mention of the bot, or a person's message in the bot's own DM (channels use mentions)."""
        if event.get("type") == "app_mention":
            return True
        return (
            event.get("type") == "message"
            and event.get("channel_type") == "im"
            and not event.get("subtype")
            and not event.get("bot_id")
        )

    def web_app(self) -> web.Application:
        """The HTTP endpoint: Events API, slash commands and interactivity all POST to /slack/events."""

        async def handle(request: web.Request) -> web.Response:
            # The signature first, on the raw bytes: Bolt parses the body (JSON, form) and the
            # timestamp header before it checks them, so an unsigned request with a malformed body
            # or timestamp got a 500 and a traceback. Bolt checks the signature again (cheap).
            raw = await request.read()
            if not self._signed(raw, request.headers):
                log.info("Slack request refused: invalid signature or timestamp (body not logged, %d bytes)", len(raw))
                return web.Response(status=401, text="Invalid request signature.")
            if not deduplicated_by_event_id(raw) and not self.replays.first_time(
                request.headers["X-Slack-Signature"], int(request.headers["X-Slack-Request-Timestamp"]), time.time()
            ):
                # anything but an event with an event_id (deduplicated in the database) or a
                # url_verification: a slash command or an interaction (Slack never retries those),
                # whatever its Content-Type (not signed, and Bolt parses any non-JSON body as a form).
                # The same signed request seen before is a replay: 200 with nothing done
                log.warning(
                    "Slack request ignored: a replay of a signed request already received (body not logged, %d bytes)",
                    len(raw),
                )
                return web.Response(status=200)
            try:
                bolt_request = await to_bolt_request(request)
            except UnicodeDecodeError:  # Slack sends UTF-8; anything else is refused before any work
                return web.Response(status=400, text="The request body is not valid UTF-8.")
            bolt_response = await self.app.async_dispatch(bolt_request)
            return await to_aiohttp_response(bolt_response)

        async def health(request: web.Request) -> web.Response:
            ok, report = await health_report(self.core.db, self.probes, self.roles)
            return web.json_response(report, status=200 if ok else 503)

        web_app = web.Application(client_max_size=1024**2)
        web_app.router.add_post(EVENTS_PATH, handle)
        web_app.router.add_get("/healthz", health)
        return web_app

    def _signed(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether the request carries Slack's signature of this body, made in the last five minutes
        (`X-Slack-Request-Timestamp` must be a plain number of seconds)."""
        stamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not (0 < len(stamp) <= 12 and stamp.isascii() and stamp.isdigit()):
            return False
        if not signature or not signature.isascii():  # compare_digest raises on non-ASCII str
            return False
        if abs(time.time() - int(stamp)) > 5 * 60:
            return False
        # Slack's scheme (v0, HMAC-SHA256 of "v0:<timestamp>:<body>"), on the raw bytes: slack_sdk's
        # SignatureVerifier decodes the body first and raises on bytes that are not UTF-8
        expected = "v0=" + hmac.new(self._secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    async def close(self) -> None:
        await self.tasks.close()
        close_client = getattr(self.client, "close", None)  # the pooled client's connections
        if close_client is not None:
            await close_client()

    # ---- turning Slack payloads into commands -------------------------------------------------

    async def _user(self, user_id: str, name: str | None, text: str, team: str) -> UserRef:
        """The speaker. Only `join` needs users.info: its `tz` is the member's default zone. Slack ids
        are unique within a workspace (team), so the team id goes with every user and channel id."""
        if command_name(text) == "join":
            found = await self.users.get(user_id)
            handle = found.name if found.name != user_id else (name or user_id)
            return UserRef("slack", user_id, handle, found.timezone, workspace=team)
        return UserRef("slack", user_id, name or user_id, workspace=team)

    async def _slash(self, body: dict[str, Any]) -> None:
        text = decode(str(body.get("text") or ""))
        channel_id = str(body["channel_id"])
        channel_name = str(body.get("channel_name") or "")
        is_dm = _is_dm(channel_id, channel_name)
        team = _team(body)
        user = await self._user(str(body["user_id"]), body.get("user_name"), text, team)
        where = Where("slack", channel_id, "" if is_dm else channel_name, None, is_dm, workspace=team)
        target = Target(
            channel_id,
            user.user_id,
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
        )
        await self._run(text, user, where, target)

    async def _message(self, body: dict[str, Any], bot_user_id: str | None) -> None:
        event_id = str(body["event_id"]) if body.get("event_id") else None
        event = body.get("event") or {}
        if not event.get("user") or not event.get("channel"):
            return
        text = decode(strip_bot_mention(str(event.get("text") or ""), bot_user_id))
        channel_id = str(event["channel"])
        thread_ts = event.get("thread_ts")
        is_dm = event.get("channel_type") == "im" or _is_dm(channel_id)
        channel_name = ""
        if command_name(text) == "bind" and not is_dm:
            channel_name = await self._channel_name(channel_id)
        team = _team(body)
        user = await self._user(str(event["user"]), None, text, team)
        where = Where("slack", channel_id, channel_name, thread_ts, is_dm, workspace=team, said_in_channel=not is_dm)
        await self._run(text, user, where, Target(channel_id, user.user_id, thread_ts=thread_ts), event_id=event_id)

    async def _action(self, body: dict[str, Any]) -> None:
        actions = body.get("actions") or []
        if not actions:
            return
        act = actions[0]
        selected: list[str] | None = None
        if "selected_option" in act:
            selected = [str((act.get("selected_option") or {}).get("value", ""))]
        elif "selected_options" in act:
            selected = [str(o.get("value", "")) for o in act.get("selected_options") or []]
        text = decode_action(str(act.get("action_id", "")), act.get("value"), selected)
        container = body.get("container") or {}
        channel_id = _action_channel(body)
        if text is None or not channel_id:
            return
        message = body.get("message") or {}
        message_ts = container.get("message_ts") or message.get("ts")
        thread_ts = message.get("thread_ts")
        if thread_ts == message_ts:
            thread_ts = None
        who = body.get("user") or {}
        team = _team(body)
        user = await self._user(str(who.get("id")), who.get("username") or who.get("name"), text, team)
        where = Where("slack", str(channel_id), "", thread_ts, _is_dm(str(channel_id)), workspace=team)
        target = Target(
            str(channel_id),
            user.user_id,
            thread_ts=thread_ts,
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
            message_ts=message_ts,
            ephemeral_source=bool(container.get("is_ephemeral")),
        )
        await self._run(text, user, where, target, from_action=True)

    async def _view(self, ack: Any, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        decoded = decode_form(view)
        who = body.get("user") or {}
        if decoded is None or not who.get("id"):
            await ack()
            return
        text, meta = decoded
        user_id = str(who["id"])
        channel_id = str(meta.get("channel") or user_id)
        team = _team(body)
        where = Where(
            "slack", channel_id, "", meta.get("thread_ts"), _is_dm(channel_id) or channel_id == user_id, workspace=team
        )
        message_ts = meta.get("message_ts")
        target = Target(
            channel_id,
            user_id,
            thread_ts=meta.get("thread_ts"),
            response_url=meta.get("response_url"),
            message_ts=message_ts,
        )

        async def submit() -> Response:
            user = await self._user(user_id, who.get("username") or who.get("name"), text, team)
            return await self.gate.run(self.core.handle_text(text, user, where, from_action=bool(message_ts)))

        # spawned before anything is awaited, so that its place in this person's queue is fixed now
        task = self.tasks.spawn(submit(), name="slack form", key=_key(user_id, channel_id))
        done, _ = await asyncio.wait({task}, timeout=self.form_wait)
        if done and task.exception() is None:
            response: Response = task.result()
            errors = [r for r in response.replies if r.kind == "error"]
            blocks = view.get("blocks") or []
            if errors and len(errors) == len(response.replies) and response.update is None and blocks:
                first = str(blocks[0].get("block_id", ""))
                await ack(response_action="errors", errors={first: errors[0].to_text()[:300]})
                return
            await ack()
            self.tasks.spawn(self.deliver(response, target), name="slack form answer")
            return
        await ack()
        self.tasks.spawn(self._deliver_later(task, target), name="slack form answer")

    async def _deliver_later(self, task: asyncio.Task[Response], target: Target) -> None:
        await self.deliver(await task, target)

    async def _shortcut(self, body: dict[str, Any]) -> None:
        message = body.get("message") or {}
        channel_id = str((body.get("channel") or {}).get("id") or "")
        who = body.get("user") or {}
        if not channel_id or not message.get("ts") or not who.get("id"):
            return
        thread_ts = str(message.get("thread_ts") or message["ts"])
        team = _team(body)
        user = await self._user(str(who["id"]), who.get("username") or who.get("name"), "summarize", team)
        where = Where("slack", channel_id, "", thread_ts, _is_dm(channel_id), workspace=team)
        target = Target(
            channel_id,
            user.user_id,
            thread_ts=thread_ts,
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
        )
        await self._run("summarize", user, where, target)

    async def _channel_name(self, channel_id: str) -> str:
        try:
            info = await self.client.conversations_info(channel=channel_id)
        except SlackApiError:
            return ""
        return str((info.get("channel") or {}).get("name") or "")

    # ---- answering ----------------------------------------------------------------------------

    async def _run(
        self,
        text: str,
        user: UserRef,
        where: Where,
        target: Target,
        *,
        from_action: bool = False,
        event_id: str | None = None,
    ) -> None:
        response = await self.gate.run(
            self.core.handle_text(text, user, where, from_action=from_action, event_id=event_id)
        )
        if event_id is not None and response == Response():
            log.info("Slack event %s: nothing to do (already handled: a retry or a duplicate)", event_id)
        joins = command_name(text) == "bind" and any(r.kind != "error" for r in response.replies) and not where.is_dm

        async def answer() -> None:
            if joins:
                await self._join(target)
            await self.deliver(response, target)

        # The answers go out in order on a chain of their own: this person's next command (queued
        # behind this one, see `TaskTracker`) starts now, not after Slack has taken these answers.
        key = _key(target.user_id, target.channel_id)
        self.tasks.spawn(answer(), name="slack answer", key=("answers", key) if key else None)

    async def _join(self, target: Target) -> None:
        """A bound channel gets announcements: join it (public channels) or say how to invite the bot."""
        try:
            await self.client.conversations_join(channel=target.channel_id)
        except SlackApiError as exc:
            log.info("could not join %s after /wg bind: %s", target.channel_id, exc.response.get("error"))
            hint = Reply.text(
                "I cannot join this channel by myself (it is private or restricted): "
                "invite me with `/invite @wgbot` so I can post announcements here.",
                private=True,
            )
            await self.post(hint, target)

    async def deliver(self, response: Response, target: Target) -> None:
        """Send a core Response: open its form, post its replies, replace the clicked message."""
        opened = await self._open_form(response.form, target) if response.form is not None else False
        for reply in response.replies:
            if opened and reply.kind == "error":
                continue  # the error only explained what the form now asks for
            await self.post(reply, target)
        if response.update is not None:
            await self._update(response.update, target)

    async def _open_form(self, form: Form, target: Target) -> bool:
        if not target.trigger_id:
            return False
        meta = {
            k: v
            for k, v in (
                ("channel", target.channel_id),
                ("thread_ts", target.thread_ts),
                ("response_url", target.response_url),
                # a form opened from a message's button: its answer updates that message
                ("message_ts", None if target.ephemeral_source else target.message_ts),
            )
            if v
        }
        try:
            await self.client.views_open(trigger_id=target.trigger_id, view=render_form(form, meta))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            return False
        return True

    async def post(self, reply: Reply, target: Target) -> None:
        if reply.private and any(isinstance(b, Attachment) for b in reply.blocks):
            reply = await self._send_files_privately(reply, target)
        for page in render_reply(reply):
            if reply.private:
                await self._ephemeral(page, target)
            else:
                await self._public(page, target)

    async def _send_files_privately(self, reply: Reply, target: Target) -> Reply:
        """Upload a private reply's files (an .ics) to the person's DM with the bot.

        An ephemeral message cannot carry a file, and a file shared in the channel would not be
        private. What could not be uploaded (the app lacks `files:write` or `im:write`, Slack
        refused, the network failed) stays in the reply, shown inline; the reason is logged.
        """
        sent: set[int] = set()
        dm: str | None = None
        comment = file_comment(reply)
        for i, block in enumerate(reply.blocks):
            if not isinstance(block, Attachment):
                continue
            try:
                if dm is None:
                    opened = await self.client.conversations_open(users=target.user_id)
                    dm = str((opened.get("channel") or {})["id"])
                await self.client.files_upload_v2(
                    channel=dm,
                    filename=block.filename,
                    title=block.filename,
                    content=block.content.encode("utf-8"),
                    initial_comment=comment or None,
                )
            except (SlackClientError, aiohttp.ClientError, TimeoutError, KeyError) as exc:
                log.warning(
                    "could not send %s to %s's DM, showing it inline instead: %s",
                    block.filename,
                    target.user_id,
                    _upload_error(exc),
                )
                break
            sent.add(i)
        return with_files_sent(reply, sent) if sent else reply

    async def _ephemeral(self, page: Message, target: Target) -> None:
        kwargs: dict[str, Any] = {"channel": target.channel_id, "user": target.user_id, **page.as_kwargs()}
        if target.thread_ts:
            kwargs["thread_ts"] = target.thread_ts
        try:
            await self.client.chat_postEphemeral(**kwargs)
            return
        except SlackApiError as exc:
            error = exc.response.get("error")
            if not target.response_url:
                log.warning("chat.postEphemeral in %s failed: %s", target.channel_id, error)
                return
        # the bot is not in this conversation (a DM between people, a channel it was not invited to)
        await self._respond(target, {"response_type": "ephemeral", "replace_original": False, **page.as_kwargs()})

    async def _public(self, page: Message, target: Target) -> None:
        kwargs: dict[str, Any] = {
            "channel": target.channel_id,
            "unfurl_links": False,
            "unfurl_media": False,
            **page.as_kwargs(),
        }
        if target.thread_ts:
            kwargs["thread_ts"] = target.thread_ts
        try:
            await self.client.chat_postMessage(**kwargs)
            return
        except SlackApiError as exc:
            error = exc.response.get("error")
            if not target.response_url:
                log.warning("chat.postMessage in %s failed: %s", target.channel_id, error)
                return
        await self._respond(target, {"response_type": "in_channel", "replace_original": False, **page.as_kwargs()})

    async def _update(self, reply: Reply, target: Target) -> None:
        message = render_one(reply)
        if target.message_ts and not target.ephemeral_source:
            channel, ts = target.channel_id, target.message_ts

            async def send() -> None:
                try:
                    await self.client.chat_update(channel=channel, ts=ts, **message.as_kwargs())
                except SlackApiError as exc:
                    log.warning("chat.update in %s failed: %s", channel, exc.response.get("error"))
                    if target.response_url:
                        await self._respond(target, {"replace_original": True, **message.as_kwargs()})

            await self.updates.submit((channel, ts), send)
            return
        if target.response_url:
            await self._respond(target, {"replace_original": True, **message.as_kwargs()})
            return
        await self.post(reply, replace(target, message_ts=None))

    async def _respond(self, target: Target, body: dict[str, Any]) -> None:
        assert target.response_url is not None
        try:
            result = await AsyncWebhookClient(target.response_url).send_dict(body)
        except Exception as exc:  # the response_url is Slack's; a failure must not kill the task silently
            log.warning("posting to response_url failed: %s", type(exc).__name__)
            return
        if result.status_code != 200:
            log.warning("response_url answered %s", result.status_code)
