"""From a Discord interaction to the core and back: who, where, the 3-second deadline, and the replies.

Discord wants an answer to every interaction within 3 seconds, and a modal can only be the *first*
answer. So the core runs as a tracked task; if it answers within `defer_after` seconds the adapter
responds directly (a modal, a message, or an edit of the clicked message), otherwise it `defer()`s
and sends the result as follow-ups. A slash command defers *ephemerally*, so that a private answer
(an error, a receipt) can never become public; a public answer then replaces the "thinking" note
with a public follow-up.

discord.py runs every interaction in a task of its own, so two commands one person sends in quick
succession (`/wg propose`, then `/wg amend P1`) could reach the core in either order. The bridge
therefore queues the core's work per person and conversation (`Bridge.track(..., key=...)`): the
place in the queue is taken synchronously when the interaction reaches the bridge, which discord.py
does in the order the gateway delivered them, and each command starts only when the previous one of
that person in that channel has finished. Other people and other channels are not held up. The
3-second deadline is unaffected: a command waiting in the queue is simply deferred.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Hashable
from typing import Any, TypeVar

import discord

from adapters.discord.components import FORM_PREFIX, FormModal, form_command, form_custom_id, modal_values
from adapters.discord.render import DiscordMessage, render, render_modal_fields, render_update
from adapters.tasks import TaskTracker
from bot.command import UserRef, Where
from bot.core import Core
from bot.reply import Form, Reply, Response

log = logging.getLogger(__name__)

T = TypeVar("T")

#: answer directly if the core is faster than this (seconds); Discord's deadline is 3 s
DEFER_AFTER = 1.5
THREAD_TYPES = (discord.ChannelType.public_thread, discord.ChannelType.private_thread, discord.ChannelType.news_thread)


def user_ref(interaction: discord.Interaction[Any]) -> UserRef:
    """Discord user ids are global snowflakes, so a user's workspace is "" (one id, one person, in
    every server and in DMs); channels record their server (guild) id, see `where_of`."""
    u = interaction.user
    return UserRef(platform="discord", user_id=str(u.id), handle=u.name)


def where_of(interaction: discord.Interaction[Any]) -> Where:
    """In a thread the channel is the parent (that is what gets bound) and the thread is the thread.
    The workspace is the server's (guild) id; "" in a DM."""
    channel = interaction.channel
    channel_id = interaction.channel_id or 0
    name = str(getattr(channel, "name", "") or "")
    if interaction.guild_id is None:
        return Where(platform="discord", channel_id=str(channel_id), channel_name="dm", is_dm=True)
    if getattr(channel, "type", None) in THREAD_TYPES and getattr(channel, "parent_id", None):
        parent = getattr(channel, "parent", None)
        return Where(
            platform="discord",
            channel_id=str(channel.parent_id),  # type: ignore[union-attr]
            channel_name=str(getattr(parent, "name", "") or ""),
            thread_id=str(channel_id),
            workspace=str(interaction.guild_id),
        )
    return Where(platform="discord", channel_id=str(channel_id), channel_name=name, workspace=str(interaction.guild_id))


def summarize_command(interaction: discord.Interaction[Any], message: discord.Message) -> str | None:
    """The command the "Summarize thread" menu runs on `message`, or None when it has no thread.

    Inside a thread, that thread; on a message a thread was started from, that thread, whose id is the
    message's id (the grammar's `<thread>` is resolved against the parent channel)."""
    if where_of(interaction).thread_id is not None:
        return "summarize"
    if message.thread is not None or message.flags.has_thread:
        return f"summarize {message.id}"
    return None


def order_key(interaction: discord.Interaction[Any]) -> tuple[str, str]:
    """One person in one conversation: their commands there apply in the order they were sent."""
    return (str(interaction.user.id), str(interaction.channel_id or 0))


def _send_kwargs(msg: DiscordMessage) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"embeds": msg.embeds}
    if msg.content:
        kwargs["content"] = msg.content
    if msg.view is not None:
        kwargs["view"] = msg.view
    if msg.attachments:
        kwargs["files"] = msg.files()
    return kwargs


def build_modal(form: Form) -> FormModal | None:
    custom_id = form_custom_id(form.action)
    if custom_id is None:
        return None
    return FormModal(form.title[:45], custom_id, render_modal_fields(form))


