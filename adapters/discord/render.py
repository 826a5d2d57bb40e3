"""Rendering a core `Reply` as Discord messages: embeds plus a view of components. Pure: no I/O.

Why a list of messages: Discord caps one message at 10 embeds and 6000 embed characters, so a long
reply (a digest, a long proposal list) is split into several messages sent in order, and the
components go on the last one, under the content they act on.

Every string that reaches Discord passes through `neutralize` (a zero-width space inside
`@everyone`, `<@…>`) and has its markdown escaped (`markdown.py`: user text cannot become a masked
link or a heading): belt and braces on top of `AllowedMentions.none()`, which the client sets for
every message, so that even a client configured differently cannot ping anyone.

Components carry the core command text in their `custom_id` (see `components.py`). The views built
here are never registered with discord.py's view store (`is_dispatchable()` is False): clicks are
handled by the persistent dynamic items, so they behave the same before and after a restart and a
click is never handled twice.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import discord

from adapters.discord.components import button_custom_id, select_custom_id
from adapters.discord.markdown import escape_markdown
from bot.mentions import neutralize
from bot.reply import Actions, Button, Context, Divider, Fields, Form, FormField, Heading, Reply, Select, Text

# Discord's documented limits
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
EMBEDS_PER_MESSAGE = 10
BUTTONS_PER_ROW = 5
ROWS_MAX = 5
SELECT_OPTIONS_MAX = 25
BUTTON_LABEL_MAX = 80
OPTION_TEXT_MAX = 100
PLACEHOLDER_MAX = 150
MODAL_TITLE_MAX = 45
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_VALUE_MAX = 4000
MODAL_FIELDS_MAX = 5

COLOURS: dict[str, int] = {
    "reply": 0x5865F2,
    "announcement": 0x57F287,
    "reminder": 0xFEE75C,
    "digest": 0x9B59B6,
    "summary": 0x1ABC9C,
    "error": 0xED4245,
}
STYLES = {
    "default": discord.ButtonStyle.secondary,
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
}


class StaticView(discord.ui.View):
    """A view that only describes components; the dynamic items answer the clicks (see module doc)."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_dispatchable(self) -> bool:
        return False


@dataclass
class FileData:
    filename: str
    data: bytes

    def to_file(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename)


@dataclass
class DiscordMessage:
    embeds: list[discord.Embed] = field(default_factory=list)
    view: StaticView | None = None
    attachments: list[FileData] = field(default_factory=list)
    #: plain text shown above the embeds (used when components had to be dropped)
    content: str | None = None

    def files(self) -> list[discord.File]:
        return [a.to_file() for a in self.attachments]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(text: str, limit: int) -> list[str]:
    """Split at line breaks where possible, else hard; never returns an empty list for non-empty text."""
    out: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut <= limit // 2:
            cut = limit
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest:
        out.append(rest)
    return out


def _embed_size(e: discord.Embed) -> int:
    return len(e)


