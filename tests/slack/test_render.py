"""Block Kit rendering: golden files per reply kind, limits on oversized content, and action round trips.

Regenerate the golden files after an intended change with `WGBOT_UPDATE_GOLDEN=1 pytest tests/slack`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.render import (
    decode_action,
    decode_form,
    render_form,
    render_reply,
    render_single,
    with_files_sent,
)
from adapters.slack.text import decode, strip_bot_mention
from bot import reply as r
from bot.command import UserRef, Where
from bot.grammar import parse
from tests.slack.blockkit import BlockKitError, check_blocks, check_message, check_view

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "slack"
UPDATE = os.environ.get("WGBOT_UPDATE_GOLDEN") == "1"


def samples() -> dict[str, r.Reply | r.Form]:
    rsvp = r.Actions(
        elements=[
            r.Button(label="Yes", action="rsvp M3 yes", style="primary"),
            r.Button(label="No", action="rsvp M3 no"),
            r.Button(label="Maybe", action="rsvp M3 maybe"),
        ]
    )
    out: dict[str, r.Reply | r.Form] = {
        "reply": r.Reply(
            blocks=[
                r.Heading(text="Proposals (open or voting): 2"),
                r.Text(text="P1 [open] Shared taxonomy · 5 Jan 2026\nP2 [voting] Red-team commons · 6 Jan 2026"),
            ]
        ),
        "announcement": r.Reply(
            kind="announcement",
            blocks=[
                r.Heading(text="New proposal P1: <!channel> @here & <b>"),
                r.Text(text="One taxonomy for AI incidents, shared by CERTs & civil society. <@U123> <#C1|wg>"),
                r.Fields(
                    items=[("Status", "open"), ("Author", "Ana (civil-society)"), ("Theme", "cybersecurity of AI")]
                ),
                r.Context(text="Discuss in a thread; see it with /wg show P1."),
            ],
        ),
        "reminder": r.Reply(
            kind="reminder",
            blocks=[
                r.Heading(text="Reminder: M3 “Kickoff” starts in 1 hour"),
                r.Fields(items=[("When", "Tue 6 Jan 2026 16:00 CET"), ("Link", "https://meet.example.org/wg")]),
                rsvp,
            ],
        ),
        "digest": r.Reply(
            kind="digest",
            blocks=[
                r.Heading(text="Weekly digest of “wg”"),
                r.Text(text="New proposals: P1, P2"),
                r.Divider(),
                r.Fields(items=[(f"Group {i}", f"{i} members") for i in range(12)]),
                r.Context(text="Participation by stakeholder group"),
            ],
        ),
        "summary": r.Reply(
            kind="summary",
            blocks=[
                r.Heading(text="Thread summary"),
                r.Text(text="TL;DR: agree on a taxonomy <script>alert(1)</script> @everyone"),
                r.Context(text="AI-generated (model gpt-4o-mini)"),
            ],
        ),
        "error": r.Reply.error("Unknown command `frobnicate`. Type /wg help for the list.", "/wg help [command]"),
        "select": r.Reply(
            blocks=[
                r.Text(text="Approve the options you can live with."),
                r.Actions(
                    elements=[
                        r.Select(
                            placeholder="Choose options",
                            action="vote V2",
                            multi=True,
                            options=[r.Option(label=f"Option {c}", value=c) for c in "ABC"],
                        ),
                        r.Select(
                            placeholder="One choice",
                            action="vote V3",
                            options=[
                                r.Option(label="Yes", value="yes", description="I agree"),
                                r.Option(label="No", value="no"),
                            ],
                        ),
                    ]
                ),
            ]
        ),
        "form": r.Form(
            title="New proposal",
            action="propose",
            submit_label="Propose",
            fields=[
                r.FormField(name="title", label="Title", max_length=200),
                r.FormField(name="body", label="What do you propose?", multiline=True, max_length=4000),
                r.FormField(name="theme", label="Theme (optional)", required=False, placeholder="cybersecurity of AI"),
            ],
        ),
    }
    if hasattr(r, "Attachment"):
        out["attachment"] = r.Reply(
            blocks=[
                r.Text(text="M3 as a calendar entry"),
                r.Attachment(filename="M3.ics", content="BEGIN:VCALENDAR\r\nSUMMARY:Kick & <go>\r\nEND:VCALENDAR\r\n"),
            ]
        )
        # what the ephemeral answer shows once the file went to the person's DM
        out["attachment_sent"] = with_files_sent(out["attachment"], {1})
    from tests.vote_samples import approval_card, ranked_form

    out["vote"] = approval_card()
    out["vote_form"] = ranked_form()
    return out


def render(sample: r.Reply | r.Form) -> Any:
    if isinstance(sample, r.Form):
        return render_form(sample, {"channel": "C1"})
    return [{"text": m.text, "blocks": m.blocks} for m in render_reply(sample)]


@pytest.mark.parametrize("name", sorted(samples()))
def test_golden(name: str) -> None:
    rendered = render(samples()[name])
    if isinstance(rendered, dict):
        check_view(rendered)
    else:
        for message in rendered:
            check_message(message)
    path = GOLDEN / f"{name}.json"
    text = json.dumps(rendered, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no golden file {path.name}: run with WGBOT_UPDATE_GOLDEN=1 to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; WGBOT_UPDATE_GOLDEN=1 regenerates"


def test_validator_catches_what_slack_rejects() -> None:
    with pytest.raises(BlockKitError):
        check_blocks([{"type": "divider"}] * 51)
    with pytest.raises(BlockKitError):
        check_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    with pytest.raises(BlockKitError):
        check_message({"text": "hi <!channel>"})
    button = {"type": "button", "text": {"type": "plain_text", "text": "a"}, "action_id": "a"}
    with pytest.raises(BlockKitError):
        check_blocks([{"type": "actions", "elements": [button, button]}])


def test_oversized_content_is_split_within_limits() -> None:
    huge = "&" * 2500 + "\n" + "word " * 2000
    reply = r.Reply(
        blocks=[
            r.Heading(text="H" * 400),
            r.Text(text=huge),
            r.Fields(items=[(f"k{i}", "v" * 2500) for i in range(23)]),
            r.Context(text="c" * 7000),
            r.Actions(
                elements=[r.Button(label="L" * 100, action="rsvp M1 yes " + "x" * 300) for _ in range(30)]
                + [
                    r.Select(
                        placeholder="p",
                        action="vote V1",
                        options=[r.Option(label=str(i), value=str(i)) for i in range(60)],
                    )
                ]
            ),
            *[r.Text(text=f"t{i}") for i in range(80)],
        ]
    )
    pages = render_reply(reply)
    assert len(pages) == 2
    assert all(p.blocks[-1]["elements"][0]["text"].startswith("Part ") for p in pages)
    for page in pages:
        check_message({"text": page.text, "blocks": page.blocks})
    # nothing written was lost: every escaped ampersand made it into some section
    joined = "".join(b.get("text", {}).get("text", "") for p in pages for b in p.blocks if b["type"] == "section")
    assert joined.count("&amp;") == 2500
    selects = [e for p in pages for b in p.blocks if b["type"] == "actions" for e in b["elements"] if "options" in e]
    assert [len(s["options"]) for s in selects] == [25, 25, 10]
    assert sorted(decode_action(s["action_id"], None, ["7"]) or "" for s in selects) == ["vote V1 7"] * 3
    single = render_single(reply)
    check_message({"text": single.text, "blocks": single.blocks})


def test_actions_round_trip_through_the_grammar() -> None:
    user, where = UserRef("slack", "U1", "ana"), Where("slack", "C1")
    [message] = render_reply(samples()["select"])  # type: ignore[arg-type]
    multi, single = message.blocks[1]["elements"]
    text = decode_action(multi["action_id"], None, ["A", "C"])
    assert text == 'vote V2 "A, C"'
    cmd = parse(text, user, where)
    assert cmd.name == "vote" and cmd.positionals == ["V2"] and cmd.rest == "A, C"
    assert decode_action(single["action_id"], None, ["yes"]) == "vote V3 yes"
    assert decode_action("wg2:rsvp M3 yes", "rsvp M3 yes") == "rsvp M3 yes"
    assert decode_action("other:rsvp M3 yes", "rsvp M3 yes") is None
    assert decode_action("wgx:rsvp", "rsvp M3 yes") is None


def test_form_submission_becomes_command_options() -> None:
    view = render_form(samples()["form"], {"channel": "C1", "thread_ts": "1.2"})  # type: ignore[arg-type]
    view["state"] = {
        "values": {
            "title": {"value": {"value": 'Say "hi": now'}},
            "body": {"value": {"value": "two\nlines"}},
            "theme": {"value": {"value": None}},
        }
    }
    decoded = decode_form(view)
    assert decoded is not None
    text, meta = decoded
    assert meta["thread_ts"] == "1.2"
    cmd = parse(text, UserRef("slack", "U1", "ana"), Where("slack", "C1"))
    assert cmd.options == {"title": 'Say "hi": now', "body": "two\nlines"}


@pytest.mark.parametrize(
    ("slack_text", "typed"),
    [
        ("role <@U123|bo> convener", "role <@U123> convener"),
        (
            'meeting "Kick" at:tomorrow link:<https://meet.example.org/x|meet.example.org/x>',
            'meeting "Kick" at:tomorrow link:https://meet.example.org/x',
        ),
        ("join academia email:<mailto:bo@example.org|bo@example.org>", "join academia email:bo@example.org"),
        ('propose "&lt;!channel&gt; <!here> &amp;lt;" x', 'propose "<!channel> @here &lt;" x'),
        ("bind <#C1|wg>", "bind #wg"),
        ("ask <!subteam^S1|@security> Q", "ask @security Q"),
    ],
)
def test_slack_markup_decodes_to_typed_text(slack_text: str, typed: str) -> None:
    assert decode(slack_text) == typed


def test_bot_mention_is_stripped() -> None:
    assert strip_bot_mention("<@UBOT> proposals", "UBOT") == "proposals"
    assert strip_bot_mention("<@UBOT|wgbot>: show P1", "UBOT") == "show P1"
    assert strip_bot_mention("role <@UBOT> member", "UBOT") == "role <@UBOT> member"
