"""Persistent components: the core command text lives in the `custom_id`, so a click works forever.

A button's custom_id is `wg:<action>` (e.g. `wg:rsvp M3 yes`), a select's `wgs:<action>` (the chosen
values are appended), a modal's `wgf:<action>` (each field becomes `name:"value"`). Nothing is kept
in memory between sending a message and the click: after a restart, discord.py rebuilds the item
from the custom_id through the `DynamicItem` templates registered in `WgClient.setup_hook`, and the
action goes through the same grammar and permission checks as typed text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import discord

from bot.grammar import quote

if TYPE_CHECKING:
    from adapters.discord.client import WgClient

CUSTOM_ID_MAX = 100
BUTTON_PREFIX = "wg:"
SELECT_PREFIX = "wgs:"
FORM_PREFIX = "wgf:"


def _custom_id(prefix: str, action: str) -> str | None:
    """None when the action does not fit Discord's 100 characters (the renderer then shows it as text)."""
    custom_id = prefix + action
    return custom_id if len(custom_id) <= CUSTOM_ID_MAX and action.strip() else None


def button_custom_id(action: str) -> str | None:
    return _custom_id(BUTTON_PREFIX, action)


def select_custom_id(action: str) -> str | None:
    return _custom_id(SELECT_PREFIX, action)


def form_custom_id(action: str) -> str | None:
    return _custom_id(FORM_PREFIX, action)


def select_command(action: str, values: list[str]) -> str:
    """A select appends its value (one) or the comma-separated values (several) to the action."""
    if not values:
        return action
    return f"{action} {quote(', '.join(values))}"


def form_command(action: str, fields: dict[str, str]) -> str:
    parts = [action]
    for name, value in fields.items():
        if value.strip():
            parts.append(f"{name}:{quote(value)}")
    return " ".join(parts)


def _client(interaction: discord.Interaction[Any]) -> WgClient:
    return cast("WgClient", interaction.client)


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"wg:(?P<action>.+)"):
    """Any button the bot ever sent: its action runs as if typed, with `from_action` set."""

    def __init__(self, action: str) -> None:
        super().__init__(discord.ui.Button(label="…", custom_id=BUTTON_PREFIX + action))
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> ActionButton:
        return cls(match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _client(interaction).bridge.run_interaction(interaction, self.action, from_action=True)


class ActionSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"wgs:(?P<action>.+)"):
    """Any select the bot ever sent: the chosen values are appended to its action."""

    def __init__(self, action: str) -> None:
        super().__init__(discord.ui.Select(custom_id=SELECT_PREFIX + action, options=[discord.SelectOption(label="…")]))
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> ActionSelect:
        return cls(match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        data = cast("dict[str, Any]", interaction.data or {})
        values = [str(v) for v in data.get("values", [])]
        text = select_command(self.action, values)
        await _client(interaction).bridge.run_interaction(interaction, text, from_action=True)


class FormModal(discord.ui.Modal):
    """A core `Form`. Its submission is handled in `Bridge.on_modal_submit` from the raw interaction,
    not here, so a form opened before a restart can still be submitted after it."""

    def __init__(self, title: str, custom_id: str, inputs: list[discord.ui.TextInput[Any]]) -> None:
        super().__init__(title=title, custom_id=custom_id, timeout=15 * 60)
        for text_input in inputs:
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        return None


def modal_values(data: dict[str, Any]) -> dict[str, str]:
    """`{field name: value}` from a MODAL_SUBMIT payload (action rows or v2 labels of text inputs)."""
    values: dict[str, str] = {}

    def walk(components: list[dict[str, Any]]) -> None:
        for c in components:
            if "custom_id" in c and "value" in c:
                values[str(c["custom_id"])] = str(c["value"] or "")
            if "components" in c:
                walk(c["components"])
            if "component" in c:
                walk([c["component"]])

    walk(list(data.get("components", [])))
    return values
