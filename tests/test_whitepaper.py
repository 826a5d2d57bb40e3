"""`wgbot export whitepaper`: a golden file on a fixture group, determinism, HTML, and errors that
never touch an existing file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.test_simulate import SCRIPTS, wgbot

GOLDEN = Path(__file__).parent / "golden" / "whitepaper.md"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("whitepaper") / "wg.db"
    r = wgbot("simulate", str(SCRIPTS / "whitepaper.script"), "--db", f"sqlite:///{path}")
    assert r.returncode == 0, r.stderr
    return path


@pytest.fixture
def fixture_db(simulated: Path, tmp_path: Path) -> str:
    """A copy of the simulated group's database for one test (the simulation runs once per module)."""
    copy = tmp_path / "wg.db"
    shutil.copy(simulated, copy)
    return f"sqlite:///{copy}"


def test_whitepaper_matches_the_golden_file_and_is_deterministic(fixture_db: str, tmp_path: Path) -> None:
    url = fixture_db
    first, second = tmp_path / "a.md", tmp_path / "b.md"
    r = wgbot("export", "whitepaper", "--db", url, "--out", str(first))
    assert r.returncode == 0, r.stderr
    assert f"to {first}" in r.stdout
    assert wgbot("export", "whitepaper", "--db", url, "--wg", "WG", "--out", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    if os.environ.get("WGBOT_UPDATE_GOLDEN"):
        GOLDEN.write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    assert first.read_text(encoding="utf-8") == GOLDEN.read_text(encoding="utf-8")


def test_whitepaper_html_is_escaped_and_complete(fixture_db: str, tmp_path: Path) -> None:
    url = fixture_db
    out = tmp_path / "paper.html"
    assert wgbot("export", "whitepaper", "--db", url, "--format", "html", "--out", str(out)).returncode == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<h2>Theme: cybersecurity of AI</h2>" in html
    assert "<strong>P1 Red-team exchange</strong>" in html
    assert "<script" not in html


def test_unknown_group_or_unwritable_path_fails_without_touching_the_file(fixture_db: str, tmp_path: Path) -> None:
    url = fixture_db
    existing = tmp_path / "paper.md"
    existing.write_text("the previous paper\n", encoding="utf-8")
    r = wgbot("export", "whitepaper", "--db", url, "--wg", "nope", "--out", str(existing))
    assert r.returncode == 1 and "no working group named “nope” (groups: wg)" in r.stderr
    assert existing.read_text(encoding="utf-8") == "the previous paper\n"
    r = wgbot("export", "whitepaper", "--db", url, "--out", str(tmp_path / "missing" / "paper.md"))
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = wgbot("export", "whitepaper", "--db", url, "--format", "pdf", "--out", str(existing))
    assert r.returncode == 2 and "unknown format" in r.stderr
    assert existing.read_text(encoding="utf-8") == "the previous paper\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".paper")) == []


def test_user_text_in_the_markdown_paper_is_never_a_link_or_an_image() -> None:
    """Markdown renderers turn `[text](url)` into a link and `![](url)` into an image loaded from
    that server: in user text both stay text (the brackets escaped), as `<…>` stays text."""
    from bot.whitepaper import Block, Paper
    from bot.whitepaper_render import to_markdown

    title = "P1 [click](javascript:alert(1)) <b>"
    md = to_markdown(
        Paper(
            title="wg [x](https://evil.example)",
            blocks=[
                Block("h2", text=title),
                Block("p", text="see ![](https://tracker.example/p.png)"),
                Block("ul", items=[f"**{title}** — proposed by ana"]),
                Block("table", rows=[["group", "n"], ["[a](https://evil.example)", "1"]]),
            ],
        )
    )
    assert "](" not in md.replace("\\](", "") and "![" not in md.replace("!\\[", "")
    assert "\\[click\\](javascript:alert(1))" in md and "&lt;b&gt;" in md
    assert "- **P1 \\[click\\]" in md  # the paper's own bold stays bold
