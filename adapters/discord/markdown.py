"""Discord markdown made inert in what the bot shows: user text can never become a masked link,
a heading, a quote, a spoiler or bold type that passes for the bot's own.

The core's text is platform-neutral plain text (user text mixed with the bot's own words), so all of
it is escaped, except:
- URLs, left whole so the links the bot writes (meeting links, checked to contain no whitespace or
  control character) stay clickable; a URL stops at `[`, `]`, `(` and `)`, and brackets are
  escaped, so
  `[https://zoom.us/j/1](https://evil.example)` shows both addresses and links to what it shows;
- code spans (`like this`), left as they are: nothing inside a code span is rendered (no link, no
  mention), and the bot writes commands in them.
Backslashes are escaped first, so `\\[x](y)` cannot un-escape the bracket.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"```[\s\S]*?```|`[^`\n]+`")
_URL = r"https?://[^\s<>\[\]()`]+[^\s<>\[\]()`.,:;\"'!?]"
#: characters that mean something anywhere, and constructs that mean something at a line's start
_ANYWHERE = r"[\\*_~|`\[\]]"
#: (list markers `- ` and `1. ` stay: a list only looks like a list, and the bot writes them)
_LINE_START = r"(?m:^[ \t]*(?:#{1,3}|-#|>))"
_TOKEN = re.compile(f"(?P<url>{_URL})|(?P<start>{_LINE_START})|(?P<char>{_ANYWHERE})")


def _escape_plain(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group("url"):
            return m.group("url")
        if m.group("start"):
            token = m.group("start")
            stripped = token.lstrip(" \t")
            return token[: len(token) - len(stripped)] + "\\" + stripped
        return "\\" + m.group("char")

    return _TOKEN.sub(one, text)


def escape_markdown(text: str) -> str:
    """`text` with every Discord markdown construct shown literally, URLs and code spans kept."""
    out: list[str] = []
    pos = 0
    for m in _CODE.finditer(text):
        out.append(_escape_plain(text[pos : m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(_escape_plain(text[pos:]))
    return "".join(out)
