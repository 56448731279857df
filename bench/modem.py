"""Modem throughput and latency against the emulator paced at 115200 baud (8N1).

Each measurement runs on two modems: an instant one, and one that takes 20 ms per command
(``--latency-ms``; SIM writes such as AT+CMGD take ``SIM_WRITE_FACTOR`` times that, as real
sticks do). The drain also runs on a modem that runs concatenated lines (``AT+CMGD=1;+CMGD=2``)
and on one that refuses them (``--no-concat``).

1. Drain: 500 stored messages (200 one-part GSM-7, 200 one-part UCS-2 Cyrillic, 100 three-part
   UCS-2: 700 PDUs) read, handed up and deleted by our supervisor, as a fraction of the serial
   line limit: the time the PDUs alone take at the line rate, as hex, the way AT+CMGL sends them.
   Two shares: from the start (connecting and setting up included), and from the first AT+CMGL
   (the listing itself is the floor: what the set-up costs aside). Target: at least 70% from the
   start and, refusing concatenation, at least 75% from the first listing, on the instant modem.
2. Baseline in the same run: python-gammu's StateMachine (GetNextSMS + DeleteSMS) draining the
   same 700 PDUs from the same emulator, instant and concatenating (gammu deletes one per
   command anyway). Target: ours at least 2x faster.
3. Arrival latency: deliver() to hand-up through +CMTI, over 200 arrivals, minus the line time of
   the bytes involved (the +CMTI line and the AT+CMGR answer) and, on the slow modem, the
   AT+CMGR's own latency. Target: p99 under 30 ms.

Run: ``make bench`` or ``python bench/modem.py [--messages N] [--arrivals N] [--latency-ms MS]
[--no-gammu]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

import gammu  # noqa: E402

from modem.driver import Timeouts  # noqa: E402
from modem.emulator import DEFAULT_BAUD, Faults, ModemEmulator  # noqa: E402
from modem.records import InboundPart  # noqa: E402
from modem.supervisor import ModemSupervisor, SupervisorSettings  # noqa: E402

BITS_PER_BYTE = 10
WORDS = (
    "шайлоо", "участогу", "байкоочу", "бюллетень", "урна", "протокол", "комиссия", "добуш",
    "саны", "observer", "station", "ballot", "queue", "opened", "closed", "count", "protocol",
)  # fmt: skip


def message_mix(count: int, rng: random.Random) -> list[str]:
    """40% one-part GSM-7, 40% one-part UCS-2 Cyrillic, 20% three-part UCS-2."""
    latin = [w for w in WORDS if w.isascii()]
    cyrillic = [w for w in WORDS if not w.isascii()]
    texts = []
    for number in range(count):
        kind = number % 5
        if kind in (0, 1):
            text = f"OP {1000 + number} A1 B{number % 900} " + " ".join(rng.choices(latin, k=12))
            texts.append(text[:150])
        elif kind in (2, 3):
            texts.append(("VP " + " ".join(rng.choices(cyrillic, k=10)))[:65])
        else:
            texts.append((" ".join(rng.choices(cyrillic, k=40)) * 2)[:190])
    return texts


def line_time(byte_count: int, baud: int = DEFAULT_BAUD) -> float:
    return byte_count * BITS_PER_BYTE / baud


@dataclass(frozen=True)
class Modem:
    """Which emulated modem: its latency per command, and whether it refuses ``;`` lines."""

    latency_ms: float = 0.0
    no_concat: bool = False

    @property
    def name(self) -> str:
        speed = f"{self.latency_ms:g} ms/command" if self.latency_ms else "instant"
        return f"{speed}, {'refusing' if self.no_concat else 'running'} concatenation"


@dataclass(frozen=True)
class Drain:
    parts: int
    limit_s: float  # the PDUs' hex alone at the line rate
    total_s: float  # from the supervisor's start
    listing_s: float  # from the first AT+CMGL


async def loaded_emulator(
    texts: list[str], link: str, modem: Modem = Modem()
) -> tuple[ModemEmulator, int]:
    """An emulator paced at 115200 holding ``texts``; and the hex length of all their PDUs."""
    emulator = ModemEmulator(
        link=link,
        capacities={"SM": 1000, "ME": 50},
        faults=Faults(baud=DEFAULT_BAUD),
        no_concat=modem.no_concat,
        latency_ms=modem.latency_ms,
    )
    await emulator.start()
    hex_bytes = 0
    for number, text in enumerate(texts):
        hex_bytes += sum(len(pdu) for pdu in emulator.deliver(f"+99655512{number:04d}", text))
    return emulator, hex_bytes


async def drain_ours(texts: list[str], folder: str, modem: Modem) -> Drain:
    link = f"{folder}/ours-{modem.latency_ms:g}-{modem.no_concat}"
    emulator, hex_bytes = await loaded_emulator(texts, link, modem)
    parts = len(emulator.stored("SM"))
    handed: list[InboundPart] = []

    async def hand_up(parts: list[InboundPart]) -> None:
        handed.extend(parts)

    settings = SupervisorSettings(
        sweep_interval_s=3600, watchdog_idle_s=3600, timeouts=Timeouts(list_s=300)
    )
    supervisor = ModemSupervisor(emulator.device, hand_up, settings)
    started = time.monotonic()  # the emulator stamps commands with time.monotonic()
    task = asyncio.create_task(supervisor.run())
    while emulator.stored("SM"):
        await asyncio.sleep(0.002)
    finished = time.monotonic()
    await supervisor.stop(task)
    await emulator.stop()
    assert len(handed) == parts, (len(handed), parts)
    first_listing = next(
        at
        for command, at in zip(emulator.received_commands, emulator.received_at, strict=True)
        if command.startswith("AT+CMGL")
    )
    return Drain(parts, line_time(hex_bytes), finished - started, finished - first_listing)


def gammu_drain(device: str, parts: int) -> None:
    machine = gammu.StateMachine()
    machine.SetConfig(0, {"Device": device, "Connection": "at115200"})
    machine.Init()
    try:
        sms = machine.GetNextSMS(Start=True, Folder=0)
        for _ in range(parts):
            machine.DeleteSMS(Folder=0, Location=sms[0]["Location"])
            try:
                sms = machine.GetNextSMS(Location=sms[0]["Location"], Folder=0)
            except gammu.ERR_EMPTY:
                break
    finally:
        machine.Terminate()


async def drain_gammu(texts: list[str], folder: str) -> float:
    emulator, _ = await loaded_emulator(texts, f"{folder}/gammu")
    parts = len(emulator.stored("SM"))
    started = time.perf_counter()
    await asyncio.to_thread(gammu_drain, emulator.device, parts)
    elapsed = time.perf_counter() - started
    left = len(emulator.stored("SM"))
    await emulator.stop()
    assert left == 0, f"python-gammu left {left} messages"
    return elapsed


async def arrival_latency(arrivals: int, folder: str, latency_ms: float) -> list[float]:
    emulator = ModemEmulator(
        link=f"{folder}/latency-{latency_ms:g}",
        faults=Faults(baud=DEFAULT_BAUD),
        latency_ms=latency_ms,
    )
    await emulator.start()
    handed: asyncio.Queue[float] = asyncio.Queue()

    async def hand_up(parts: list[InboundPart]) -> None:
        handed.put_nowait(time.perf_counter())

    settings = SupervisorSettings(sweep_interval_s=3600, watchdog_idle_s=3600)
    supervisor = ModemSupervisor(emulator.device, hand_up, settings)
    task = asyncio.create_task(supervisor.run())
    await supervisor.wait_ready(10)
    await asyncio.sleep(0.5)
    beyond_line: list[float] = []
    for number in range(arrivals):
        sent = time.perf_counter()
        pdu = emulator.deliver("+996555123456", f"OP {1000 + number} A1 B250 C13 D2")[0]
        done = await asyncio.wait_for(handed.get(), timeout=10)
        # +CMTI line, then "+CMGR: 0,,NN" with the PDU and OK
        wire = len('\r\n+CMTI: "SM",1\r\n') + len("\r\n+CMGR: 0,,40\r\n") + len(pdu) + 8
        beyond_line.append(done - sent - line_time(wire) - latency_ms / 1000)
        # Deleted (in ME, the largest storage) and answered: the modem is idle again.
        while any(emulator.stored(name) for name in emulator.commands.storages):
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.01)
    await supervisor.stop(task)
    await emulator.stop()
    return beyond_line


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--messages", type=int, default=500)
    arguments.add_argument("--arrivals", type=int, default=200)
    arguments.add_argument("--latency-ms", type=float, default=20.0, help="the slow modem's")
    arguments.add_argument("--no-gammu", action="store_true", help="skip the baseline")
    options = arguments.parse_args()
    texts = message_mix(options.messages, random.Random(2027))
    modems = [
        Modem(latency, no_concat)
        for latency in (0.0, options.latency_ms)
        for no_concat in (False, True)
    ]
    with tempfile.TemporaryDirectory() as folder:
        drains = [(modem, await drain_ours(texts, folder, modem)) for modem in modems]
        baseline = None if options.no_gammu else await drain_gammu(texts, folder)
        latencies = [
            (latency, await arrival_latency(options.arrivals, folder, latency))
            for latency in (0.0, options.latency_ms)
        ]
    first = drains[0][1]
    print(
        f"{options.messages} messages in {first.parts} PDUs at {DEFAULT_BAUD} baud; the PDUs "
        f"alone take {first.limit_s:.1f} s on the line"
    )
    print("drain, shailoo: time and share of the line limit, from the start | from the listing")
    for modem, drain in drains:
        print(
            f"  {modem.name:45} {drain.total_s:6.1f} s {drain.parts / drain.total_s:6.1f} PDU/s "
            f"{drain.limit_s / drain.total_s:5.0%} | {drain.listing_s:6.1f} s "
            f"{drain.limit_s / drain.listing_s:5.0%}"
        )
    print("  (targets, instant modem: >= 70% from the start; >= 75% from the listing, refusing)")
    if baseline is not None:
        print(
            f"drain, python-gammu (instant modem) {baseline:6.1f} s  "
            f"{first.parts / baseline:6.1f} PDU/s  "
            f"{first.limit_s / baseline:6.0%} of the line limit"
        )
        print(f"shailoo vs gammu     {baseline / first.total_s:6.1f}x faster (target >= 2x)")
    for latency, values in latencies:
        speed = f"{latency:g} ms/command modem" if latency else "instant modem"
        print(
            f"arrival latency beyond line time, {speed}, over {len(values)} arrivals: "
            f"p50 {statistics.median(values) * 1000:.1f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:.1f} ms (target p99 < 30 ms)"
        )


if __name__ == "__main__":
    asyncio.run(main())
