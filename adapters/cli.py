"""The `wgbot` command line: the composition root that wires the core to the adapters."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot import __version__
from bot.config import Settings

if TYPE_CHECKING:
    from pydantic import ValidationError
    from rich.console import Console

# rich is imported where output is formatted, not at start-up (bench/README.md figure 7).

app = typer.Typer(help="wgbot keeps a multistakeholder working group on track.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.")
app.add_typer(db_app, name="db")
export_app = typer.Typer(help="Export the working group's data.")
app.add_typer(export_app, name="export")
digest_app = typer.Typer(help="The weekly digests.")
app.add_typer(digest_app, name="digest")
member_app = typer.Typer(help="Members' data: export or erase on request.")
app.add_typer(member_app, name="member")


audit_app = typer.Typer(help="Check the ballot log.")
app.add_typer(audit_app, name="audit")


@cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        print(f"wgbot {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """wgbot: proposals, votes, meetings, check-ins, summaries and digests, in Slack, Discord and e-mail."""


@app.command()
def run(
    slack_http: Annotated[
        bool, typer.Option("--slack-http", help="Serve Slack over HTTP instead of Socket Mode.")
    ] = False,
    web: Annotated[
        bool, typer.Option("--web", help="Serve each group's read-only web record and calendar feed.")
    ] = False,
    host: Annotated[str, typer.Option(help="Host for --slack-http and --web.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="Port for --slack-http and --web (one server for both).")] = 3000,
) -> None:
    """Start every adapter whose credentials are set, the scheduler and the outbox dispatcher."""
    from adapters.logs import setup_logging
    from adapters.runtime import AdaptersStopped, NothingConfigured, StartupError, serve

    settings = Settings()
    setup_logging(settings)
    try:
        asyncio.run(serve(settings, slack_http=slack_http, host=host, port=port, web=web))
    except (StartupError, AdaptersStopped) as exc:
        _err().print(f"wgbot: {exc}", markup=False)
        raise typer.Exit(1) from None
    except NothingConfigured:
        _err().print(
            "No chat platform is configured: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (or SLACK_SIGNING_SECRET "
            "and --slack-http) for Slack, or DISCORD_TOKEN for Discord (see .env.example).\n"
            "`wgbot run --web` serves only the web record. "
            "To try wgbot without any: `wgbot console` (chat in this terminal) or `wgbot demo` (a scripted week)."
        )
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


@app.command()
def console(
    as_: Annotated[str | None, typer.Option("--as", help="Speak as this name (default: your login).")] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL (default: WGBOT_DATABASE_URL or wgbot.db).")
    ] = None,
) -> None:
    """Chat with the bot in this terminal, on the real clock."""
    from adapters.console.repl import run_console

    settings = Settings(WGBOT_DATABASE_URL=db) if db else Settings()
    asyncio.run(run_console(settings, as_))


def _run_script(lines: list[str], as_json: bool, db: str | None, whitepaper: Path | None = None) -> None:
    from rich.console import Console
    from rich.progress import Progress

    from adapters.console.simulate import Event, ScriptError, simulate

    out = Console(highlight=False, soft_wrap=True)

    def emit(event: Event) -> None:
        if as_json:
            sys.stdout.write(event.as_json() + "\n")
        else:
            out.print(event.as_text(), markup=False)

    with tempfile.TemporaryDirectory() as tmp:
        url = db or f"sqlite:///{Path(tmp) / 'simulation.db'}"
        with Progress(console=_err(), transient=True, disable=not _err().is_terminal) as progress:
            progress.add_task("simulating", total=None)
            try:
                asyncio.run(simulate(lines, url, emit))
            except ScriptError as exc:
                _err().print(f"[red]script error[/red] {exc}")
                raise typer.Exit(2) from None
        if whitepaper is not None:
            from adapters.export import ExportError, write_whitepaper

            try:
                size = asyncio.run(write_whitepaper(url, whitepaper, fmt="md", wg=None, step=lambda _n, _t: None))
            except ExportError as exc:
                _err().print(f"[red]error[/red] {exc}")
                raise typer.Exit(1) from None
            _err().print(f"wrote the group's white paper ({size} bytes) to {whitepaper}")
    sys.stdout.flush()


@app.command()
def simulate(
    script: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The script to replay.")],
    json_: Annotated[bool, typer.Option("--json", help="One JSON object per line for each message sent.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Continue in this database (a restart).")] = None,
) -> None:
    """Replay a script on a virtual clock and print everything the bot sends."""
    data = script.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        _err().print(f"[red]script error[/red] line {line}: not valid UTF-8 (byte {byte:#04x}); save it as UTF-8")
        raise typer.Exit(2) from None
    _run_script(text.splitlines(), json_, db)


@app.command()
def demo(
    json_: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    whitepaper: Annotated[
        Path | None,
        typer.Option(
            "--whitepaper", help="Where to write the group's white paper (default: a new temporary directory)."
        ),
    ] = None,
) -> None:
    """Replay the bundled script: a week in the life of the working group, ending with the Monday
    digest; then write the group's white paper (its path is printed; the current directory is left alone)."""
    text = (resources.files("adapters.console") / "demo.script").read_text(encoding="utf-8")
    if whitepaper is None:
        whitepaper = Path(tempfile.mkdtemp(prefix="wgbot-demo-")) / "whitepaper.md"
    _run_script(text.splitlines(), json_, None, whitepaper)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations (the bot also does this on start)."""
    from storage.db import Database, redact

    settings = Settings()

    async def go() -> tuple[str | None, str | None]:
        db = Database(settings.database_url)
        try:
            await db.check()  # (unreachable: one clear line, before anything else is tried)
            before = await db.schema_revision()
            await db.upgrade(revision)
            return before, await db.schema_revision()
        finally:
            await db.dispose()

    before, after = asyncio.run(go())
    where = f"database {redact(settings.database_url)}"
    if before is None:
        print(f"{where}: schema created, now at revision {after}")
    elif before == after:
        print(f"{where}: already at revision {after}{' (the latest)' if revision == 'head' else ''}; nothing to do")
    else:
        print(f"{where}: upgraded from revision {before} to {after}")


@export_app.command("ics")
def export_ics(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the calendar.")] = Path("wgbot.ics"),
    wg: Annotated[str | None, typer.Option("--wg", help="Only this working group (by name).")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: WGBOT_DATABASE_URL).")] = None,
) -> None:
    """Write every meeting to one .ics calendar file (recurring ones with their RRULE and time zone)."""
    from bot.clock import SystemClock
    from bot.ics import export_all
    from storage.db import Database

    settings = Settings(WGBOT_DATABASE_URL=db) if db else Settings()

    async def go() -> int:
        database = Database(settings.database_url)
        try:
            await database.upgrade()
            content, count = await export_all(database, SystemClock().now(), wg)
        finally:
            await database.dispose()
        out.write_bytes(content)
        return count

    count = asyncio.run(go())
    print(f"wrote {count} meeting(s) to {out}")


@export_app.command("whitepaper")
def export_whitepaper(
    wg: Annotated[
        str | None, typer.Option("--wg", help="The working group (by name; needed when there are several).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write it (default: whitepaper.<format>).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: WGBOT_DATABASE_URL).")] = None,
) -> None:
    """Write the group's white paper: policy questions, decisions by theme, participation, methods.

    The same data gives the same file. Nothing is written unless the whole paper was built: an
    unknown group or an unwritable path leaves an existing file as it was."""
    from rich.progress import Progress

    from adapters.export import ExportError, write_whitepaper

    if fmt not in ("md", "html"):
        _err().print(f"[red]error[/red] unknown format `{fmt}`: use md or html")
        raise typer.Exit(2)
    settings = Settings(WGBOT_DATABASE_URL=db) if db else Settings()
    target = out or Path(f"whitepaper.{fmt}")
    with Progress(console=_err(), transient=True, disable=not _err().is_terminal) as progress:
        task = progress.add_task("white paper", total=None)

        def step(name: str, total: int) -> None:
            progress.update(task, total=total, advance=1, description=f"white paper: {name}")

        try:
            size = asyncio.run(write_whitepaper(settings.database_url, target, fmt=fmt, wg=wg, step=step))
        except ExportError as exc:
            _err().print(f"[red]error[/red] {exc}")
            raise typer.Exit(1) from None
    print(f"wrote the white paper ({size} bytes) to {target}")


@member_app.command("export")
def member_export(
    member: Annotated[str, typer.Argument(help="Display name, handle, e-mail or platform:user_id.")],
    wg: Annotated[str | None, typer.Option("--wg", help="The member's working group.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the JSON here (default: stdout).")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: WGBOT_DATABASE_URL).")] = None,
) -> None:
    """Everything wgbot holds about one member, as JSON."""
    from adapters.export import ExportError, write_atomically
    from adapters.member_data import MemberDataError, export

    settings = Settings(WGBOT_DATABASE_URL=db) if db else Settings()
    try:
        data = asyncio.run(export(settings.database_url, member, wg))
        if out is None:
            sys.stdout.write(data)
        else:
            write_atomically(out, data.encode("utf-8"))
            print(f"wrote {out}")
    except (MemberDataError, ExportError) as exc:
        _err().print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None


@member_app.command("erase")
def member_erase(
    member: Annotated[str, typer.Argument(help="Display name, handle, e-mail or platform:user_id.")],
    wg: Annotated[str | None, typer.Option("--wg", help="The member's working group.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: WGBOT_DATABASE_URL).")] = None,
) -> None:
    """Erase one member: profile, accounts, addresses; contributions stay as “a former member”."""
    from adapters.member_data import MemberDataError, erase

    settings = Settings(WGBOT_DATABASE_URL=db) if db else Settings()
    if not yes and not typer.confirm(f"Erase the data of “{member}”? This cannot be undone.", err=True):
        _err().print("nothing erased")
        raise typer.Exit(1)
    try:
        counts = asyncio.run(erase(settings.database_url, member, wg))
    except MemberDataError as exc:
        _err().print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None
    detail = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "profile only"
    print(f"erased “{member}” ({detail})")


@digest_app.command("show")
def digest_show(
    week: Annotated[
        str | None, typer.Option("--week", help="The ISO week, e.g. 2026-W02 (default: the latest).")
    ] = None,
    wg: Annotated[
        str | None, typer.Option("--wg", help="The working group (by name; needed when there are several).")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: WGBOT_DATABASE_URL).")] = None,
) -> None:
    """Print an archived digest as it was sent (in the group's time zone)."""
    from adapters.archive import ArchiveError, find_digests

    settings = Settings(WGBOT_DATABASE_URL=db) if db else Settings()
    try:
        found = asyncio.run(find_digests(settings.database_url, wg=wg, week=week))
    except ArchiveError as exc:
        _err().print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from None
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    for i, text in enumerate(found):
        if i:
            out.print("\n" + "=" * 72 + "\n", markup=False)
        out.print(text, markup=False)


@audit_app.command("verify")
def audit_verify(
    vote: Annotated[str | None, typer.Argument(help="Only this vote (V<n>); default every vote.")] = None,
    wg: Annotated[str | None, typer.Option("--wg", help="Only this working group (by name).")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: WGBOT_DATABASE_URL).")] = None,
) -> None:
    """Recompute every vote's hash-chained ballot log; exit 1 naming the first broken entry."""
    from bot.audit import verify_all
    from storage.db import Database

    settings = Settings(WGBOT_DATABASE_URL=db) if db else Settings()

    async def go() -> list[tuple[bool, str]]:
        database = Database(settings.database_url)
        try:
            await database.upgrade()
            return await verify_all(database, vote, wg)
        except ValueError as exc:
            _err().print(str(exc))
            raise typer.Exit(2) from None
        finally:
            await database.dispose()

    checked = asyncio.run(go())
    for ok, line in checked:
        if ok:
            print(line)
        else:
            _err().print(f"BROKEN {line}", markup=False)
    if not all(ok for ok, _ in checked):
        raise typer.Exit(1)
    print(f"{len(checked)} vote(s) checked, every ballot log intact")


@export_app.command("chart")
def export_chart(
    out: Annotated[Path, typer.Option("--out", "-o", help="FILE.svg, or FILE.png (drawn with Pillow).")],
    wg: Annotated[
        str | None, typer.Option("--wg", help="The working group (by name); needed when there are several.")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="group (stakeholder group) or region.")] = "group",
    weeks: Annotated[int, typer.Option("--weeks", min=1, max=520, help="How many weeks, ending this week.")] = 8,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: WGBOT_DATABASE_URL).")] = None,
) -> None:
    """Write the participation chart (by stakeholder group or region, week by week) as SVG or PNG."""
    from adapters.web.export import ExportError
    from adapters.web.export import export_chart as write_chart

    settings = Settings(WGBOT_DATABASE_URL=db) if db else Settings()
    try:
        summary = write_chart(settings, out, wg_name=wg, by=by, weeks=weeks)
    except ExportError as exc:
        _err().print(str(exc))
        raise typer.Exit(1) from None
    print(summary)


