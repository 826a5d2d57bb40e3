"""The one grammar: what it accepts, the errors it gives, and that it never crashes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.command import UserRef, Where
from bot.errors import UserError
from bot.grammar import SPECS, format_command, parse, tokenize

U = UserRef("console", "alice", "alice")
W = Where("console", "wg", "wg")


def p(text: str):
    return parse(text, U, W)


def test_join_with_options() -> None:
    c = p("/wg join civil-society region:weog tz:Europe/Paris lang:fr email:a@b.org")
    assert c.name == "join"
    assert c.positionals == ["civil-society"]
    assert c.options == {"region": "weog", "tz": "Europe/Paris", "lang": "fr", "email": "a@b.org"}


def test_prefix_is_optional_and_case_insensitive() -> None:
    assert p("proposals all").name == "proposals"
    assert p("/WG Proposals").name == "proposals"
    assert p("").name == "help"


def test_propose_title_body_and_theme_keep_line_breaks() -> None:
    c = p('/wg propose "Shared taxonomy" First line\nsecond line theme:"cybersecurity of AI"')
    assert c.positionals == ["Shared taxonomy"]
    assert c.rest == "First line\nsecond line"
    assert c.options == {"theme": "cybersecurity of AI"}


def test_typographic_quotes_from_autocorrecting_keyboards() -> None:
    c = p("/wg propose “Smart quotes” body")
    assert c.positionals == ["Smart quotes"]
    assert c.rest == "body"


def test_escaped_quote_inside_quotes() -> None:
    assert tokenize(r'"say \"hi\""')[0].text == 'say "hi"'


def test_two_word_commands_and_flags() -> None:
    c = p('/wg vote open "Adopt the charter?" method:yes-no options:"a, b" anonymous hidden')
    assert c.name == "vote.open"
    assert c.positionals == ["Adopt the charter?"]
    assert c.options == {"method": "yes-no", "options": "a, b"}
    assert c.flags == {"anonymous", "hidden"}


def test_greedy_time_option_takes_following_words() -> None:
    c = p('/wg meeting "Sync" at:friday 14:00 Europe/Paris duration:1h')
    assert c.options == {"at": "friday 14:00 Europe/Paris", "duration": "1h"}


def test_colon_inside_body_is_text_not_an_option() -> None:
    c = p('/wg propose "T" see https://example.org/a:b and note: this')
    assert c.rest == "see https://example.org/a:b and note: this"
    assert c.options == {}


def test_an_unquoted_link_is_a_word_not_an_option() -> None:
    """`/wg summarize <thread link>` as people paste it: `https://…` is the thread, not `https:`."""
    link = "https://wg.slack.com/archives/C1/p1700000000000100?thread_ts=1700000000.000100&cid=C1"
    c = p(f"/wg summarize {link} lang:fr")
    assert c.positionals == [link] and c.options == {"lang": "fr"}
    assert p("/wg summarize https://discord.com/channels/1/2/3").positionals == ["https://discord.com/channels/1/2/3"]
    with pytest.raises(UserError, match=r"Unexpected `https://example\.org`"):
        p("/wg queue https://example.org")
    with pytest.raises(UserError, match="Unknown option `lnk:`"):
        p('/wg meeting "Sync" at:"tomorrow 10:00" lnk:https://meet.example.org')


def test_unicode_survives() -> None:
    c = p('/wg propose "Cybersécurité et IA — 人工智能" Texte en français, 中文 و العربية')
    assert c.positionals == ["Cybersécurité et IA — 人工智能"]
    assert "中文" in c.rest


def test_control_and_bidi_characters_are_stripped() -> None:
    c = p('/wg propose "Ti\u202etle\x07" bo\u2066dy\x00')
    assert c.positionals == ["Title"]
    assert c.rest == "body"


@pytest.mark.parametrize(
    ("text", "message", "usage"),
    [
        ("/wg frobnicate", "Unknown command `frobnicate`", "/wg help [command]"),
        ("/wg join", "Missing <group>", SPECS["join"].usage),
        ('/wg propose "unclosed title', "Unbalanced quotes", SPECS["propose"].usage),
        ("/wg role bob", "Missing <role>", SPECS["role"].usage),
        ("/wg show P1 extra", "Unexpected `extra`", SPECS["show"].usage),
        ("/wg join civil-society colour:blue", "Unknown option `colour:`", SPECS["join"].usage),
        ("/wg join civil-society tz:UTC tz:UTC", "given twice", SPECS["join"].usage),
        ("/wg amend P1", "Missing <body>", SPECS["amend"].usage),
    ],
)
def test_errors_are_specific_with_usage(text: str, message: str, usage: str) -> None:
    with pytest.raises(UserError) as exc:
        p(text)
    assert message in exc.value.message
    assert exc.value.usage == usage


def test_oversized_command_is_refused() -> None:
    with pytest.raises(UserError, match="too long"):
        p('/wg propose "t" ' + "x" * 9000)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_raises_anything_but_user_errors(text: str) -> None:
    for candidate in (text, "/wg " + text, "/wg propose " + text, '/wg vote open "' + text):
        try:
            parse(candidate, U, W)
        except UserError as exc:
            assert exc.message and "\n" not in exc.message


_word = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30).filter(str.strip)


@settings(max_examples=200, deadline=None)
@given(title=_word, region=_word)
def test_format_command_round_trips_typed_values(title: str, region: str) -> None:
    """What Discord's typed options become is parsed back to the same values."""
    text = format_command("meeting", [title], {"duration": region})
    try:
        c = p(text)
    except UserError:
        return  # cleaned to nothing (e.g. only bidi marks): an error, never a crash
    from bot.sanitize import clean

    assert c.positionals == [clean(title)]
    assert c.options["duration"] == clean(region)


def test_a_typed_value_that_reads_as_a_subcommand_stays_a_value() -> None:
    """Discord's `/wg meeting schedule title:suggest` (found by the property test above)."""
    c = p(format_command("meeting", ["Suggest"], {"at": "tomorrow 10:00"}))
    assert c.name == "meeting" and c.positionals == ["Suggest"]
    assert p(format_command("vote", ["open"], rest="yes")).name == "vote"
