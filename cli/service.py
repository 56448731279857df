"""``shailoo run``, ``shailoo db``, ``shailoo forms load`` and ``shailoo roster import``."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.live import Live
from rich.progress import Progress

from api import create_app
from cli.app import app, fail
from cli.demo import DemoOptions, run_demo
from cli.forms import forms_app
from cli.logs import configure_logging
from cli.serve import bind, serve
from gateway.errors import GatewayError
from gateway.roster import read_roster
from gateway.service import Gateway
from store import repository
from store.backup import backup, restore
from store.bootstrap import database_of, load_deployment, open_database, save_forms_file
from store.db import Database
from store.errors import StoreError
from store.migrate import current_revision, head_revision
from store.settings import ModemConfig, Settings, get_settings

__all__ = [
    "db_backup",
    "db_restore",
    "db_upgrade",
    "demo",
    "forms_load",
    "roster_import",
    "run",
    "run_async",
    "stop_on_signals",
]

db_app = typer.Typer(help="The database: migrations, backups.", no_args_is_help=True)
roster_app = typer.Typer(help="Stations and observers.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(roster_app, name="roster")

T = TypeVar("T")
_BATCH = 500


@app.command()
def run(
    migrate: Annotated[bool, typer.Option(help="Apply database migrations first.")] = False,
    modem: Annotated[
        list[str] | None,
        typer.Option(help="A modem's device path (repeat for several); adds to settings."),
    ] = None,
    forms: Annotated[Path | None, typer.Option(help="Load this forms file first.")] = None,
    no_api: Annotated[
        bool, typer.Option("--no-api", help="Do not serve the REST API in this process.")
    ] = False,
    api_port: Annotated[
        int | None, typer.Option(help="The API's port [settings: api.port, 8080].")
    ] = None,
) -> None:
    """Run the gateway: receive SMS, store, parse, reply, and serve the REST API.

    The API is on http://127.0.0.1:8080 (documentation at /docs) unless --no-api. Ctrl-C or
    SIGTERM stops it cleanly.

    Settings come from `SHAILOO_*` variables and shailoo.toml (see the README); with no
    database URL an embedded PostgreSQL runs in the data directory.
    """
    settings = get_settings()
    extra = [ModemConfig(device=device) for device in modem or []]
    api = settings.api.model_copy(
        update={"enabled": settings.api.enabled and not no_api,
                "port": api_port or settings.api.port}
    )  # fmt: skip
    settings = settings.model_copy(
        update={"modems": [*settings.modems, *extra], "forms": forms or settings.forms, "api": api}
    )
    configure_logging(settings.log_level, settings.log_format)
    run_async(lambda: _serve(settings, migrate))


async def _serve(settings: Settings, migrate: bool) -> None:
    stop = stop_on_signals()  # first: a SIGTERM during start-up is a clean stop too
    # Bound before anything starts, so that a taken port is one clear sentence, at once.
    listener = bind(settings.api.host, settings.api.port) if settings.api.enabled else None
    try:
        db = await open_database(settings, migrate=migrate)
    except BaseException:
        if listener is not None:
            listener.close()
        raise
    try:
        deployment = await load_deployment(db, settings)
        if not settings.modems:
            typer.echo(
                "warning: no modem configured (SHAILOO_MODEMS or --modem); "
                "storing nothing until one is",
                err=True,
            )
        gateway = Gateway(settings, db, deployment)
        if listener is None:
            await gateway.run(stop)
            return
        async with asyncio.TaskGroup() as group:
            group.create_task(gateway.run(stop))
            group.create_task(serve(create_app(db, settings.api, settings.strata), listener, stop))
    finally:
        await db.close()
        if listener is not None:
            listener.close()


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration the database lacks (safe to run again)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)

    async def go() -> str:
        async with database_of(settings, migrate=True) as db:
            return str(await current_revision(db))

    typer.echo(f"database at revision {run_async(go)} (head {head_revision()})")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.")] = Path(
        "shailoo-backup.dump"
    ),
) -> None:
    """Back the whole database up to a file (safe while the gateway runs)."""
    settings = get_settings()

    async def go() -> None:
        async with database_of(settings) as db:
            await backup(db.url, file)

    run_async(go)
    size = file.stat().st_size / 1e6
    typer.echo(f"backed up to {file} ({size:.1f} MB); restore with 'shailoo db restore'")


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="A file from 'shailoo db backup'.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really replace what is stored.")] = False,
) -> None:
    """Replace the database's contents with a backup. Stop 'shailoo run' first."""
    if not file.is_file():
        fail(f"{file}: no such backup file")
    if not yes:
        fail("this replaces everything stored with the backup's contents; add --yes to go on")
    settings = get_settings()

    async def go() -> None:
        url = settings.database_url.get_secret_value() if settings.database_url else None
        db = await Database.open(url, settings.pgdata)
        try:
            await restore(db.url, file)
        finally:
            await db.close()

    run_async(go)
    typer.echo(f"restored {file}; check with 'shailoo db upgrade', then start 'shailoo run'")


