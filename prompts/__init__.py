"""The LLM prompt templates, as files shipped with the package (`pip install .` includes them).

`version(name)` is the template family's declared version plus a short hash of its files' text,
so a summary stored with `summary-1+3f2a9c1d` says exactly which prompts produced it, and editing a
template without bumping the number still changes what is recorded.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment, Template

#: bump when the meaning of a template family changes
VERSIONS = {"summary": 1, "suggest": 1, "pause": 1}
FILES = {
    "summary": ("summary_system.txt", "summary_map.j2", "summary_reduce.j2", "summary_update.j2", "repair.j2"),
    "suggest": ("suggest_system.txt", "suggest_user.j2", "repair.j2"),
    "pause": ("pause_system.txt", "pause_user.j2", "repair.j2"),
}


@cache
def _env() -> Environment:
    """Jinja2 is imported on the first render, not at start-up (bench/README.md figure 7)."""
    from jinja2 import Environment, StrictUndefined

    return Environment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False)


@cache
def text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def _template(name: str) -> Template:
    """Compiled once: compiling a template costs about as much as a small model call's overhead
    (~15 ms), and a map-reduce summary renders one per call, on the path to the model."""
    return _env().from_string(text(name))


def render(name: str, **values: object) -> str:
    return _template(name).render(**values).strip()


@cache
def version(family: str) -> str:
    digest = hashlib.sha256("\x00".join(text(f) for f in FILES[family]).encode()).hexdigest()[:8]
    return f"{family}-{VERSIONS[family]}+{digest}"
