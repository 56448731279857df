"""The whole gateway: from an SMS arriving at the modem to its report committed in PostgreSQL.

``shailoo run`` runs as its own process against an embedded PostgreSQL, with one emulated modem
paced at 115200 baud (8N1) in this process:

1. Burst: 1,000 messages of a simulated election day (``gateway.simulation``: every form of the
   example deployment, typos, Cyrillic keyboards and comments, some rejected) delivered at once,
   until every message is stored and processed (replies go out through the same modem).
   Messages/s as a fraction of the serial-line limit: the time the PDUs alone take at the line
   rate, as hex, the way AT+CMGL sends them. Target: at least 70%.
2. Single arrivals through +CMTI: deliver() to the report committed, p50 and p99. Target: p99
   under 60 ms.
3. Peak resident memory of the gateway process (VmHWM) over the run. Target: under 200 MB.

All three run twice, each time with a fresh database and gateway: on an instant modem, and on
one that takes 20 ms per command (``--latency-ms``; SIM writes such as AT+CMGD take
``SIM_WRITE_FACTOR`` times that). The targets are the instant modem's; on the slow one the
arrival latency is also net of the AT+CMGR's own 20 ms.

Run: ``make bench`` or ``python bench/pipeline.py [--messages N] [--arrivals N]
[--latency-ms MS]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from gateway.simulation import ElectionDay, generate_roster  # noqa: E402
from modem.emulator import DEFAULT_BAUD, Faults, ModemEmulator  # noqa: E402
from parser import load_forms  # noqa: E402
from store import repository  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402

FORMS = HERE.parent / "examples" / "forms" / "presidential.yaml"
SHAILOO = str(Path(sys.executable).parent / "shailoo")
BITS_PER_BYTE = 10


def line_time(byte_count: int) -> float:
    return byte_count * BITS_PER_BYTE / DEFAULT_BAUD


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def processed(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("select count(*) from messages where direction = 'in'"))


async def wait_until_done(
    connection: asyncpg.Connection, distinct_pdus: int, timeout_s: float
) -> float:
    """Until every distinct PDU is stored and in a message (a resend within the same second
    is the same PDU, absorbed by the part key as a replay would be)."""
    deadline = time.perf_counter() + timeout_s
    query = "select count(*), count(*) filter (where message_id is null) from inbound_parts"
    while True:
        stored, waiting = await connection.fetchrow(query)
        if stored >= distinct_pdus and waiting == 0:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{stored} of {distinct_pdus} parts, {waiting} unprocessed")
        await asyncio.sleep(0.02)


async def wait_for_messages(
    connection: asyncpg.Connection, target: int, timeout_s: float, poll_s: float
) -> float:
    deadline = time.perf_counter() + timeout_s
    while (await processed(connection)) < target:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"fewer than {target} messages after {timeout_s} s")
        await asyncio.sleep(poll_s)
    return time.perf_counter()


@dataclass(frozen=True)
class Run:
    burst: int
    parts: int
    limit_s: float
    burst_s: float
    latencies: list[float]
    memory_mb: float


async def measure(options: argparse.Namespace, latency_ms: float) -> Run:
    """One gateway against one modem answering each command in ``latency_ms``."""
    print(f"measuring with a modem taking {latency_ms:g} ms per command...", flush=True)
    with tempfile.TemporaryDirectory(prefix="shailoo-bench-") as folder:
        data = Path(folder)
        db = await Database.open(None, data / "postgres")
        await upgrade(db)
        deployment = load_forms(FORMS.read_text(encoding="utf-8"))
        rng = random.Random(2027)
        stations, observers = generate_roster(options.messages // 2, options.messages, rng)
        async with db.session() as session:
            await repository.upsert_stations(session, stations)
            await repository.upsert_observers(session, observers)
            await session.commit()
        day = ElectionDay(deployment, rng).arrivals(observers)
        burst = [arrival for arrival in day if not arrival.sender.startswith("+99670")]
        burst = burst[: options.messages]
        emulator = ModemEmulator(
            link=str(data / "modem0"),
            capacities={"SM": 50, "ME": 2000},
            faults=Faults(baud=DEFAULT_BAUD),
            latency_ms=latency_ms,
        )
        await emulator.start()
        url = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(url)
        environment = {
            **os.environ,
            "SHAILOO_DATABASE_URL": url,
            "SHAILOO_DATA_DIR": folder,
            "SHAILOO_LOG_LEVEL": "WARNING",
        }
        gateway = await asyncio.create_subprocess_exec(
            SHAILOO, "run", "--no-api", "--modem", emulator.device, "--forms", str(FORMS),
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            await asyncio.sleep(3)  # start-up: imports, database, modem set-up
            delivered: set[str] = set()
            started = time.perf_counter()
            for arrival in burst:
                delivered.update(emulator.deliver(arrival.sender, arrival.text))
            done = await wait_until_done(connection, len(delivered), 600)
            burst_s = done - started
            latencies = []
            phone = str(observers[0]["phones"][0])  # type: ignore[index]
            code = observers[0]["code"]
            for number in range(options.arrivals):
                # let the last reply go out, and the last delete end
                await asyncio.sleep(0.05 + 4 * latency_ms / 1000)
                before = await processed(connection)
                sent = time.perf_counter()
                pdu = emulator.deliver(phone, f"IN {code} A{number % 9 + 1} C2 @ {number}")[0]
                arrived = await wait_for_messages(connection, before + 1, 60, 0.001)
                wire = len('\r\n+CMTI: "ME",1\r\n') + len("\r\n+CMGR: 0,,40\r\n") + len(pdu) + 8
                latencies.append(arrived - sent - line_time(wire) - latency_ms / 1000)
            memory = peak_rss_mb(gateway.pid)
        finally:
            gateway.terminate()
            await gateway.wait()
            await connection.close()
            await emulator.stop()
            await db.close()
    hex_bytes = sum(len(pdu) for pdu in delivered)
    return Run(len(burst), len(delivered), line_time(hex_bytes), burst_s, latencies, memory)


async def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--messages", type=int, default=1000)
    arguments.add_argument("--arrivals", type=int, default=200)
    arguments.add_argument("--latency-ms", type=float, default=20.0, help="the slow modem's")
    options = arguments.parse_args()
    runs = [(latency, await measure(options, latency)) for latency in (0.0, options.latency_ms)]
    for latency, run in runs:
        ordered = sorted(run.latencies)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(f"-- {f'{latency:g} ms per command' if latency else 'instant'} modem")
        print(
            f"burst: {run.burst} messages in {run.parts} PDUs, {run.limit_s:.1f} s of PDUs on "
            f"a {DEFAULT_BAUD} baud line; all stored and processed after {run.burst_s:.1f} s"
        )
        print(
            f"burst throughput     {run.burst / run.burst_s:6.1f} messages/s  "
            f"{run.limit_s / run.burst_s:6.0%} of the line limit (target >= 70%)"
        )
        print(
            f"arrival to message  p50 {statistics.median(run.latencies) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms beyond the line time (target p99 < 60 ms)"
        )
        print(f"gateway peak memory  {run.memory_mb:.0f} MB resident (target < 200 MB)")


if __name__ == "__main__":
    asyncio.run(main())
