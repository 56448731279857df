"""The console's pages: server render time over the 1M-report bench database.

Seeds exactly as ``bench/api.py`` does (its ``seed``: the presidential forms, 500 sampled
stations, 1,000 observers, 1,000,000 reports and their SMS, the running tallies), adds a modem
status and a ``read:pii`` and an ``admin`` token, then renders each console page in process,
through the ASGI app (no socket, no browser: the time is the server's), ``--runs`` times per
page and scope after one warm-up render, and prints the median and the slowest. Target: every
page under 300 ms.

Run: ``python bench/console.py [--reports N] [--runs R] [--database-url URL]``, or ``--quick``
(50,000 reports).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
# As in bench/api.py: this folder must not shadow the ``api`` package.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from api import create_app  # noqa: E402
from api.auth import make_token, token_hash  # noqa: E402
from store import repository  # noqa: E402
from store.db import Database  # noqa: E402
from store.models import Message, Observer, Report  # noqa: E402
from store.queries import tokens  # noqa: E402
from store.settings import ApiConfig  # noqa: E402

TARGET_MS = 300.0
SCOPES = ("read", "admin")


def bench_api() -> ModuleType:
    """bench/api.py, for its seeding (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_api", HERE / "api.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def extra_seed(db: Database) -> dict[str, str]:
    """A modem's status and a token per scope (bench/api.py seeds the rest, checklists too);
    the pages' sample ids."""
    made = {}
    async with db.session() as session:
        await repository.upsert_modem(
            session, imsi="437050000000001", imei="356938035643809", device="/dev/ttyUSB0",
            label="", status={"state": "ready", "signal_dbm": -71, "spool": 0,
                              "storages": [{"name": "SM", "used": 3, "total": 30}]},
        )  # fmt: skip
        for scope in SCOPES:
            token, prefix = make_token()
            await tokens.add_token(session, f"console-{scope}", scope, prefix, token_hash(token))
            made[scope] = token
        made["message"] = str(await session.scalar(select(func.max(Message.id))))
        made["report"] = str(await session.scalar(select(func.max(Report.id))))
        made["observer"] = str(await session.scalar(select(func.min(Observer.code))))
        await session.commit()
    return made


def pages(ids: dict[str, str]) -> dict[str, str]:
    return {
        "coverage": "/?form=OP",
        "coverage, one region": "/?form=VP&region=Osh",
        "messages": "/messages",
        "messages, rejected": "/messages?status=rejected",
        "message": f"/messages/{ids['message']}",
        "reports": "/reports?form=RS",
        "reports, quarantined": "/reports?quarantined=yes",
        "report": f"/reports/{ids['report']}",
        "estimates": "/estimates?form=RS",
        "estimates, one region": "/estimates?form=RS&region=Osh",
        "modems": "/modems",
        "observers": f"/observers?q={ids['observer']}",
    }


async def render_times(client: httpx.AsyncClient, path: str, runs: int) -> list[float]:
    await client.get(path)  # warm-up: templates compiled, plans cached
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


async def run(options: argparse.Namespace, folder: str) -> None:
    seeding = bench_api()
    db = await Database.open(options.database_url, Path(folder) / "postgres")
    url = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        seeded = await seeding.seed(db, url, options.reports, random.Random(2027))
        seeding.print_seeding(seeded)
        ids = await extra_seed(db)
        app = create_app(db, ApiConfig(token_cache_s=60, cache_s=options.cache_s))
        transport = httpx.ASGITransport(app)
        print(f"\nconsole pages, {options.runs} renders each (ms, in process, server time)")
        print(f"{'page':<24}{'scope':<8}{'median':>8}{'slowest':>9}  verdict")
        for scope in SCOPES:
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await client.post("/sign-in", data={"token": ids[scope]})
                for name, path in pages(ids).items():
                    times = await render_times(client, path, options.runs)
                    median, slowest = statistics.median(times), max(times)
                    verdict = "ok" if slowest < TARGET_MS else f"OVER {TARGET_MS:.0f} ms"
                    print(f"{name:<24}{scope:<8}{median:>8.1f}{slowest:>9.1f}  {verdict}")
    finally:
        await db.close()
        if db.server is not None:
            await asyncio.to_thread(db.server.cleanup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: embedded)")
    parser.add_argument("--reports", type=int, help="default 1,000,000 (--quick: 50,000)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--cache-s",
        type=float,
        default=0.0,
        help="the API's response cache (the Estimates page uses it); 0: off, so "
        "every render computes",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    options = parser.parse_args()
    if options.reports is None:
        options.reports = 50_000 if options.quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="shailoo-bench-console-") as folder:
        asyncio.run(run(options, folder))


if __name__ == "__main__":
    main()
