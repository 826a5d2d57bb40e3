"""Neutralising mentions and broadcasts in text that came from users (or from an LLM).

The core never emits mentions itself, so every rendering may run all text through `neutralize`.
A zero-width space breaks the token for every platform while the reader still sees the same text.
Platform renderers add their own escaping on top (Slack: & < >; Discord: AllowedMentions.none()).
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
_AT_BROADCAST = re.compile(r"@(everyone|here|channel|all)\b", re.IGNORECASE)
_ANGLE_MENTION = re.compile(r"<(?=[!@#&])")


def neutralize(text: str) -> str:
    text = _AT_BROADCAST.sub(lambda m: "@" + ZWSP + m.group(1), text)
    return _ANGLE_MENTION.sub("<" + ZWSP, text)
