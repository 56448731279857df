"""``shailoo demo``: a whole election day on one machine, with nothing installed but Python.

An embedded PostgreSQL in a temporary folder, an emulated modem on a pty, the example forms, a
generated roster (500 sampled stations, 1,000 observers), and simulated observers texting a
compressed day: opening, voting, closing, results and incidents, with typos, Cyrillic keyboards,
duplicates and unknown numbers. A summary shows what the gateway did, live.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api import create_app
from api.auth import make_token, token_hash
from api.estimating import read_inputs
from cli.serve import bind, serve
from estimates import estimate_results, render_results
from gateway.service import Gateway
from gateway.simulation import ElectionDay, generate_roster
from modem.emulator import ModemEmulator
from parser import Deployment
from store import repository
from store.bootstrap import save_forms_file
from store.db import Database
from store.errors import ConfigError
from store.migrate import upgrade
from store.queries import tokens
from store.settings import ModemConfig, RepliesConfig, Settings

__all__ = ["DemoOptions", "run_demo", "summary_lines"]


class DemoOptions:
    """What to simulate."""

    def __init__(
        self,
        forms: Path,
        *,
        stations: int = 500,
        observers: int = 1000,
        day_s: float = 120.0,
        exit_after_s: float | None = None,
        seed: int = 2027,
        api_port: int | None = 8080,
    ) -> None:
        self.forms, self.stations, self.observers = forms, stations, observers
        self.day_s, self.exit_after_s, self.seed = day_s, exit_after_s, seed
        self.api_port = api_port  # None: no API


async def run_demo(
    options: DemoOptions, stop: asyncio.Event, show: Callable[[list[str]], None]
) -> list[str]:
    """Run until ``stop`` is set (or ``exit_after_s``); the final summary's lines."""
    with tempfile.TemporaryDirectory(prefix="shailoo-demo-") as folder:
        data = Path(folder)
        db = await Database.open(None, data / "postgres")
        emulator = ModemEmulator(link=str(data / "modem0"))
        await emulator.start()
        try:
            return await _run(options, db, emulator, data, stop, show)
        finally:
            await emulator.stop()
            await db.close()


async def _run(
    options: DemoOptions,
    db: Database,
    emulator: ModemEmulator,
    data: Path,
    stop: asyncio.Event,
    show: Callable[[list[str]], None],
) -> list[str]:
    await upgrade(db)
    deployment = await save_forms_file(db, options.forms)
    rng = random.Random(options.seed)  # noqa: S311  # a simulation, repeatable by design
    # The roster is the whole frame: the sample and three times as many stations not drawn.
    stations, observers = generate_roster(
        options.stations, options.observers, rng, unsampled=3 * options.stations
    )
    async with db.transaction() as session:
        await repository.upsert_stations(session, stations)
        await repository.upsert_observers(session, observers)
    settings = Settings(
        data_dir=data,
        modems=[ModemConfig(device=emulator.device)],
        replies=RepliesConfig(retry_first_s=1.0),
    )
    gateway = Gateway(settings, db, deployment)
    arrivals = ElectionDay(deployment, rng).arrivals(observers)
    header = (
        f"shailoo demo: {deployment.deployment}, {options.stations} sampled stations, "
        f"{len(observers)} observers, {len(arrivals)} SMS over a {options.day_s:.0f} s day"
    )
    tasks = [
        asyncio.create_task(gateway.run(stop)),
        asyncio.create_task(_texting(emulator, arrivals, options.day_s)),
    ]
    api_line = await _start_api(db, settings, options.api_port, stop, tasks)
    started = time.monotonic()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await stop.wait()
            elapsed = time.monotonic() - started
            show([header, api_line, *summary_lines(await _activity(db), elapsed)])
            if options.exit_after_s is not None and elapsed >= options.exit_after_s:
                stop.set()
    finally:
        stop.set()  # the gateway finishes what it is doing and stops
        tasks[1].cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    summary = summary_lines(await _activity(db), time.monotonic() - started)
    return [header, *summary, *await _estimates(db, deployment, settings)]


async def _estimates(db: Database, deployment: Deployment, settings: Settings) -> list[str]:
    """The quick count of every form that declares results, as the day ended."""
    lines: list[str] = []
    for form in deployment.forms:
        if form.results is not None:
            async with db.session() as session:
                frame, rows = await read_inputs(session, deployment, form, settings.strata)
            result = estimate_results(frame, rows, form)
            lines += ["", render_results(result, form, deployment.default_language)]
    return lines


async def _start_api(
    db: Database,
    settings: Settings,
    port: int | None,
    stop: asyncio.Event,
    tasks: list[asyncio.Task[None]],
) -> str:
    """Serve the API beside the demo gateway, with an admin token to try it; what to say."""
    if port is None:
        return "API: not served (--api-port 0)"
    try:
        listener = bind("127.0.0.1", port)
    except ConfigError:
        return f"API: port {port} is taken, not served (try --api-port 8081)"
    token, prefix = make_token()
    async with db.transaction() as session:
        await tokens.add_token(session, "demo", "admin", prefix, token_hash(token))
    tasks.append(
        asyncio.create_task(serve(create_app(db, settings.api, settings.strata), listener, stop))
    )
    return (
        f"API: http://127.0.0.1:{port}/docs   token (admin, this demo only): {token}\n"
        f'     curl -H "Authorization: Bearer {token}" '
        f"'http://127.0.0.1:{port}/api/v1/coverage?form=OP'"
    )


async def _texting(emulator: ModemEmulator, arrivals: list[Any], day_s: float) -> None:
    started = time.monotonic()
    for arrival in arrivals:
        delay = started + arrival.at * day_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        emulator.deliver(arrival.sender, arrival.text)


async def _activity(db: Database) -> dict[str, Any]:
    async with db.session() as session:
        return await repository.activity(session)


def summary_lines(activity: dict[str, Any], elapsed_s: float) -> list[str]:
    """The summary a person reads; one line is ``accepted: N``."""
    status: dict[str, int] = activity["by_status"]
    total = sum(status.values())
    reasons = sorted(activity["errors"].items(), key=lambda item: -item[1])
    outbox: dict[str, int] = activity["outbox"]
    sampled = activity["sampled"] or 1
    coverage = "  ".join(
        f"{form} {count}/{sampled} ({count / sampled:.0%})"
        for form, count in sorted(activity["coverage"].items())
    )
    return [
        f"time: {elapsed_s:.0f} s",
        f"messages in: {total}",
        f"accepted: {status.get('accepted', 0)}",
        f"unverified: {status.get('unverified', 0)}",
        f"rejected: {status.get('rejected', 0)}",
        f"duplicate: {status.get('duplicate', 0)}",
        "rejected by reason: " + (", ".join(f"{code} {n}" for code, n in reasons) or "none"),
        f"replies out: {outbox.get('sent', 0)} sent, {outbox.get('pending', 0)} waiting, "
        f"{outbox.get('failed', 0)} failed",
        f"coverage of sampled stations: {coverage or 'no reports yet'}",
    ]
