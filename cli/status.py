"""``shailoo status``: the gateway's state at a glance, from the database (no token needed).

Modems (label, state, signal, storage, last seen), the spool and what it set aside, the outbox
by status, coverage per form and the last messages; ``--watch`` redraws it in place.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.text import Text

from cli.app import app
from cli.service import run_async, stop_on_signals
from gateway.spool import Spool
from gateway.traffic import TrafficLog
from parser import Deployment
from store import repository
from store.bootstrap import database_of
from store.db import Database
from store.queries import coverage, messages, outbox, status
from store.queries.filters import MessageFilter, Page
from store.settings import Settings, get_settings

__all__ = ["status_command"]

_TEXT_WIDTH = 40  # of a message's text in the list


@app.command("status")
def status_command(
    watch: Annotated[
        bool, typer.Option("--watch", help="Redraw every few seconds until Ctrl-C.")
    ] = False,
    every: Annotated[float, typer.Option(min=0.5, help="Seconds between redraws.")] = 2.0,
    last: Annotated[int, typer.Option(min=0, help="How many of the last messages.")] = 10,
) -> None:
    """The state of the gateway, from the database: modems, spool, outbox, coverage per form,
    the last messages. Phone numbers are masked unless SHAILOO_LOG_PHONES=full."""
    settings = get_settings()
    if not watch:
        typer.echo("\n".join(run_async(lambda: _once(settings, last))))
        return
    run_async(lambda: _watch(settings, last, every))


async def _once(settings: Settings, last: int) -> list[str]:
    async with database_of(settings) as db:
        return await status_lines(db, settings, last)


async def _watch(settings: Settings, last: int, every_s: float) -> None:
    stop = stop_on_signals()
    async with database_of(settings) as db:
        if not sys.stdout.isatty():  # a pipe or a log: one snapshot after another
            while not stop.is_set():
                typer.echo("\n".join(await status_lines(db, settings, last)) + "\n")
                sys.stdout.flush()
                await _pause(stop, every_s)
            return
        with Live(auto_refresh=False, screen=False) as live:
            while not stop.is_set():
                lines = await status_lines(db, settings, last)
                live.update(Text("\n".join(lines), no_wrap=True), refresh=True)
                await _pause(stop, every_s)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass


async def status_lines(db: Database, settings: Settings, last: int) -> list[str]:
    """The status as lines of text."""
    traffic = TrafficLog(full=settings.log_phones == "full")
    async with db.session() as session:
        stored = await repository.latest_forms(session)
        forms = Deployment.model_validate(stored.definition) if stored else None
        modems = await status.list_modems(session)
        depth = await outbox.outbox_depth(session)
        now = datetime.now(UTC)
        covered = {
            form.code: await coverage.coverage(session, form.code, now)
            for form in (forms.forms if forms else [])
        }
        latest = await messages.list_messages(session, MessageFilter(), Page(limit=last))
    version = f"{stored.deployment} (version {stored.id})" if stored else "none loaded"
    return [
        f"shailoo status at {now:%Y-%m-%d %H:%M:%S} UTC; forms: {version}",
        "",
        *_modem_lines(modems),
        "",
        _spool_line(settings.spool_path),
        "outbox: " + ", ".join(f"{name} {depth.get(name, 0)}" for name in _OUTBOX),
        "",
        *_coverage_lines(covered),
        "",
        *_message_lines(latest[:last], traffic),
    ]


_OUTBOX = ("pending", "sent", "failed")


def _modem_lines(modems: list[dict[str, Any]]) -> list[str]:
    if not modems:
        return ["modems: none has reported yet (is 'shailoo run' running with a modem?)"]
    rows = [("modem", "device", "IMSI", "state", "signal", "storage", "last seen")]
    for modem in modems:
        last: dict[str, Any] = modem["last_status"] or {}
        storages = last.get("storages") or []
        storage = " ".join(f"{s['name']} {s['used']}/{s['total']}" for s in storages) or "-"
        signal = last.get("signal_dbm")
        rows.append((
            modem["label"] or "-", modem["device"], modem["imsi"], last.get("state") or "?",
            f"{signal} dBm" if signal is not None else "-", storage,
            f"{float(modem['age_s'] or 0):.0f} s ago",
        ))  # fmt: skip
    return _table(rows)


def _spool_line(spool_path: Path) -> str:
    spool = Spool(spool_path)
    aside = spool.rejected_path
    set_aside = len(aside.read_text(encoding="utf-8").splitlines()) if aside.is_file() else 0
    return f"spool: {spool.size()} part(s) waiting for the database, {set_aside} set aside" + (
        f" (in {aside})" if set_aside else ""
    )


def _coverage_lines(covered: dict[str, list[dict[str, Any]]]) -> list[str]:
    if not covered:
        return ["coverage: no forms loaded ('shailoo forms load FILE')"]
    rows = [("form", "stations reported", "of sampled", "%")]
    for code, stations in covered.items():
        reported = sum(station["first_report_at"] is not None for station in stations)
        share = f"{100 * reported / len(stations):.0f}" if stations else "-"
        rows.append((code, str(reported), str(len(stations)), share))
    return _table(rows)


def _message_lines(latest: list[dict[str, Any]], traffic: TrafficLog) -> list[str]:
    if not latest:
        return ["messages: none yet"]
    rows = [("time", "dir", "phone", "form", "status", "text")]
    for message in latest:
        phone = message["sender"] if message["direction"] == "in" else message["recipient"]
        text = " ".join(message["text"].split())
        rows.append((
            f"{message['created_at']:%H:%M:%S}", message["direction"], traffic.phone(phone),
            message["form_code"] or "-", message["status"],
            text if len(text) <= _TEXT_WIDTH else text[: _TEXT_WIDTH - 1] + "…",
        ))  # fmt: skip
    return _table(rows)


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
