"""Slack's message markup turned back into the text a person typed, for the core's grammar.

Slack escapes `&`, `<` and `>` in slash-command and message text, and (with `should_escape` on, as
in our manifest) wraps mentions, channels and links: `<@U123|ana>`, `<#C1|wg>`,
`<https://x.org|x.org>`, `<mailto:a@b.org|a@b.org>`, `<!here>`. The core accepts `<@U123>` as a
member reference and wants plain URLs and addresses, so the markup is unwrapped first and the three
entities decoded last (a literal `&lt;` typed by a person arrives as `&amp;lt;` and stays `&lt;`).
"""

from __future__ import annotations

import re

_MARKUP = re.compile(r"<([^<>]+)>")


def _unwrap(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f"<{target}>"  # a user mention: the core resolves <@U123>
    if target.startswith("#"):
        return f"#{label}" if label else target
    if target.startswith("!subteam^"):
        return label or "@group"
    if target.startswith("!"):
        return "@" + (label.lstrip("@") if label else target[1:].split("^", 1)[0])
    if target.startswith("mailto:"):
        return label or target[len("mailto:") :]
    return target  # a link: the URL itself (the label is only how Slack displayed it)


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def decode(text: str) -> str:
    """Slack markup → the command text the person meant."""
    return unescape(_MARKUP.sub(_unwrap, text))


def strip_bot_mention(text: str, bot_user_id: str | None) -> str:
    """`<@UBOT> proposals` → `proposals` (the mention that addressed the bot)."""
    stripped = text.strip()
    who = re.escape(bot_user_id) if bot_user_id else "[A-Z0-9]+"
    pattern = rf"^<@{who}(?:\|[^>]*)?>[\s:,]*"
    return re.sub(pattern, "", stripped, count=1)
