"""The `/wg` application command group, generated from the core's grammar (`bot.grammar.SPECS`).

Only commands with a registered core handler are offered, so Discord never shows a command that
would answer "not available yet". Each grammar argument becomes a typed option (enumerations as
choices, ids and time zones with autocomplete, flags as booleans), and the values are turned back
into command text with `format_command`, so typed options go through exactly the same parser and
validation as the console and Slack.

Discord does not allow a subcommand and a subcommand group of the same name (`/wg vote V3 yes` next
to `/wg vote open`), so the bare command moves into the group under a verb: `/wg vote cast`,
`/wg meeting schedule`. Each Discord command records the grammar command it runs in
`extras["spec"]`.

Discord allows 25 subcommands (or subcommand groups) per group; beyond that, the remaining commands
are skipped with a warning (they stay reachable from the console and Slack), and
`tests/discord/test_setup.py::test_every_registered_core_command_has_a_discord_command` fails, so a
capability that pushes `/wg` past the cap cannot land unnoticed.

To fit the whole grammar (31 commands in SPEC.md), `PATHS` moves some commands under a related
group. Only where a command sits in the Discord tree changes: `to_text` still sends the grammar's own
command text, so the core, the console and Slack are unaffected, and components' `custom_id`s carry
grammar text, not Discord paths:

- live sessions under `/wg live …`: `ask`, `upvote`, `queue`, `answered`, `dismiss`, `poll`, `pause`,
  `react` join `live start` / `live here` / `live end`;
- meeting follow-ups under `/wg meeting …`: `rsvp`, `agenda`, `ics`;
- `results` under `/wg vote results`; `answer` under `/wg checkin answer`;
- `digest …` and `privacy …` are groups from their two-word grammar names.

That leaves 20 top-level entries for the full grammar (`test_the_whole_grammar_fits_on_discord`).
"""

from __future__ import annotations

import inspect
import keyword
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import discord
from discord import app_commands

from bot import vocab
from bot.grammar import SPECS, Spec, format_command
from bot.services.context import HANDLERS

log = logging.getLogger(__name__)

SUBCOMMANDS_MAX = 25
DESCRIPTION_MAX = 100
#: the verb under which a bare command sits when it shares its name with a group
BARE_VERB = {"vote": "cast", "meeting": "schedule", "checkin": "schedule"}
#: grammar commands that sit under a related group on Discord (see the module docstring)
PATHS: dict[str, tuple[str, str]] = {
    **{name: ("live", name) for name in ("ask", "upvote", "queue", "answered", "dismiss", "poll", "pause", "react")},
    **{name: ("meeting", name) for name in ("rsvp", "agenda", "ics")},
    "results": ("vote", "results"),
    "answer": ("checkin", "answer"),
}
VOTE_METHODS = ("consent", "yes-no", "choice", "approval", "ranked", "score", "time")
RSVP_ANSWERS = ("yes", "no", "maybe")
ID_LETTERS = re.compile(r"\b([PVMCQA])<n>")

Runner = Callable[[discord.Interaction[Any], str], Awaitable[None]]
Completer = Callable[[discord.Interaction[Any], str, str], Awaitable[list[app_commands.Choice[str]]]]
# (interaction, kind, current) → choices; kind is "tz" or the id letters, e.g. "P" or "PVMC"


@dataclass(frozen=True)
class Param:
    name: str  # the grammar's name (and Discord's option name)
    kind: str  # positional | rest | option | flag
    required: bool
    description: str

    @property
    def py(self) -> str:
        n = self.name.replace("-", "_")
        return f"{n}_" if keyword.iskeyword(n) else n


def params_of(spec: Spec) -> list[Param]:
    """The typed options of one grammar command, required ones first (Discord requires that order)."""
    seen: set[str] = set()
    out: list[Param] = []

    def add(name: str, kind: str, required: bool) -> None:
        if name in seen:
            return
        seen.add(name)
        if name in spec.options and kind != "option":
            kind = "option"  # sent as name:value, which the parser reads whatever the position
        out.append(Param(name, kind, required, _describe(spec, name)))

    for name in spec.positional:
        add(name, "positional", True)
    for name in spec.optional:
        add(name, "positional", False)
    if spec.rest:
        add(spec.rest, "rest", spec.rest_required)
    for name in sorted(spec.options):
        add(name, "option", False)
    for name in sorted(spec.flags):
        add(name, "flag", False)
    return sorted(out, key=lambda p: not p.required)


def _describe(spec: Spec, name: str) -> str:
    known = {
        "group": "Your stakeholder group",
        "region": "Your UN regional group",
        "tz": "IANA time zone, e.g. Europe/Paris",
        "lang": "Language code, e.g. en, fr, es",
        "email": "E-mail address",
        "id": "The id, e.g. " + ", ".join(f"{letter}1" for letter in id_letters(spec)),
        "at": "When: ISO time or words like 'tomorrow 15:00'",
        "every": "Recurrence, e.g. 'every first tuesday'",
        "closes": "When the vote closes",
        "method": "Voting method",
        "role": "The new role",
        "member": "A member: @mention or handle",
        "status": "Which proposals",
        "title": "Title",
        "body": "Text",
        "theme": "Theme",
        "wg": "Working group name",
        "name": "The person's display name",
        "how": "By DM or by e-mail",
    }
    text = known.get(name) or f"{name} (see /wg help {spec.name.replace('.', ' ')})"
    return text[:DESCRIPTION_MAX]


def id_letters(spec: Spec) -> str:
    letters = "".join(dict.fromkeys(ID_LETTERS.findall(spec.usage)))
    return letters or "PVMC"