@app.command()
def usage(
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: WGBOT_DATABASE_URL).")] = None,
) -> None:
    """Tokens spent at the LLM, per working group and month (and the monthly cap, if set)."""
    from bot.usage import usage_by_month
    from storage.db import Database

    settings = Settings(WGBOT_DATABASE_URL=db) if db else Settings()

    async def go() -> list[tuple[str, str, int, int, int, int]]:
        database = Database(settings.database_url)
        try:
            await database.upgrade()
            return await usage_by_month(database)
        finally:
            await database.dispose()

    rows = asyncio.run(go())
    if not rows:
        print("no LLM usage recorded (summaries so far came from the offline summarizer, or none were asked)")
        return
    from rich.console import Console
    from rich.table import Table

    cap = settings.llm_monthly_token_cap
    table = Table(
        "working group", "month", "calls", "tokens in", "tokens out", "summaries", *(["of cap"] if cap else [])
    )
    for wg, month, calls, tin, tout, summaries in rows:
        extra = [f"{(tin + tout) * 100 // cap}% of {cap}"] if cap else []
        table.add_row(wg, month, str(calls), str(tin), str(tout), str(summaries), *extra)
    Console(width=160).print(table)


@app.command()
def doctor() -> None:
    """Check configuration and connectivity, and say what is missing and how to fix it."""
    from rich.console import Console
    from rich.table import Table

    from adapters.doctor import run_checks

    table = Table("check", "status", "details")
    failed = False
    for check in asyncio.run(run_checks(Settings())):
        colour = {"ok": "green", "optional": "blue", "missing": "yellow", "warn": "yellow", "fail": "red"}[check.status]
        table.add_row(check.name, f"[{colour}]{check.status}[/{colour}]", check.detail)
        failed |= check.status == "fail"
    Console().print(table)
    raise typer.Exit(1 if failed else 0)


def main() -> None:
    """The console script. Errors a person can fix (a bad or unreachable database, an unknown working
    group) end the process with one line and exit status 1, never a traceback."""
    from pydantic import ValidationError

    from bot.errors import UserError
    from storage.db import DatabaseError

    try:
        app()
    except (DatabaseError, UserError) as exc:
        _err().print(f"wgbot: {exc}", markup=False)
        sys.exit(1)
    except ValidationError as exc:  # a setting from the environment or .env that cannot be used
        _err().print(f"wgbot: {settings_problem(exc)}", markup=False)
        sys.exit(1)


def settings_problem(exc: ValidationError) -> str:
    """One line naming each unusable setting and what is wrong with it (never its value, which may
    be a secret): `DISCORD_SHARD_ID: Input should be a valid integer …; fix it in the environment or .env`."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{name}: {message}" if name else message)
    return "; ".join(problems) + " (fix it in the environment or .env; see .env.example)"
