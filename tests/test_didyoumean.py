"""The closest-command helper, `/wg help <command>` in detail, and plain words answered offline."""

from __future__ import annotations

import pytest

from bot.core import available_commands
from bot.didyoumean import closest, closest_commands, commands_about, is_plain_words, phrase
from bot.helptext import EXAMPLES, option_help
from tests.conftest import Harness


def test_closest_finds_typos_and_prefixes() -> None:
    assert closest("jion", ["join", "me", "help"]) == ["join"]
    assert closest("Europe/Parsi", ["Europe/Paris", "Europe/Prague", "Asia/Tokyo"])[0] == "Europe/Paris"
    assert sorted(closest("prop", ["propose", "proposals", "show"])) == ["proposals", "propose"]
    assert closest("zzzz", ["join", "me"]) == []
    assert phrase([]) == ""
    assert phrase(["a", "b", "c"]) == "Did you mean `a`, `b` or `c`?"


def test_closest_commands_handles_sub_commands() -> None:
    names = list(available_commands())
    assert closest_commands("meetign move", names)[0] == "meeting.move"
    assert closest_commands("chekin stp", names)[0] == "checkin.stop"
    assert closest_commands("xyzzy", names) == []


def test_plain_words_are_told_apart_from_typos() -> None:
    names = list(available_commands())
    assert is_plain_words("how do I schedule a meeting?", names)
    assert is_plain_words("hello", names)
    assert is_plain_words("can you tell me the agenda please", names)
    assert not is_plain_words("meetign move M1", names)
    assert not is_plain_words('propse "Title" body', names)
    # a question without its question mark; "how" is a near miss of `show`, "what" of nothing
    assert is_plain_words("how do I vote on something", names)
    assert is_plain_words("How can I join", names)
    assert is_plain_words("what is on the agenda", names)
    assert not is_plain_words("how P1", names)  # two words: still the typo of `show P1`
    summaries = {n: s.summary for n, s in available_commands().items()}
    assert commands_about("how do I schedule a call", summaries)[0] == "meeting"
    assert "ics" in commands_about("add it to my calendar", summaries)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/wg jion academia", "Unknown command `jion`. Did you mean `/wg join`?"),
        ("/wg metting", "Did you mean `/wg meeting`"),
        ("/wg prposals", "`/wg proposals`"),
    ],
)
async def test_unknown_command_gets_the_closest_commands(empty: Harness, typed: str, expected: str) -> None:
    r = await empty.say("ana", typed)
    assert len(r.replies) == 1 and r.replies[0].kind == "error" and r.replies[0].private
    assert expected in r.replies[0].to_text()


async def test_plain_words_get_a_how_to_not_unknown_command(empty: Harness) -> None:
    r = await empty.say("ana", "how do I schedule a meeting?")
    text = r.replies[0].to_text()
    assert "Unknown command" not in text
    assert r.replies[0].private and r.replies[0].kind != "error"
    assert "/wg meeting" in text and "/wg help" in text
    r = await empty.say("ana", "how do I vote on a proposal")
    text = r.replies[0].to_text()
    assert "Unknown command" not in text and "/wg vote" in text


async def test_help_for_a_command_lists_every_form_option_and_an_example(empty: Harness) -> None:
    text = (await empty.say("ana", "/wg help meeting")).replies[0].to_text()
    for form in ('/wg meeting "<title>"', "/wg meeting move", "/wg meeting cancel", "/wg meeting suggest"):
        assert form in text
    for option in ("at:", "every:", "duration:", "remind:", "link:", "within:"):
        assert option in text
    assert "Example: /wg meeting" in text
    join = (await empty.say("ana", "/wg help join")).replies[0].to_text()
    assert "name:" in join and "Example:" in join


async def test_help_for_an_unknown_topic_suggests(empty: Harness) -> None:
    r = await empty.say("ana", "/wg help metting")
    assert r.replies[0].kind == "error"
    assert "Did you mean `/wg help meeting`" in r.replies[0].to_text()


def test_every_option_of_every_command_is_explained_with_an_example() -> None:
    for name, spec in available_commands().items():
        assert name in EXAMPLES, name
        assert EXAMPLES[name].startswith("/wg " + name.replace(".", " ")), name
        for option in (*spec.options, *spec.flags):
            assert option_help(spec, option), f"{name} {option}"
        for option in spec.options - {"title", "body", "choice", "text"}:  # form fields (propose, vote, react)
            assert f"{option}:" in spec.usage, f"{name}: usage lacks {option}:"


async def test_help_and_me_mention_nothing_that_does_not_exist(empty: Harness) -> None:
    await empty.say("ana", "/wg join academia")
    listing = (await empty.say("ana", "/wg help")).replies[0].to_text()
    me = (await empty.say("ana", "/wg me")).replies[0].to_text()
    exists = available_commands()
    if "vote" not in exists:
        assert "V<n>" not in listing and "votes" not in listing.lower()
    if "summarize" not in exists:
        assert "AI summar" not in me
    if "digest.subscribe" not in exists:
        assert "Digest" not in me
    if "todo" not in exists or "A<n>" not in exists["todo"].usage:
        assert "action item" not in listing
