"""Cleaning of user input before it is parsed or stored.

Control characters (other than newline and tab) and bidirectional overrides are stripped: they can
hide text, reorder what a reader sees (Trojan Source) or break terminals and JSON consumers. Lone
surrogates (what invalid UTF-8 becomes when a platform decodes it leniently, or a JSON `\\ud800`
escape) become U+FFFD, the replacement character: they cannot be stored, sent or printed as UTF-8.
"""

from __future__ import annotations

import re
import unicodedata

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """NFC-normalise, drop control and bidi characters, unify line endings."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SURROGATE.sub("\ufffd", text)
    return unicodedata.normalize("NFC", text)


def clean_line(text: str) -> str:
    """Like clean(), for one-line values (titles, names): newlines and tabs become spaces."""
    return " ".join(clean(text).split())
