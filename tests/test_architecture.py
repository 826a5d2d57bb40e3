"""The core never imports an adapter or a platform SDK (ports and adapters)."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = (
    "adapters",
    "slack_bolt",
    "slack_sdk",
    "discord",
    "aiosmtplib",
    "typer",
    "rich",
    "openai",
    "httpx",
    "httpx2",
)


def test_core_imports_no_adapter_or_platform_sdk() -> None:
    root = Path(__file__).resolve().parents[1] / "bot"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
