"""The white paper as Markdown or HTML (a Jinja2 template, autoescaped)."""

from __future__ import annotations

import re
from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from bot.mentions import neutralize
from bot.whitepaper import Paper

FORMATS = ("md", "html")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _md(text: str) -> str:
    """User text as Markdown shows it, never as HTML: most renderers pass raw HTML through, so a
    proposal titled `<script>` would run wherever the paper is published. `&`, `<` and `>` become
    entities (which Markdown displays as the characters themselves), and `[` `]` are backslash-escaped,
    so user text cannot become a link (`[text](javascript:…)`, a masked address) or an image that
    loads from someone's server (`![](https://tracker/…)`) where the paper is published."""
    text = neutralize(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("[", "\\[").replace("]", "\\]")


def _md_escape_cell(text: str) -> str:
    return _md(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(paper: Paper) -> str:
    out = [f"# {_md(paper.title)}", ""]
    for b in paper.blocks:
        if b.kind in ("h1", "h2", "h3"):
            out += ["#" * int(b.kind[1]) + " " + _md(b.text), ""]
        elif b.kind == "p":
            out += [_md(b.text), ""]
        elif b.kind == "ul":
            out += [f"- {_md(' '.join(i.split()))}" for i in b.items] + [""]
        elif b.kind == "table" and b.rows:
            head, *rows = b.rows
            out.append("| " + " | ".join(_md_escape_cell(c) for c in head) + " |")
            out.append("|" + "---|" * len(head))
            out += ["| " + " | ".join(_md_escape_cell(c) for c in r) + " |" for r in rows]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _inline(text: str) -> Markup:
    """Escape, then turn **bold** into <strong> (the only inline markup the paper uses)."""
    safe = str(escape(neutralize(text)))
    return Markup(_BOLD.sub(r"<strong>\1</strong>", safe))


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["inline"] = _inline
    return env


def to_html(paper: Paper) -> str:
    return _env().get_template("whitepaper.html.j2").render(paper=paper)


def render(paper: Paper, fmt: str) -> str:
    if fmt == "md":
        return to_markdown(paper)
    if fmt == "html":
        return to_html(paper)
    raise ValueError(f"unknown format {fmt!r} (use {' or '.join(FORMATS)})")