class _EmbedBuilder:
    """Accumulates blocks into embeds, opening a new one whenever Discord's layout or limits need it."""

    def __init__(self, colour: int) -> None:
        self.colour = colour
        self.embeds: list[discord.Embed] = []
        self.current: discord.Embed | None = None
        self.footer: list[str] = []
        # a new block after fields or a footer cannot go into the same embed (order is fixed)
        self.sealed = False

    def _new(self) -> discord.Embed:
        self._flush_footer()
        self.current = discord.Embed(colour=self.colour)
        self.embeds.append(self.current)
        self.sealed = False
        return self.current

    def _flush_footer(self) -> None:
        if self.current is not None and self.footer:
            text = _cut("\n".join(self.footer), FOOTER_MAX)
            self.footer = []
            target = self.current
            if not self._fits(target, len(text)):
                target = discord.Embed(colour=self.colour)
                self.embeds.append(target)
            target.set_footer(text=text)

    @staticmethod
    def _fits(e: discord.Embed, extra: int) -> bool:
        """Discord counts title, description, field names and values, footer and author per embed."""
        return len(e) + extra <= EMBED_TOTAL_MAX

    def _open(self) -> discord.Embed:
        if self.current is None or self.sealed:
            return self._new()
        return self.current

    def heading(self, text: str) -> None:
        e = self.current
        if e is None or self.sealed or e.title or e.description or e.fields:
            e = self._new()
        e.title = _cut(text, TITLE_MAX)
        if len(text) > TITLE_MAX:
            self.text(text)

    def text(self, text: str) -> None:
        for part in _chunks(text, DESCRIPTION_MAX):
            e = self._open()
            if e.fields:
                e = self._new()
            desc = e.description or ""
            joined = f"{desc}\n\n{part}" if desc else part
            if len(joined) > DESCRIPTION_MAX or not self._fits(e, len(joined) - len(desc)):
                e = self._new()
                joined = part
            e.description = joined

    def fields(self, items: list[tuple[str, str]]) -> None:
        for label, value in items:
            inline = len(value) <= 40 and "\n" not in value
            parts = _chunks(value, FIELD_VALUE_MAX) or ["\u200b"]
            for i, part in enumerate(parts):
                e = self._open()
                name = _cut(label if i == 0 else f"{label} (continued)", FIELD_NAME_MAX) or "\u200b"
                if len(e.fields) >= FIELDS_MAX or not self._fits(e, len(name) + len(part)):
                    e = self._new()
                e.add_field(name=name, value=part, inline=inline)

    def context(self, text: str) -> None:
        self._open()
        self.footer.append(text)
        self.sealed = True

    def divider(self) -> None:
        if self.current is not None:
            self.sealed = True

    def finish(self) -> list[discord.Embed]:
        self._flush_footer()
        return [e for e in self.embeds if len(e) > 0 or e.fields]


