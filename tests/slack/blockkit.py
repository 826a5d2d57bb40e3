"""An independent check of what reaches Slack: Block Kit limits and mention safety.

Written from Slack's published limits, not from the renderer's constants, so that a renderer bug
is caught rather than mirrored. `check_call` validates any recorded Web API or response_url body.
"""

from __future__ import annotations

import re
from typing import Any

ZWSP = "\u200b"
#: Slack markup that would notify or link someone: <!channel>, <!here>, <@U1>, <#C1>, <!subteam^…>
_MARKUP = re.compile(r"<[!@#]")
_BROADCAST = re.compile(r"(?<![\w" + ZWSP + r"])@(channel|here|everyone|all)\b", re.IGNORECASE)

BLOCK_TYPES = {"header", "section", "context", "actions", "divider", "input", "image"}


class BlockKitError(AssertionError):
    pass


def _fail(path: str, message: str) -> None:
    raise BlockKitError(f"{path}: {message}")


def _text_obj(obj: Any, path: str, *, limit: int, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        _fail(path, f"expected a text object of type {kinds}, got {obj!r:.80}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        _fail(path, "empty text")
    assert isinstance(text, str)
    if len(text) > limit:
        _fail(path, f"{len(text)} characters > {limit}")
    check_safe(text, path)


def check_safe(text: str, path: str = "text") -> None:
    """No mention or broadcast can come out of this text."""
    if _MARKUP.search(text):
        _fail(path, f"Slack markup that can mention: {text[:120]!r}")
    if _BROADCAST.search(text):
        _fail(path, f"a broadcast word that Slack may turn into a mention: {text[:120]!r}")


def _option(opt: Any, path: str) -> None:
    _text_obj(opt.get("text"), f"{path}.text", limit=75, kinds=("plain_text",))
    value = opt.get("value")
    if not isinstance(value, str) or not value or len(value) > 150:
        _fail(path, f"option value must be 1..150 characters: {value!r:.80}")
    if "description" in opt:
        _text_obj(opt["description"], f"{path}.description", limit=75, kinds=("plain_text",))


def _element(el: dict[str, Any], path: str, action_ids: set[str], *, max_options: int = 25) -> None:
    kind = el.get("type")
    action_id = el.get("action_id")
    if not isinstance(action_id, str) or not action_id or len(action_id) > 255:
        _fail(path, f"action_id must be 1..255 characters: {action_id!r:.80}")
    assert isinstance(action_id, str)
    if action_id in action_ids:
        _fail(path, f"duplicate action_id {action_id!r}")
    action_ids.add(action_id)
    if kind == "button":
        _text_obj(el.get("text"), f"{path}.text", limit=75, kinds=("plain_text",))
        value = el.get("value", "")
        if not isinstance(value, str) or len(value) > 2000:
            _fail(path, "button value over 2000 characters")
        if el.get("style") not in (None, "primary", "danger"):
            _fail(path, f"bad style {el.get('style')!r}")
    elif kind in ("static_select", "multi_static_select"):
        _text_obj(el.get("placeholder"), f"{path}.placeholder", limit=150, kinds=("plain_text",))
        options = el.get("options") or []
        if not 1 <= len(options) <= max_options:
            _fail(path, f"{len(options)} options (1..{max_options} allowed here)")
        for i, opt in enumerate(options):
            _option(opt, f"{path}.options[{i}]")
    elif kind == "checkboxes":
        options = el.get("options") or []
        if not 1 <= len(options) <= 10:
            _fail(path, f"{len(options)} checkboxes (1..10 allowed)")
        for i, opt in enumerate(options):
            _option(opt, f"{path}.options[{i}]")
    elif kind == "plain_text_input":
        if not 0 < int(el.get("max_length", 3000)) <= 3000:
            _fail(path, "max_length must be 1..3000")
        if "placeholder" in el:
            _text_obj(el["placeholder"], f"{path}.placeholder", limit=150, kinds=("plain_text",))
        if len(el.get("initial_value", "")) > int(el.get("max_length", 3000)):
            _fail(path, "initial_value longer than max_length")
    else:
        _fail(path, f"unexpected element type {kind!r}")


def check_blocks(blocks: Any, *, limit: int = 50, path: str = "blocks") -> None:
    if not isinstance(blocks, list):
        _fail(path, "blocks must be a list")
    if len(blocks) > limit:
        _fail(path, f"{len(blocks)} blocks > {limit}")
    action_ids: set[str] = set()
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        p = f"{path}[{i}]"
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            _fail(p, f"unknown block type {kind!r}")
        if "block_id" in block:
            bid = block["block_id"]
            if not isinstance(bid, str) or not bid or len(bid) > 255 or bid in block_ids:
                _fail(p, f"bad or duplicate block_id {bid!r:.80}")
            block_ids.add(bid)
        if kind == "header":
            _text_obj(block.get("text"), f"{p}.text", limit=150, kinds=("plain_text",))
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                _fail(p, "section without text or fields")
            if "text" in block:
                _text_obj(block["text"], f"{p}.text", limit=3000)
            fields = block.get("fields", [])
            if len(fields) > 10:
                _fail(p, f"{len(fields)} fields > 10")
            for j, f in enumerate(fields):
                _text_obj(f, f"{p}.fields[{j}]", limit=2000)
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                _fail(p, f"{len(elements)} context elements (1..10)")
            for j, e in enumerate(elements):
                _text_obj(e, f"{p}.elements[{j}]", limit=3000)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 25:
                _fail(p, f"{len(elements)} elements (1..25)")
            for j, e in enumerate(elements):
                _element(e, f"{p}.elements[{j}]", action_ids)
        elif kind == "input":
            _text_obj(block.get("label"), f"{p}.label", limit=2000, kinds=("plain_text",))
            # in a modal's input block a static select may hold Slack's full 100 options
            _element(block.get("element") or {}, f"{p}.element", action_ids=set(), max_options=100)


def check_message(body: dict[str, Any], path: str = "message") -> None:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        _fail(path, "a message needs a text fallback")
    assert isinstance(text, str)
    if len(text) > 40000:
        _fail(path, "text over 40,000 characters")
    check_safe(text, f"{path}.text")
    if "blocks" in body:
        check_blocks(body["blocks"], path=f"{path}.blocks")


def check_view(view: dict[str, Any]) -> None:
    if view.get("type") != "modal":
        _fail("view", "not a modal")
    for key, limit in (("title", 24), ("submit", 24), ("close", 24)):
        if key in view:
            _text_obj(view[key], f"view.{key}", limit=limit, kinds=("plain_text",))
    if len(view.get("private_metadata", "")) > 3000:
        _fail("view", "private_metadata over 3000 characters")
    if len(view.get("callback_id", "")) > 255:
        _fail("view", "callback_id over 255 characters")
    check_blocks(view.get("blocks"), limit=100, path="view.blocks")


MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update"}


def check_call(method: str, body: dict[str, Any]) -> None:
    if method in MESSAGE_METHODS or method.startswith("response:"):
        check_message(body, method)
        if method == "chat.postMessage" and (
            body.get("unfurl_links") is not False or body.get("unfurl_media") is not False
        ):
            _fail(method, "bot posts must not unfurl links or media")
    elif method in ("views.open", "views.update", "views.push"):
        check_view(body["view"])
