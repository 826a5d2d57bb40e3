"""The core's neutral `Reply` and `Form` rendered as Slack Block Kit: pure functions, tested by golden files.

Why this shape:
- Slack parses `&`, `<` and `>` in every `mrkdwn` text and in a message's `text`: `<!channel>`,
  `<@U1>` and `<https://…|…>` are markup. Everything that reaches Slack from the core is user or LLM
  text, so it is first `neutralize`d (the core's cross-platform guard) and then escaped. `plain_text`
  objects are never parsed for mentions, so they only get `neutralize`.
- Block Kit rejects a whole message when one limit is exceeded (50 blocks, 3,000 characters per
  section text, 10 fields of 2,000, 255 characters per action id, 75 per button label…). Rather than
  truncating what people wrote, long text is split over several sections, and a reply that needs
  more than 50 blocks becomes several messages (pages), each with its own `text` fallback.
- Interactive elements carry the core command in the element: a button's `value` holds its whole
  action (up to 2,000 characters) and its `action_id` is `wg:<action>` (unique per message); a
  select has no value of its own, so its `action_id` holds the action and each option's value the
  choice. `decode_action` is the inverse used by the interactivity handler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.grammar import quote
from bot.mentions import neutralize
from bot.reply import (
    Actions,
    Attachment,
    Block,
    Button,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Heading,
    Reply,
    Select,
    Text,
)

MAX_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_TEXT = 3000
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_ACTION_ID = 255
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_ELEMENTS = 25
#: Slack allows 100 options in a static select; the project keeps every platform to 25 (Discord's cap)
MAX_OPTIONS = 25
MAX_OPTION_TEXT = 75
#: options of a select in a modal (Slack's limit; a vote may list up to 100)
MAX_MODAL_OPTIONS = 100
MAX_CHECKBOXES = 10
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_MODAL_TITLE = 24
MAX_INPUT_LENGTH = 3000
MAX_METADATA = 3000
#: the notification / accessibility text of a message; Slack truncates at 40,000, readers much sooner
MAX_FALLBACK = 3000
ACTION_PREFIX = "wg"
FORM_CALLBACK = "wg_form"
FORM_INPUT = "value"
ELLIPSIS = "…"


def escape(text: str) -> str:
    """User or LLM text made inert for Slack mrkdwn: mentions neutralised, then `& < >` escaped."""
    text = neutralize(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object: Slack does not parse mentions there, `neutralize` is belt and braces."""
    value = _cut(neutralize(text).strip() or "-", limit)
    return {"type": "plain_text", "text": value, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn object from already escaped text."""
    return {"type": "mrkdwn", "text": text or " "}


def _escaped_len(ch: str) -> int:
    return {"&": 5, "<": 4, ">": 4}.get(ch, 1)


def split_escaped(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Escape `text` and cut it into pieces of at most `limit` characters, at line breaks when possible.

    Measuring after escaping matters: a text of 2,000 `&` is 10,000 characters once escaped. Pieces
    never cut an entity in two, because the cut is made on the raw text.
    """
    raw = neutralize(text)
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in raw.split("\n"):
        line_size = sum(_escaped_len(c) for c in line)
        needed = line_size + (1 if current else 0)
        if current and size + needed > limit:
            pieces.append("\n".join(current))
            current, size = [], 0
            needed = line_size
        if line_size <= limit:
            current.append(line)
            size += needed
            continue
        # one line longer than the limit: cut it by characters, preferring a space
        start = 0
        while start < len(line):
            budget, end = limit, start
            while end < len(line) and budget - _escaped_len(line[end]) >= 0:
                budget -= _escaped_len(line[end])
                end += 1
            if end < len(line):
                space = line.rfind(" ", start, end)
                if space > start + limit // 2:
                    end = space + 1
            chunk = line[start:end]
            start = end
            if start < len(line):
                pieces.append(chunk)
            else:
                current, size = [chunk], sum(_escaped_len(c) for c in chunk)
    if current and any(part.strip() for part in current):
        pieces.append("\n".join(current))
    return [escape_raw(p) for p in pieces if p.strip()]


def escape_raw(text: str) -> str:
    """Escape already neutralised text (neutralize is idempotent, so this equals `escape`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class _ActionIds:
    """Action ids must be unique within a message: `wg:<action>`, then `wg2:<action>`, `wg3:…`."""

    used: set[str] = field(default_factory=set)

    def make(self, action: str) -> str:
        """A unique id; cut to 255 characters when the action is longer (buttons keep it in `value`)."""
        n = 1
        while True:
            prefix = ACTION_PREFIX if n == 1 else f"{ACTION_PREFIX}{n}"
            candidate = f"{prefix}:{action}"[:MAX_ACTION_ID]
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate
            n += 1


def _is_our_prefix(prefix: str) -> bool:
    rest = prefix[len(ACTION_PREFIX) :]
    return prefix.startswith(ACTION_PREFIX) and (rest == "" or rest.isdigit())


def decode_action(action_id: str, value: str | None = None, selected: list[str] | None = None) -> str | None:
    """The core command text for an interaction with one of our elements, or None if not ours.

    Buttons carry the whole action in `value` (the action id may be shortened). Selects carry it in
    the action id; their chosen value(s) are appended, a multi-select's as one quoted comma list.
    """
    prefix, sep, action = action_id.partition(":")
    if not sep or not _is_our_prefix(prefix):
        return None
    if selected is None:
        return value or action or None
    if not selected:
        return None
    if len(selected) == 1:
        return f"{action} {quote(selected[0])}"
    return f"{action} {quote(', '.join(selected))}"


def _button(el: Button, ids: _ActionIds) -> dict[str, Any] | None:
    if not el.action or len(el.action) > MAX_BUTTON_VALUE:
        return None
    action_id = ids.make(el.action)
    out: dict[str, Any] = {
        "type": "button",
        "text": plain(el.label, MAX_BUTTON_LABEL),
        "action_id": action_id,
        "value": el.action,
    }
    if el.style != "default":
        out["style"] = el.style
    return out


def _selects(el: Select, ids: _ActionIds) -> list[dict[str, Any]]:
    """One select per 25 options. Returns [] when the action cannot fit in an action id."""
    options = [o for o in el.options if len(o.value) <= MAX_OPTION_VALUE]
    chunks = [options[i : i + MAX_OPTIONS] for i in range(0, len(options), MAX_OPTIONS)] or []
    out: list[dict[str, Any]] = []
    for i, chunk in enumerate(chunks):
        action_id = ids.make(el.action)
        if not action_id.endswith(f":{el.action}"):  # cut: the choice could not be decoded
            return []
        placeholder = el.placeholder if len(chunks) == 1 else f"{el.placeholder} ({i + 1}/{len(chunks)})"
        rendered: list[dict[str, Any]] = []
        for o in chunk:
            opt: dict[str, Any] = {"text": plain(o.label, MAX_OPTION_TEXT), "value": o.value}
            if o.description:
                opt["description"] = plain(o.description, MAX_OPTION_TEXT)
            rendered.append(opt)
        out.append(
            {
                "type": "multi_static_select" if el.multi else "static_select",
                "placeholder": plain(placeholder, MAX_PLACEHOLDER),
                "action_id": action_id,
                "options": rendered,
            }
        )
    return out


def _block(block: Block, ids: _ActionIds) -> list[dict[str, Any]]:
    """One neutral block as one or more Block Kit blocks."""
    if isinstance(block, Heading):
        text = neutralize(block.text).strip()
        if text and len(text) <= MAX_HEADER:
            return [{"type": "header", "text": plain(text, MAX_HEADER)}]
        return [{"type": "section", "text": mrkdwn(f"*{piece}*")} for piece in split_escaped(block.text, MAX_TEXT - 2)]
    if isinstance(block, Text):
        return [{"type": "section", "text": mrkdwn(piece)} for piece in split_escaped(block.text)]
    if isinstance(block, Fields):
        rendered = []
        for label, value in block.items:
            head = f"*{_cut(escape(label), 200)}*\n"
            body = split_escaped(value or "-", MAX_FIELD - len(head) - len(ELLIPSIS))
            rendered.append(mrkdwn(head + (body[0] if body else "-") + (ELLIPSIS if len(body) > 1 else "")))
        return [
            {"type": "section", "fields": rendered[i : i + MAX_FIELDS]} for i in range(0, len(rendered), MAX_FIELDS)
        ]
    if isinstance(block, Actions):
        elements: list[dict[str, Any]] = []
        fallback: list[str] = []
        for el in block.elements:
            if isinstance(el, Button):
                b = _button(el, ids)
                if b is None:
                    fallback.append(f"{el.label}: /wg {el.action}")
                else:
                    elements.append(b)
            else:
                selects = _selects(el, ids)
                if not selects:
                    fallback.append(f"{el.placeholder}: /wg {el.action} <{', '.join(o.value for o in el.options)}>")
                elements += selects
        out = [
            {"type": "actions", "elements": elements[i : i + MAX_ELEMENTS]}
            for i in range(0, len(elements), MAX_ELEMENTS)
        ]
        if fallback:
            out += [{"type": "context", "elements": [mrkdwn(p)]} for p in split_escaped("\n".join(fallback))]
        return out
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    if isinstance(block, Context):
        pieces = split_escaped(block.text)
        return [
            {"type": "context", "elements": [mrkdwn(p) for p in pieces[i : i + MAX_CONTEXT_ELEMENTS]]}
            for i in range(0, len(pieces), MAX_CONTEXT_ELEMENTS)
        ]
    if isinstance(block, Attachment):
        # a small text file (an .ics entry) that could not be sent as a file (see `with_files_sent`):
        # named, and its content inline as a code block, so the message stands on its own
        filename = block.filename
        content = block.content.replace("\r\n", "\n").rstrip("\n")
        note: list[dict[str, Any]] = [{"type": "context", "elements": [mrkdwn(f"File: {escape(filename)}")]}]
        return note + [
            {"type": "section", "text": mrkdwn(f"```{piece}```")} for piece in split_escaped(content, MAX_TEXT - 6)
        ]
    # a block type added to the core later: show its text rather than drop it
    shown = getattr(block, "text", None) or getattr(block, "content", None) or getattr(block, "filename", None)
    if isinstance(shown, str) and shown.strip():
        return [{"type": "section", "text": mrkdwn(piece)} for piece in split_escaped(shown)]
    return []


def sent_note(filename: str) -> str:
    return f"Sent {filename} to your direct messages with wgbot."


def with_files_sent(reply: Reply, sent: set[int]) -> Reply:
    """The reply once the files at these block positions were uploaded to the person's DM.

    Slack cannot attach a file to an ephemeral message, so a private file goes to the DM with the
    bot and the ephemeral answer says so instead of carrying the content; a file that could not be
    sent stays in the reply and is shown inline as a code block.
    """
    blocks: list[Block] = [
        Text(text=sent_note(block.filename)) if i in sent and isinstance(block, Attachment) else block
        for i, block in enumerate(reply.blocks)
    ]
    return reply.model_copy(update={"blocks": blocks})


def file_comment(reply: Reply) -> str:
    """The text posted with an uploaded file: the reply without its files (escaped mrkdwn)."""
    rest = Reply(blocks=[b for b in reply.blocks if not isinstance(b, Attachment)])
    return fallback_text(rest) if rest.blocks else ""


def fallback_text(reply: Reply) -> str:
    """The message `text`: shown in notifications and to screen readers, and where blocks cannot be."""
    text = reply.to_text().strip() or "(empty message)"
    return escape_raw(_cut(text, MAX_FALLBACK))


@dataclass(frozen=True)
class Message:
    """One Slack message: `text` (escaped fallback) and `blocks`."""

    text: str
    blocks: list[dict[str, Any]]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def render_reply(reply: Reply) -> list[Message]:
    """A Reply as one message, or as several when it needs more than 50 blocks (pages).

    A page holds 49 blocks so that, when there are several, each can end with a "Part i of n" note.
    """
    ids = _ActionIds()
    per_page = MAX_BLOCKS - 1
    pages: list[tuple[list[dict[str, Any]], list[Block]]] = []
    blocks: list[dict[str, Any]] = []
    sources: list[Block] = []
    for block in reply.blocks:
        rendered = _block(block, ids)
        if blocks and len(blocks) + len(rendered) > per_page:
            pages.append((blocks, sources))
            blocks, sources = [], []
        while len(rendered) > per_page:  # a single neutral block that alone exceeds a page
            pages.append((rendered[:per_page], [block]))
            rendered = rendered[per_page:]
        blocks += rendered
        sources.append(block)
    if blocks or not pages:
        pages.append((blocks, sources))
    total = len(pages)
    out: list[Message] = []
    for i, (page_blocks, page_sources) in enumerate(pages):
        if total > 1:
            page_blocks = [*page_blocks, {"type": "context", "elements": [mrkdwn(f"Part {i + 1} of {total}")]}]
        out.append(Message(fallback_text(Reply(blocks=page_sources)), page_blocks))
    return out


def render_single(reply: Reply) -> Message:
    """A Reply as exactly one message (chat.update replaces one message): cut at 50 blocks with a note."""
    pages = render_reply(reply)
    if len(pages) == 1:
        return pages[0]
    first = pages[0]
    blocks = [b for b in first.blocks if not _is_part_note(b)][: MAX_BLOCKS - 1]
    blocks.append({"type": "context", "elements": [mrkdwn("Shortened: the full text is too long for one message.")]})
    return Message(first.text, blocks)


def _is_part_note(block: dict[str, Any]) -> bool:
    elements = block.get("elements") or [{}]
    return block.get("type") == "context" and str(elements[0].get("text", "")).startswith("Part ")


def _form_text(f: FormField) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": FORM_INPUT,
        "multiline": f.multiline,
        "max_length": min(f.max_length or MAX_INPUT_LENGTH, MAX_INPUT_LENGTH),
    }
    if f.placeholder:
        element["placeholder"] = plain(f.placeholder, MAX_PLACEHOLDER)
    if f.initial:
        element["initial_value"] = f.initial[: element["max_length"]]
    return element


def _form_menu(f: FormField) -> dict[str, Any]:
    """A pick-one field as a static select; a pick-any field as checkboxes (up to 10 options, Slack's
    limit for them) or a multi-select beyond that."""
    options = [
        {"text": plain(c.label, MAX_OPTION_TEXT), "value": c.value[:MAX_OPTION_VALUE]}
        for c in (f.choices or [])[:MAX_MODAL_OPTIONS]
    ]
    if f.multi and len(options) <= MAX_CHECKBOXES:
        return {"type": "checkboxes", "action_id": FORM_INPUT, "options": options}
    return {
        "type": "multi_static_select" if f.multi else "static_select",
        "action_id": FORM_INPUT,
        "placeholder": plain(f.placeholder or ("Choose any" if f.multi else "Choose"), MAX_PLACEHOLDER),
        "options": options,
    }


def render_form(form: Form, metadata: dict[str, Any]) -> dict[str, Any]:
    """A Form as a modal view. `metadata` (where to answer) travels in `private_metadata`."""
    blocks: list[dict[str, Any]] = []
    for f in form.fields[:MAX_MODAL_BLOCKS]:
        element = _form_menu(f) if f.choices else _form_text(f)
        blocks.append(
            {
                "type": "input",
                "block_id": f.name[:255],
                "optional": not f.required,
                "label": plain(f.label, MAX_FIELD),
                "element": element,
            }
        )
    meta = json.dumps({"action": form.action, **metadata}, separators=(",", ":"))
    if len(meta) > MAX_METADATA:
        meta = json.dumps({"action": form.action}, separators=(",", ":"))
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain(form.title, MAX_MODAL_TITLE),
        "submit": plain(form.submit_label, MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": meta,
        "blocks": blocks,
    }


def decode_form(view: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """A submitted modal back into command text (`action name:"value" …`) and its metadata."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return None
    action = meta.get("action")
    if not isinstance(action, str) or not action:
        return None
    parts = [action]
    values = (view.get("state") or {}).get("values") or {}
    for name, inputs in values.items():
        state = inputs.get(FORM_INPUT) or {}
        value = state.get("value")
        if state.get("selected_option"):
            value = str(state["selected_option"].get("value", ""))
        elif state.get("selected_options"):
            value = ", ".join(str(o.get("value", "")) for o in state["selected_options"])
        if isinstance(value, str) and value.strip():
            parts.append(f"{name}:{quote(value)}")
    return " ".join(parts), meta