def _pack(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages of at most 10 embeds and 6000 characters."""
    messages: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    size = 0
    for e in embeds:
        n = _embed_size(e)
        if current and (len(current) >= EMBEDS_PER_MESSAGE or size + n > EMBED_TOTAL_MAX):
            messages.append(current)
            current, size = [], 0
        current.append(e)
        size += n
    if current:
        messages.append(current)
    return messages


def _button(el: Button) -> discord.ui.Button[Any] | None:
    custom_id = button_custom_id(el.action)
    if custom_id is None:
        return None
    return discord.ui.Button(
        label=_cut(neutralize(el.label), BUTTON_LABEL_MAX), style=STYLES[el.style], custom_id=custom_id
    )


def _select(el: Select) -> discord.ui.Select[Any] | None:
    custom_id = select_custom_id(el.action)
    if custom_id is None or not el.options:
        return None
    options = [
        discord.SelectOption(
            label=_cut(neutralize(o.label), OPTION_TEXT_MAX) or o.value[:OPTION_TEXT_MAX],
            value=o.value[:OPTION_TEXT_MAX],
            description=_cut(neutralize(o.description), OPTION_TEXT_MAX) if o.description else None,
        )
        for o in el.options[:SELECT_OPTIONS_MAX]
    ]
    return discord.ui.Select(
        custom_id=custom_id,
        placeholder=_cut(neutralize(el.placeholder), PLACEHOLDER_MAX),
        options=options,
        min_values=1,
        max_values=len(options) if el.multi else 1,
    )


def _view(actions: list[Actions]) -> tuple[StaticView | None, list[str]]:
    """Lay out buttons (≤ 5 a row) and selects (a row each) in ≤ 5 rows; return what did not fit."""
    view = StaticView()
    row, in_row, seen = 0, 0, set()
    leftovers: list[str] = []
    for block in actions:
        if in_row:
            row, in_row = row + 1, 0
        for el in block.elements:
            item: discord.ui.Item[Any] | None = _button(el) if isinstance(el, Button) else _select(el)
            fallback = f"/wg {el.action}"
            if item is None or getattr(item, "custom_id", None) in seen:
                if item is None:
                    leftovers.append(f"{el.label if isinstance(el, Button) else el.placeholder}: {fallback}")
                continue
            if isinstance(el, Select):
                if in_row:
                    row, in_row = row + 1, 0
                if row >= ROWS_MAX:
                    leftovers.append(f"{el.placeholder}: {fallback} <choice>")
                    continue
                item.row = row
                row += 1
            else:
                if in_row >= BUTTONS_PER_ROW:
                    row, in_row = row + 1, 0
                if row >= ROWS_MAX:
                    leftovers.append(f"{el.label}: {fallback}")
                    continue
                item.row = row
                in_row += 1
            seen.add(getattr(item, "custom_id", None))
            view.add_item(item)
    return (view if view.children else None), leftovers


def _attachment(block: Any) -> FileData | None:
    """A file block (`bot.reply.Attachment`, e.g. an .ics) as bytes to upload; None if it is not one."""
    name = getattr(block, "filename", None)
    data = getattr(block, "data", None) or getattr(block, "content", None)
    if not isinstance(name, str) or data is None:
        return None
    if isinstance(data, str):
        data = data.encode("utf-8")
    return FileData(filename=name, data=bytes(data))


def _inert(text: str) -> str:
    """Mentions neutralised, markdown escaped (links and code spans kept): see `markdown.py`."""
    return escape_markdown(neutralize(text))


def render(reply: Reply) -> list[DiscordMessage]:
    """The Discord messages for one reply, in sending order (components on the last one)."""
    builder = _EmbedBuilder(COLOURS.get(reply.kind, COLOURS["reply"]))
    actions: list[Actions] = []
    attachments: list[FileData] = []
    for block in reply.blocks:
        if isinstance(block, Heading):
            builder.heading(_inert(block.text))
        elif isinstance(block, Text):
            if block.text.strip():
                builder.text(_inert(block.text))
        elif isinstance(block, Fields):
            builder.fields([(_inert(k), _inert(v)) for k, v in block.items])
        elif isinstance(block, Context):
            builder.context(_inert(block.text))
        elif isinstance(block, Divider):
            builder.divider()
        elif isinstance(block, Actions):
            actions.append(block)
        else:
            found = _attachment(block)
            if found is not None:
                attachments.append(found)
    view, leftovers = _view(actions)
    if leftovers:
        builder.context("More: " + " · ".join(_inert(x) for x in leftovers))
    groups = _pack(builder.finish()) or [[]]
    messages = [DiscordMessage(embeds=g) for g in groups]
    messages[-1].view = view
    messages[-1].attachments = attachments
    if not messages[-1].embeds and view is None and not attachments:
        messages[-1].content = "\u200b"
    return messages


def render_update(reply: Reply) -> DiscordMessage:
    """The replacement for a message whose component was clicked: one message, trimmed if needed."""
    messages = render(reply)
    first = messages[0]
    if len(messages) > 1:
        first.view = messages[-1].view
    return first


def modal_fields(form: Form) -> list[FormField]:
    """The fields a Discord modal shows: the form's own, or its `compact` version when they are more
    than a modal holds (5 inputs)."""
    if len(form.fields) > MODAL_FIELDS_MAX and form.compact:
        return form.compact
    return form.fields[:MODAL_FIELDS_MAX]


def render_modal_fields(form: Form) -> list[discord.ui.TextInput[Any]]:
    """The text inputs of a form. A pick-one field (a score, a rank) becomes a short text input whose
    placeholder lists what may be typed; the core validates the value like any typed ballot."""
    inputs: list[discord.ui.TextInput[Any]] = []
    for f in modal_fields(form):
        placeholder = f.placeholder
        if f.choices:
            placeholder = "One of: " + ", ".join(c.value for c in f.choices)
        inputs.append(
            discord.ui.TextInput(
                label=_cut(f.label, TEXT_INPUT_LABEL_MAX),
                custom_id=f.name,
                style=discord.TextStyle.paragraph if f.multiline else discord.TextStyle.short,
                required=f.required,
                max_length=min(f.max_length or TEXT_INPUT_VALUE_MAX, TEXT_INPUT_VALUE_MAX),
                placeholder=_cut(placeholder, OPTION_TEXT_MAX) if placeholder else None,
                default=f.initial[:TEXT_INPUT_VALUE_MAX] if f.initial else None,
            )
        )
    return inputs


def to_payload(messages: list[DiscordMessage]) -> list[dict[str, Any]]:
    """The JSON Discord receives for these messages (embeds and components): for golden files and logs."""
    out: list[dict[str, Any]] = []
    for m in messages:
        entry: dict[str, Any] = {"embeds": [e.to_dict() for e in m.embeds]}
        if m.content:
            entry["content"] = m.content
        entry["components"] = m.view.to_components() if m.view else []
        if m.attachments:
            entry["attachments"] = [a.filename for a in m.attachments]
        out.append(entry)
    return out
