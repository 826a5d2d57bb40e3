"""The platform-neutral outgoing message.

A `Reply` is a list of blocks (heading, text, fields, actions, divider, context) that each adapter
renders natively (Block Kit, embed + view, terminal) and that `to_text()` renders as the plain
fallback used by the console, `--json`, e-mail and notifications. Replies are pydantic models so the
outbox can store them as JSON and rebuild them after a restart.

Interactive elements carry an `action`: the text of a core command (without `/wg`), e.g.
`rsvp M3 yes`. Adapters put it in the platform's action id / custom_id and, when it comes back, parse
it with the same grammar as typed commands, so a button can never do what a typed command could not.
Selects append the chosen value(s) to their action; forms turn their fields into command options.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from bot.mentions import neutralize

Kind = Literal["reply", "announcement", "reminder", "digest", "summary", "error"]


class Heading(BaseModel):
    type: Literal["heading"] = "heading"
    text: str


class Text(BaseModel):
    type: Literal["text"] = "text"
    text: str


class Fields(BaseModel):
    """Label/value pairs, rendered as a two-column grid where the platform has one."""

    type: Literal["fields"] = "fields"
    items: list[tuple[str, str]]


class Button(BaseModel):
    type: Literal["button"] = "button"
    label: str
    action: str
    style: Literal["default", "primary", "danger"] = "default"
    #: for e-mail only: a signed path (`/a/…`, bot/webaccess.py) that does `action` for the reader;
    #: the e-mail sender prefixes WGBOT_PUBLIC_URL, or says how to answer when none is set
    link: str | None = None


class Option(BaseModel):
    label: str
    value: str
    description: str | None = None


class Select(BaseModel):
    type: Literal["select"] = "select"
    placeholder: str
    action: str
    options: list[Option]
    multi: bool = False


class Actions(BaseModel):
    type: Literal["actions"] = "actions"
    elements: list[Annotated[Button | Select, Field(discriminator="type")]]


class Divider(BaseModel):
    type: Literal["divider"] = "divider"


class Context(BaseModel):
    """Small print: provenance, time zone notes, ids."""

    type: Literal["context"] = "context"
    text: str


class Attachment(BaseModel):
    """A small text file sent with the message (an .ics calendar entry). Adapters upload it as a file
    where the platform can; `to_text()` prints the content after a header line."""

    type: Literal["attachment"] = "attachment"
    filename: str
    content: str
    mime: str = "text/plain"


class Chart(BaseModel):
    """A stacked bar chart of counts per week and key (participation by stakeholder group). It carries
    the numbers, not a picture: the e-mail adapter draws it as an inline PNG and writes the numbers in
    the text part; chat platforms leave it out (their digest has the same week's numbers as text)."""

    type: Literal["chart"] = "chart"
    title: str
    #: the text alternative: everything the picture says
    alt: str
    by: str = "group"
    #: ISO dates of the weeks' Mondays
    weeks: list[str]
    keys: list[str]
    #: counts[week][key index]
    counts: list[list[int]]


Block = Annotated[
    Heading | Text | Fields | Actions | Divider | Context | Attachment | Chart, Field(discriminator="type")
]


class FormField(BaseModel):
    name: str
    label: str
    multiline: bool = False
    required: bool = True
    max_length: int | None = None
    placeholder: str | None = None
    initial: str | None = None
    #: a pick-one menu instead of a text input (a score, a rank); adapters without menus in forms
    #: fall back to text and accept the option's value typed
    choices: list[Option] | None = None
    #: with `choices`: any number may be picked (checkboxes), sent as one comma-separated value
    multi: bool = False


class Form(BaseModel):
    """A modal dialog. On submit the adapter sends `action` with each field as a `name:"value"` option."""

    title: str
    action: str
    submit_label: str = "Submit"
    fields: list[FormField]
    #: the same question in a few text fields, for platforms whose forms cannot hold `fields` (more
    #: inputs than they allow): e.g. one "Your ballot" line instead of one menu per option
    compact: list[FormField] | None = None


class Reply(BaseModel):
    blocks: list[Block] = Field(default_factory=list)
    kind: Kind = "reply"
    private: bool = False

    @classmethod
    def text(cls, text: str, *, kind: Kind = "reply", private: bool = False) -> Reply:
        return cls(blocks=[Text(text=text)], kind=kind, private=private)

    @classmethod
    def error(cls, message: str, usage: str | None = None) -> Reply:
        blocks: list[Block] = [Text(text=message)]
        if usage:
            blocks.append(Context(text=f"Usage: {usage}"))
        return cls(blocks=blocks, kind="error", private=True)

    def summary_line(self) -> str:
        """The first line of text: what notifications and previews show."""
        for block in self.blocks:
            if isinstance(block, (Heading, Text, Context)):
                return neutralize(block.text.split("\n", 1)[0])
        return ""

    def to_text(self) -> str:
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Heading):
                lines.append(block.text)
            elif isinstance(block, Text):
                lines.append(block.text)
            elif isinstance(block, Fields):
                lines.extend(f"{label}: {value}" for label, value in block.items)
            elif isinstance(block, Actions):
                for el in block.elements:
                    if isinstance(el, Button):
                        lines.append(f"[{el.label}] /wg {el.action}")
                    else:
                        choices = ", ".join(o.value for o in el.options)
                        lines.append(f"{el.placeholder}: /wg {el.action} <{choices}>")
            elif isinstance(block, Divider):
                lines.append("---")
            elif isinstance(block, Context):
                lines.append(block.text)
            elif isinstance(block, Attachment):
                lines.append(f"[file {block.filename} ({block.mime})]")
                lines.append(block.content.replace("\r\n", "\n").rstrip("\n"))
        return neutralize("\n".join(lines))


class Response(BaseModel):
    """What a command gives back to the adapter that received it.

    `replies` go to the speaker (in place, or privately); `update` replaces the message whose button
    or select produced the command (e.g. fresh RSVP counts); `form` asks the adapter to open a modal.
    Messages to other places (announcements, DMs) never travel here: they go through the outbox.
    """

    replies: list[Reply] = Field(default_factory=list)
    update: Reply | None = None
    form: Form | None = None
