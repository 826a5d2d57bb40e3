"""`wgbot console`: chat with the bot in the terminal, on the real clock.

Type commands as in chat (`/wg propose "Title" body`); prefix a line with `name:` to speak as
someone else (`bob: /wg join academia`), like a simulation script; `bob [t1]: text` is a chat
message in thread t1, which `alice [t1]: /wg summarize` (or `/wg summarize t1`) then summarizes.
Messages the bot sends to the console channel and to console DMs are printed as they are delivered
by the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import re

from rich.console import Console
from rich.panel import Panel

from adapters.console.chatlog import ChatLog
from adapters.llm import llm_from_settings
from bot.bootstrap import App, build
from bot.command import UserRef, Where
from bot.config import Settings
from bot.outbox import Outgoing
from bot.reply import Reply

CHANNEL = "console"
_SPEAKER = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)\s*(?:\[(?P<thread>[^\]]+)\])?\s*:\s(?P<text>.*)$")


PROMPT = "> "
#: typed alone on a line, these leave the console (as Ctrl-D does)
QUIT_WORDS = frozenset({"quit", "exit", "/quit", "/exit", "/wg quit", "/wg exit"})


class TerminalSender:
    """Prints what the outbox delivers. A message that arrives while the prompt waits for input (a
    reminder, an announcement) is printed above it, and the prompt is drawn again with whatever was
    typed so far, so the person still sees where to type."""

    platform = "console"

    def __init__(self, console: Console) -> None:
        self.console = console
        #: true while `input()` shows the prompt
        self.prompting = False

    async def send(self, message: Outgoing) -> str | None:
        self._print(message.reply, f"{message.destination.label} · {message.kind}")
        # an id, so that later edits of this message (the live queue, a vote card) find it
        return f"console-{message.id}"

    async def edit(self, message: Outgoing) -> str | None:
        """A terminal cannot change what it printed: an edited message (the live question queue after
        an upvote, a vote card with fresh counts) is printed again, marked as the updated version.
        The outbox bounds how often (the queue: one edit per window, see bot/services/live_board.py)."""
        self._print(message.reply, f"{message.destination.label} · updated")
        return message.edit_ref

    def _print(self, reply: Reply, title: str) -> None:
        if self.prompting:
            self.console.file.write("\r\x1b[2K")
        show(self.console, reply, title)
        if self.prompting:
            self.console.file.write(PROMPT + _typed_so_far())
            self.console.file.flush()


def _typed_so_far() -> str:
    try:
        import readline
    except ImportError:  # Windows
        return ""
    return readline.get_line_buffer()


def show(console: Console, reply: Reply, title: str) -> None:
    style = "red" if reply.kind == "error" else ("cyan" if reply.private else "green")
    console.print(Panel(reply.to_text(), title=title, title_align="left", border_style=style), markup=False)


async def run_console(settings: Settings, speaker: str | None = None) -> None:
    console = Console()
    terminal = TerminalSender(console)
    app: App = await build(settings, senders=[terminal], llm=llm_from_settings(settings))
    chat = ChatLog(app.clock)
    sources = app.extras["thread_sources"]
    assert isinstance(sources, dict)
    sources["console"] = chat.source("console")
    default = speaker or getpass.getuser() or "me"
    background = [asyncio.create_task(t) for t in app.background(outbox_poll=2.0)]
    console.print(
        f"wgbot console — you are [bold]{default}[/bold]; `name: /wg …` speaks as someone else; "
        "/wg help lists commands; quit (or Ctrl-D) leaves."
    )
    try:
        while True:
            terminal.prompting = True
            try:
                line = await asyncio.to_thread(input, PROMPT)
            except EOFError:
                break
            finally:
                terminal.prompting = False
            line = line.strip()
            if not line:
                continue
            if " ".join(line.lower().split()) in QUIT_WORDS:
                break
            name, thread, text = default, None, line
            m = _SPEAKER.match(line)
            if m and (m.group("thread") or m.group("text").startswith("/")):
                name, thread, text = m.group("name"), m.group("thread"), m.group("text")
            user = UserRef("console", name, name)
            where = Where("console", CHANNEL, CHANNEL, thread_id=thread)
            if thread is not None and not text.startswith("/"):
                await chat.record(user, where, text)  # `name [t1]: text` is a chat message in thread t1
                continue
            if not text.startswith("/"):
                text = "/wg " + text if text.split()[0].lower() != "wg" else text
            response = await app.core.handle_text(text, user, where)
            for reply in response.replies:
                show(console, reply, f"to {name}" if reply.private else f"channel:{CHANNEL}")
            if response.form is not None and not response.replies:
                show(
                    console,
                    Reply.text("That opens a form in Slack and Discord; here type the full command."),
                    "form",
                )
            await asyncio.sleep(0.2)  # let the dispatcher print announcements before the next prompt
    finally:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app.close()