def choices_for(spec: Spec, param: Param) -> tuple[str, ...] | None:
    if param.name == "group" and spec.name in ("join", "member.add"):
        return vocab.STAKEHOLDER_GROUPS
    if param.name == "region":
        return vocab.REGIONS
    if param.name == "role" and spec.name == "role":
        return vocab.ROLES
    if param.name == "method":
        return cast("tuple[str, ...]", getattr(vocab, "VOTE_METHODS", VOTE_METHODS))
    if param.name == "status" and spec.name == "proposals":
        return (*vocab.PROPOSAL_STATUSES, "all")
    if param.name == "answer" and spec.name == "rsvp":
        return RSVP_ANSWERS
    if param.name == "how" and spec.name == "digest.subscribe":
        return ("dm",)
    if param.name == "how" and spec.name == "digest.unsubscribe":
        return ("dm", "email")
    if param.name == "web" and spec.name == "settings":
        return ("private", "public")
    if param.name == "summaries" and spec.name == "settings":
        return ("on", "off")
    if param.name == "action" and spec.name in ("web.link", "web.feed"):
        return ("rotate",)
    if param.name == "action" and spec.name == "todo":
        return ("done", "reopen")
    return None


def autocomplete_kind(spec: Spec, param: Param) -> str | None:
    if param.name == "tz":
        return "tz"
    if param.name == "id":
        return id_letters(spec)
    if param.name == "subject" and spec.name == "vote.open":
        return "P"
    return None


def to_text(spec: Spec, params: list[Param], values: dict[str, Any]) -> str:
    """Typed option values → the command text the grammar parses (the one path for every platform)."""
    by_name = {p.name: p for p in params}
    positionals: list[str] = []
    for name in (*spec.positional, *spec.optional):
        p = by_name.get(name)
        if p is None or p.kind != "positional":
            continue
        value = values.get(p.py)
        if value is None or value == "":
            break  # an optional positional left out: the later ones cannot be given by position
        positionals.append(str(value))
    rest_param = by_name.get(spec.rest or "")
    rest = values.get(rest_param.py) if rest_param is not None and rest_param.kind == "rest" else None
    options = {p.name: values.get(p.py) for p in params if p.kind == "option"}
    flags = [p.name for p in params if p.kind == "flag" and values.get(p.py)]
    return format_command(spec.name, positionals, options, flags, rest)


def _make_command(
    spec: Spec, display_name: str, parent: app_commands.Group, run: Runner, complete: Completer
) -> app_commands.Command[Any, ..., None]:
    params = params_of(spec)

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        await run(interaction, to_text(spec, params, values))

    signature = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Any)]
    describe: dict[str, str] = {}
    renames: dict[str, str] = {}
    choices: dict[str, list[app_commands.Choice[str]]] = {}
    completers: dict[str, Any] = {}
    for p in params:
        annotation: Any = bool if p.kind == "flag" else str
        default = inspect.Parameter.empty if p.required else None
        if not p.required:
            annotation = annotation | None
        signature.append(
            inspect.Parameter(p.py, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
        )
        describe[p.py] = p.description
        if p.py != p.name:
            renames[p.py] = p.name
        enum = choices_for(spec, p)
        if enum is not None:
            choices[p.py] = [app_commands.Choice(name=v, value=v) for v in enum[:25]]
        suggest = autocomplete_kind(spec, p)
        if suggest is not None and enum is None:
            completers[p.py] = _completer(complete, suggest)
    callback.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    fn: Any = callback
    if describe:
        fn = app_commands.describe(**describe)(fn)
    if renames:
        fn = app_commands.rename(**renames)(fn)
    if choices:
        fn = app_commands.choices(**choices)(fn)
    if completers:
        fn = app_commands.autocomplete(**completers)(fn)
    cmd: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=display_name,
        description=spec.summary[:DESCRIPTION_MAX],
        callback=fn,
        parent=parent,
        extras={"spec": spec.name},
    )
    parent.add_command(cmd)
    return cmd


def _completer(
    complete: Completer, kind: str
) -> Callable[[discord.Interaction[Any], str], Awaitable[list[app_commands.Choice[str]]]]:
    async def autocomplete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        return await complete(interaction, kind, current)

    return autocomplete


def available_specs() -> list[Spec]:
    return [spec for name, spec in SPECS.items() if name in HANDLERS]


def discord_path(spec: Spec) -> tuple[str, ...]:
    """Where a grammar command sits under `/wg`: one word (a subcommand) or two (in a group)."""
    return PATHS.get(spec.name) or tuple(spec.words)


def build_group(run: Runner, complete: Completer, *, name: str = "wg") -> app_commands.Group:
    """The `/wg` group with a subcommand (or subgroup) per registered core command."""
    root = app_commands.Group(name=name, description="wgbot: proposals, votes, meetings and check-ins")
    specs = available_specs()
    heads = {discord_path(s)[0] for s in specs if len(discord_path(s)) == 2}
    subgroups: dict[str, app_commands.Group] = {}
    dropped: list[str] = []

    def slot(parent: app_commands.Group) -> bool:
        return len(parent.commands) < SUBCOMMANDS_MAX

    for spec in specs:
        words = discord_path(spec)
        head = words[0]
        if len(words) == 1 and head not in heads:
            if slot(root):
                _make_command(spec, head, root, run, complete)
            else:
                dropped.append(spec.name)
            continue
        group = subgroups.get(head)
        if group is None:
            if not slot(root):
                dropped.append(spec.name)
                continue
            group = app_commands.Group(name=head, description=f"{head} commands", parent=root)
            subgroups[head] = group
        sub = words[1] if len(words) == 2 else BARE_VERB.get(head, "new")
        if slot(group):
            _make_command(spec, sub, group, run, complete)
        else:
            dropped.append(spec.name)
    if dropped:
        log.warning("Discord allows 25 subcommands per group; not offered as /wg commands: %s", ", ".join(dropped))
    return root
