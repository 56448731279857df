"""``shailoo spool retry``: the spooled parts the database once refused, tried again."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.app import app
from cli.logs import configure_logging
from cli.service import run_async
from gateway.ingest import Ingest, Retried
from gateway.spool import Spool
from store.bootstrap import database_of
from store.settings import Settings, get_settings

__all__ = ["spool_retry"]

spool_app = typer.Typer(help="Parts kept on disk for the database.", no_args_is_help=True)
app.add_typer(spool_app, name="spool")


@spool_app.command("retry")
def spool_retry(
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the summary.")] = False,
) -> None:
    """Store the parts set aside in spool-rejected.jsonl (safe to run again: a part already
    stored is not stored twice); print what each one did. Parts still refused stay set aside.
    """
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    results = run_async(lambda: _retry(settings))
    for number, result in enumerate(results, 1):
        if not quiet:
            typer.echo(_line(number, result))
    typer.echo(_summary(results))


async def _retry(settings: Settings) -> list[Retried]:
    async with database_of(settings) as db:
        return await Ingest(db, Spool(settings.spool_path)).retry_set_aside()


def _line(number: int, result: Retried) -> str:
    record = result.record
    where = f"modem {record.get('modem_imsi')}, from {record.get('sender')}"
    why = f": {result.reason}" if result.reason else ""
    return f"{number}: {result.outcome} ({where}){why}"


def _summary(results: list[Retried]) -> str:
    if not results:
        return "nothing set aside"
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    return f"{len(results)} set-aside part(s): " + ", ".join(
        f"{count} {outcome}" for outcome, count in counts.items()
    )