class Bridge:
    """Runs interactions against the core. One per client; holds the tasks it started."""

    def __init__(self, core: Core, *, defer_after: float = DEFER_AFTER) -> None:
        self.core = core
        self.defer_after = defer_after
        self.tasks = TaskTracker()
        #: interactions this bridge has finished with (answered, or left to the process that did)
        self.finished = 0

    def track(self, coro: Coroutine[Any, Any, T], *, key: Hashable | None = None) -> asyncio.Task[T]:
        """Run background work tracked (never garbage-collected, failures logged); with a `key`,
        only after the work tracked before it with the same key."""
        return self.tasks.spawn(coro, "discord interaction", key=key)

    async def drain(self) -> None:
        await self.tasks.join()

    async def on_modal_submit(self, interaction: discord.Interaction[Any]) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(FORM_PREFIX):
            return
        text = form_command(custom_id[len(FORM_PREFIX) :], modal_values(data))
        await self.run_interaction(interaction, text, from_action=False)

    async def run_interaction(self, interaction: discord.Interaction[Any], text: str, *, from_action: bool) -> None:
        try:
            await self._run_interaction(interaction, text, from_action=from_action)
        finally:
            self.finished += 1

    async def _run_interaction(self, interaction: discord.Interaction[Any], text: str, *, from_action: bool) -> None:
        # queued before the first await: the order of arrival is the order of application
        # Discord delivers an interaction to every gateway session of the token (several processes,
        # or a session that overlaps its replacement): its id, recorded as the event id in the
        # command's own transaction, makes it one effect however many processes receive it.
        event_id = f"interaction:{interaction.id}"
        task = self.track(
            self.core.handle_text(
                text, user_ref(interaction), where_of(interaction), from_action=from_action, event_id=event_id
            ),
            key=order_key(interaction),
        )
        done, _ = await asyncio.wait({task}, timeout=self.defer_after)
        deferred = not done
        if deferred:
            try:
                if interaction.type == discord.InteractionType.component:
                    await interaction.response.defer()
                else:
                    await interaction.response.defer(thinking=True, ephemeral=True)
            except discord.HTTPException as exc:  # another process answered it first
                log.info("Discord interaction %s: not deferred (%s %s)", interaction.id, exc.status, exc.text[:100])
        try:
            response = await task
        except Exception:
            log.exception("command from a Discord interaction failed")
            response = Response(replies=[Reply.error("Something went wrong on our side; nothing was changed.")])
        if response == Response():
            log.info("Discord interaction %s: already handled (by another process or session)", interaction.id)
            return
        try:
            await self.respond(interaction, response, deferred=deferred)
        except discord.HTTPException as exc:
            log.warning("answering a Discord interaction failed: %s %s", exc.status, exc.text[:200])

    async def respond(self, interaction: discord.Interaction[Any], response: Response, *, deferred: bool) -> None:
        is_component = interaction.type == discord.InteractionType.component
        if response.form is not None and not deferred:
            modal = build_modal(response.form)
            if modal is not None:
                await interaction.response.send_modal(modal)
                return
        responded = deferred
        # after an ephemeral "thinking" defer, the first follow-up replaces that note
        thinking = deferred and not is_component
        if response.update is not None and is_component:
            msg = render_update(response.update)
            kwargs = _send_kwargs(msg)
            kwargs.setdefault("view", None)
            files = kwargs.pop("files", None)
            if files:
                kwargs["attachments"] = files
            if deferred:
                await interaction.edit_original_response(**kwargs)
            else:
                await interaction.response.edit_message(**kwargs)
                responded = True
        for reply in response.replies:
            for msg in render(reply):
                kwargs = _send_kwargs(msg)
                if not responded:
                    await interaction.response.send_message(ephemeral=reply.private, **kwargs)
                    responded = True
                    continue
                if thinking:
                    thinking = False
                    if not reply.private:
                        await interaction.delete_original_response()
                await interaction.followup.send(ephemeral=reply.private, **kwargs)
        if not responded:
            await interaction.response.send_message("Done.", ephemeral=True)
        elif thinking:
            await interaction.edit_original_response(content="Done.")
