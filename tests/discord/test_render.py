"""Rendering replies as Discord embeds and components: golden files per reply kind, and the limits.

Regenerate the golden files after an intended change with `WGBOT_UPDATE_GOLDEN=1 pytest tests/discord`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.components import ActionButton, ActionSelect, form_command, select_command
from adapters.discord.interactions import build_modal
from adapters.discord.render import (
    BUTTONS_PER_ROW,
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    EMBEDS_PER_MESSAGE,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    ROWS_MAX,
    render,
    render_update,
    to_payload,
)
from bot.reply import (
    Actions,
    Attachment,
    Button,
    Context,
    Divider,
    Fields,
    Form,
    FormField,
    Heading,
    Option,
    Reply,
    Select,
    Text,
)

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "discord"


def rsvp_actions(n: int = 1) -> Actions:
    return Actions(
        elements=[
            Button(label="Yes", action=f"rsvp M{n} yes", style="primary"),
            Button(label="No", action=f"rsvp M{n} no"),
            Button(label="Maybe", action=f"rsvp M{n} maybe"),
        ]
    )


SAMPLES: dict[str, Reply] = {
    "reply": Reply(
        blocks=[
            Heading(text="Proposals (open or voting): 2"),
            Text(text="P1 [open] Shared incident taxonomy · 5 Jan 2026\nP2 [voting] AI red-teaming norms · 5 Jan 2026"),
        ]
    ),
    "announcement": Reply(
        kind="announcement",
        blocks=[
            Heading(text="New proposal P1: @everyone <@&42> read this"),
            Text(text="Adopt a shared taxonomy of AI-enabled incidents. cc @here <@123>"),
            Fields(items=[("Status", "open"), ("Author", "alice (civil-society)"), ("Theme", "cybersecurity of AI")]),
            Context(text="Discuss in a thread; see it with /wg show P1."),
        ],
    ),
    "meeting": Reply(
        kind="announcement",
        blocks=[
            Heading(text="New meeting M1: Taxonomy call"),
            Fields(
                items=[("When", "Thu 8 Jan 2026 14:00 UTC"), ("Duration", "1h"), ("RSVP", "yes 1 · no 0 · maybe 0")]
            ),
            rsvp_actions(),
            Context(text="Times in each reader's zone: /wg show M1"),
        ],
    ),
    "reminder": Reply(
        kind="reminder",
        blocks=[
            Heading(text="Reminder: M1 “Taxonomy call” starts in 1h"),
            Fields(items=[("When", "Thu 8 Jan 2026 15:00 CET"), ("Link", "https://meet.example.org/wg")]),
            rsvp_actions(),
        ],
    ),
    "digest": Reply(
        kind="digest",
        blocks=[
            Heading(text="Weekly digest: wg"),
            Text(text="Two proposals, one meeting."),
            Divider(),
            Heading(text="Votes"),
            Fields(items=[("V1", "consent · closes Fri"), ("V2", "ranked · closed")]),
            Divider(),
            Text(text="Participation by stakeholder group: civil-society 3, government 1."),
            Context(text="Archived: /wg digest preview"),
        ],
    ),
    "summary": Reply(
        kind="summary",
        blocks=[
            Heading(text="Summary of thread t1"),
            Text(text="TL;DR: agreement on a shared taxonomy."),
            Fields(items=[("Decisions", "- adopt v1\n- review in March"), ("Open questions", "- who maintains it?")]),
            Context(text="AI-generated (offline extractive summarizer)"),
        ],
    ),
    "error": Reply.error("There is no proposal P9 in this working group.", "/wg show P<n>|V<n>|M<n>|C<n>"),
    "select": Reply(
        blocks=[
            Heading(text="V2: which date?"),
            Actions(
                elements=[
                    Select(
                        placeholder="Pick the options you approve",
                        action="vote V2",
                        options=[Option(label=f"Option {c}", value=c, description=f"about {c}") for c in "ABC"],
                        multi=True,
                    ),
                    Button(label="Abstain", action="vote V2 abstain", style="danger"),
                ]
            ),
        ]
    ),
    "ics": Reply(
        blocks=[
            Text(text="M1 as a calendar file."),
            Attachment(filename="wg-M1.ics", content="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", mime="text/calendar"),
        ]
    ),
}


def test_golden_vote_card_and_ballot_modal() -> None:
    from tests.vote_samples import approval_card, ranked_form

    check_golden("vote", to_payload(render(approval_card())))
    modal = build_modal(ranked_form())
    assert modal is not None
    check_golden("vote_form", modal.to_dict())


def check_golden(name: str, payload: Any) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("WGBOT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with WGBOT_UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text), f"{name} differs from {path.name}"


@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_golden_reply_kinds(name: str) -> None:
    check_golden(name, to_payload(render(SAMPLES[name])))


async def test_golden_form_modal() -> None:
    form = Form(
        title="New proposal",
        action="propose",
        submit_label="Propose",
        fields=[
            FormField(name="title", label="Title", max_length=200),
            FormField(name="body", label="What do you propose?", multiline=True, max_length=4000),
            FormField(name="theme", label="Theme (optional)", required=False, placeholder="cybersecurity of AI"),
        ],
    )
    modal = build_modal(form)
    assert modal is not None
    check_golden("form", modal.to_dict())


async def test_mentions_are_neutralised_in_every_string() -> None:
    payload = json.dumps(to_payload(render(SAMPLES["announcement"])), ensure_ascii=False)
    assert "@everyone" not in payload and "@here" not in payload
    assert "<@&42>" not in payload and "<@123>" not in payload


def _limits_hold(payload: list[dict[str, Any]]) -> None:
    for message in payload:
        embeds = message["embeds"]
        assert len(embeds) <= EMBEDS_PER_MESSAGE
        total = 0
        for e in embeds:
            assert len(e.get("title", "")) <= 256
            assert len(e.get("description", "")) <= DESCRIPTION_MAX
            assert len(e.get("fields", [])) <= FIELDS_MAX
            for f in e.get("fields", []):
                assert 0 < len(f["name"]) <= 256 and 0 < len(f["value"]) <= FIELD_VALUE_MAX
            total += (
                len(e.get("title", ""))
                + len(e.get("description", ""))
                + sum(len(f["name"]) + len(f["value"]) for f in e.get("fields", []))
                + len(e.get("footer", {}).get("text", ""))
            )
        assert total <= EMBED_TOTAL_MAX
        rows = message["components"]
        assert len(rows) <= ROWS_MAX
        for row in rows:
            assert len(row["components"]) <= BUTTONS_PER_ROW
            for c in row["components"]:
                assert len(c["custom_id"]) <= 100
                if c["type"] == 3:
                    assert len(row["components"]) == 1 and len(c["options"]) <= 25


async def test_long_content_is_split_within_discord_limits() -> None:
    words = " ".join(f"word{i}" for i in range(4000))  # ~35 000 characters
    reply = Reply(
        kind="digest",
        blocks=[
            Heading(text="H" * 300),
            Text(text=words),
            Fields(items=[(f"Item {i}", "v" * 1500) for i in range(40)]),
            Actions(elements=[Button(label=f"B{i}", action=f"show P{i}") for i in range(30)]),
            Actions(
                elements=[
                    Select(
                        placeholder="many",
                        action="vote V1",
                        options=[Option(label=str(i), value=str(i)) for i in range(40)],
                    )
                ]
            ),
        ],
    )
    messages = render(reply)
    payload = to_payload(messages)
    assert len(payload) > 1, "35 000 characters cannot fit in one message"
    _limits_hold(payload)
    # nothing was lost: every word and every field made it into some embed, in order
    text = "\n".join(e.get("description", "") for m in payload for e in m["embeds"])
    assert text.count("word") == 4000 and text.index("word0 ") < text.index("word3999")
    assert sum(len(e.get("fields", [])) for m in payload for e in m["embeds"]) == 80  # each value split in two
    # components only on the last message; the buttons that did not fit are offered as text
    assert all(not m["components"] for m in payload[:-1])
    footer = " ".join(e.get("footer", {}).get("text", "") for m in payload for e in m["embeds"])
    assert "/wg show P29" in footer


async def test_update_is_one_message_with_its_buttons() -> None:
    msg = render_update(SAMPLES["meeting"])
    assert msg.view is not None
    assert [c.custom_id for c in msg.view.children] == ["wg:rsvp M1 yes", "wg:rsvp M1 no", "wg:rsvp M1 maybe"]  # type: ignore[attr-defined]


async def test_an_action_too_long_for_a_custom_id_becomes_text() -> None:
    long_action = "answer C1 " + "x" * 120
    payload = to_payload(
        render(Reply(blocks=[Text(text="hi"), Actions(elements=[Button(label="Go", action=long_action)])]))
    )
    assert payload[0]["components"] == []
    assert long_action in payload[0]["embeds"][0]["footer"]["text"]


def test_custom_id_templates_round_trip() -> None:
    assert ActionButton.__discord_ui_compiled_template__.fullmatch("wg:rsvp M3 yes")["action"] == "rsvp M3 yes"  # type: ignore[index]
    assert ActionSelect.__discord_ui_compiled_template__.fullmatch("wgs:vote V2")["action"] == "vote V2"  # type: ignore[index]
    assert ActionButton.__discord_ui_compiled_template__.fullmatch("wgs:vote V2") is None
    assert select_command("vote V2", ["A", "C"]) == 'vote V2 "A, C"'
    assert select_command("vote V2", ["yes"]) == "vote V2 yes"
    assert (
        form_command("propose", {"title": 'Say "hi"', "body": "b", "theme": ""})
        == 'propose title:"Say \\"hi\\"" body:b'
    )
