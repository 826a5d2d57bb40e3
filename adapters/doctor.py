"""`wgbot doctor`: what is configured, what works, and what to do about what does not."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bot.config import Settings, ShardSettingsError
from storage.db import Database, redact


@dataclass
class Check:
    name: str
    status: str  # ok | missing | optional | warn | fail
    detail: str


async def check_database(settings: Settings) -> Check:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    try:
        db = Database(settings.database_url)
    except Exception as exc:
        return Check("database", "fail", f"{exc} Fix WGBOT_DATABASE_URL.")
    if db.is_sqlite and not await asyncio.to_thread(os.path.exists, str(db.url.database)):
        # connecting would create the file: a check must not change anything
        await db.dispose()
        return Check(
            "database",
            "missing",
            f"no database file yet at {db.url.database}: `wgbot db upgrade` creates it (the bot also does on start).",
        )
    try:
        async with db.engine.connect() as conn:
            try:
                current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            except Exception:
                current = None
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        if current != head:
            return Check(
                "database",
                "missing",
                f"{redact(settings.database_url)} is at {current or 'no schema'}, code expects {head}: "
                "run `wgbot db upgrade` (the bot also upgrades on start).",
            )
        return Check("database", "ok", f"{redact(settings.database_url)} (schema {head})")
    except Exception as exc:
        return Check("database", "fail", f"cannot connect to {redact(settings.database_url)}: {type(exc).__name__}")
    finally:
        await db.dispose()


async def check_llm(settings: Settings) -> Check:
    """Reachable, key accepted, model listed (GET /models) — one cheap call, no tokens spent."""
    if not settings.llm_configured:
        return Check(
            "LLM",
            "optional",
            "no OPENAI_API_KEY / OPENAI_BASE_URL (optional): thread summaries come from the offline summarizer. "
            "Set OPENAI_BASE_URL (and OPENAI_API_KEY, WGBOT_LLM_MODEL) for a hosted or local model.",
        )
    from adapters.llm.openai_client import OpenAICompatibleLLM
    from bot.llm import LLMError

    llm = OpenAICompatibleLLM.from_settings(settings)
    try:
        return Check("LLM", "ok", await llm.check())
    except LLMError as exc:
        return Check("LLM", "fail", f"{exc}. Summaries fall back to the offline summarizer until this is fixed.")
    finally:
        await llm.close()


async def check_smtp(settings: Settings) -> Check:
    from adapters.email.doctor import check_smtp as check

    return await check(settings)


async def check_email_deliveries(settings: Settings) -> Check:
    from adapters.email.doctor import check_failed_emails

    return await check_failed_emails(settings)


def check_public_url(settings: Settings) -> Check:
    """WGBOT_PUBLIC_URL: optional, but without it several things members expect are missing."""
    from urllib.parse import urlsplit

    url = (settings.public_url or "").strip()
    if not url:
        return Check(
            "public URL",
            "optional",
            "no WGBOT_PUBLIC_URL: no web record links, e-mails carry no answer or unsubscribe links (they say "
            "to reply, and a convener records it), and members cannot subscribe an e-mail address to the "
            "digest themselves (only a convener can). Set it to the address the bot's web server is reached at.",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return Check(
            "public URL",
            "warn",
            f"WGBOT_PUBLIC_URL {url[:80]!r} is not an absolute http(s) address (like https://wg.example.org): "
            "links built from it will not open.",
        )
    return Check(
        "public URL", "ok", f"{url[:80]}: web record, e-mail answer and unsubscribe links, e-mail digest subscriptions"
    )


#: platform checks register here (adapters.slack.doctor, adapters.discord.doctor)
PLATFORM_CHECKS: list[Callable[[Settings], Awaitable[Check]]] = []


#: wgbot's top-level packages; their generic names can clash with other distributions
PACKAGES = ("bot", "adapters", "storage", "prompts")


def foreign_packages(root: Path | None = None) -> list[tuple[str, str]]:
    """(package, where it is found) for each of wgbot's packages that resolves outside wgbot's own
    tree: another distribution's `bot` or `storage` shadowing ours in a shared environment."""
    root = root or Path(__file__).resolve().parent.parent
    found: list[tuple[str, str]] = []
    for name in PACKAGES:
        module = sys.modules.get(name)
        spec = module.__spec__ if module is not None else importlib.util.find_spec(name)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        if spec is not None and not locations and spec.origin:
            locations = [str(Path(spec.origin).parent)]
        paths = [Path(p).resolve() for p in locations]
        if not paths or any(p != root / name for p in paths):
            found.append((name, ", ".join(str(p) for p in paths) or "nowhere"))
    return found


def check_packages() -> Check:
    foreign = foreign_packages()
    if not foreign:
        return Check("packages", "ok", "bot, adapters, storage and prompts are wgbot's own")
    where = "; ".join(f"`{name}` from {path}" for name, path in foreign)
    return Check(
        "packages",
        "warn",
        f"{where}: another distribution's module shadows wgbot's. Install wgbot in its own virtual "
        "environment (or with pipx).",
    )


async def run_checks(settings: Settings) -> list[Check]:
    _load_platform_checks()
    database = await check_database(settings)
    checks = [check_packages(), database]
    for platform_check in PLATFORM_CHECKS:
        checks.append(await platform_check(settings))
    shards = check_discord_shards(settings)
    if shards is not None:
        checks.append(shards)
    checks += [await check_llm(settings), await check_smtp(settings), check_public_url(settings)]
    if database.status == "ok":  # reading the outbox of a database not there yet would create it
        checks.append(await check_email_deliveries(settings))
    if not settings.slack_configured and not settings.discord_configured:
        checks.append(
            Check(
                "platforms",
                "missing",
                "neither Slack nor Discord is configured: `wgbot console` and `wgbot demo` still work.",
            )
        )
    return checks


def check_discord_shards(settings: Settings) -> Check | None:
    """A row only when a DISCORD_SHARD_* variable is set. Settings that do not fit together are a warning,
    not a failure: a shared environment file may hold the count while each worker sets its own ids (the
    README's systemd units), and only `wgbot run` reads them; run with the worker's own settings, it
    would refuse to start with the same line."""
    if not settings.discord_shard_settings_set:
        return None
    if not settings.discord_configured:
        return Check("Discord shards", "ok", "set but ignored: no DISCORD_TOKEN, so `wgbot run` runs no Discord")
    try:
        sharding = settings.discord_sharding()
    except ShardSettingsError as exc:
        return Check("Discord shards", "warn", f"`wgbot run` would refuse to start here: {exc}")
    if sharding is None:
        return None
    shards, count = sharding
    return Check("Discord shards", "ok", f"this process runs shards {', '.join(map(str, shards))} of {count}")


def _load_platform_checks() -> None:
    import importlib

    for module in ("adapters.slack.doctor", "adapters.discord.doctor"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