@forms_app.command("load")
def forms_load(file: Annotated[Path, typer.Argument(help="The forms file (YAML).")]) -> None:
    """Validate a forms file and make it the gateway's current forms."""
    settings = get_settings()

    async def go() -> str:
        async with database_of(settings) as db:
            deployment = await save_forms_file(db, file)
            return f"{deployment.deployment}: {len(deployment.forms)} form(s) loaded"

    typer.echo(run_async(go))


@roster_app.command("import")
def roster_import(
    files: Annotated[list[Path], typer.Argument(help="observers.csv and/or stations.csv")],
) -> None:
    """Import stations and observers (told apart by their columns); safe to run again.

    Every row is checked first: mistakes are listed as file:line and nothing is imported.
    """
    settings = get_settings()
    typer.echo(run_async(lambda: _import(settings, files)))


async def _import(settings: Settings, files: list[Path]) -> str:
    async with database_of(settings) as db:
        async with db.session() as session:
            known = await repository.station_codes(session)
        roster = read_roster(files, known)
        with Progress(transient=True) as progress:
            await _upsert(db, progress, "stations", roster.stations, repository.upsert_stations)
            await _upsert(db, progress, "observers", roster.observers, repository.upsert_observers)
        return f"imported {len(roster.stations)} station(s), {len(roster.observers)} observer(s)"


async def _upsert(
    db: Database,
    progress: Progress,
    label: str,
    rows: list[dict[str, object]],
    upsert: Callable[..., Awaitable[None]],
) -> None:
    task = progress.add_task(f"importing {label}", total=len(rows))
    async with db.transaction() as session:
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            await upsert(session, batch)
            progress.advance(task, len(batch))


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; a ``GatewayError`` or ``StoreError`` becomes a sentence and exit
    status 2."""

    async def main() -> T:
        return await make()

    try:
        return asyncio.run(main())
    except (GatewayError, StoreError) as exc:
        fail(str(exc))


@app.command()
def demo(
    exit_after: Annotated[
        float | None, typer.Option(help="Stop by itself after this many seconds.")
    ] = None,
    day: Annotated[float, typer.Option(help="Length of the compressed election day, s.")] = 120,
    forms: Annotated[Path, typer.Option(help="The forms file.")] = Path(
        "examples/forms/presidential.yaml"
    ),
    observers: Annotated[int, typer.Option(help="How many observers (two per station).")] = 1000,
    api_port: Annotated[
        int, typer.Option(help="Serve the REST API on this port (0: not at all).")
    ] = 8080,
) -> None:
    """A whole simulated election day on this machine. Ctrl-C stops it.

    An embedded PostgreSQL, an emulated modem, a roster of 500 stations and 1,000 observers,
    simulated observers texting, and the REST API with a token to try it."""
    if not forms.is_file():
        fail(f"{forms}: no such forms file; run this from the shailoo folder or pass --forms")
    configure_logging("WARNING")
    options = DemoOptions(
        forms,
        stations=max(1, observers // 2),
        observers=observers,
        day_s=day,
        exit_after_s=exit_after,
        api_port=api_port or None,
    )
    final = run_async(lambda: _demo(options))
    typer.echo("\n".join(final))


async def _demo(options: DemoOptions) -> list[str]:
    stop = stop_on_signals()
    if sys.stdout.isatty():
        with Live(refresh_per_second=2, transient=True) as live:
            return await run_demo(options, stop, lambda lines: live.update("\n".join(lines)))
    last = [0.0]

    def every_ten_seconds(lines: list[str]) -> None:
        if time.monotonic() - last[0] >= 10:
            last[0] = time.monotonic()
            typer.echo("\n".join(lines) + "\n")

    return await run_demo(options, stop, every_ten_seconds)
