"""Modem throughput and latency against the emulator paced at 115200 baud (8N1).

1. Drain: 500 stored messages (200 one-part GSM-7, 200 one-part UCS-2 Cyrillic, 100 three-part
   UCS-2: 700 PDUs) read, handed up and deleted by our supervisor, as a fraction of the serial
   line limit: the time the PDUs alone take at the line rate, as hex, the way AT+CMGL sends them.
   Target: at least 70%.
2. Baseline in the same run: python-gammu's StateMachine (GetNextSMS + DeleteSMS) draining the
   same 700 PDUs from the same emulator. Target: ours at least 2x faster.
3. Arrival latency: deliver() to hand-up through +CMTI, over 200 arrivals, minus the line time of
   the bytes involved (the +CMTI line and the AT+CMGR answer). Target: p99 under 30 ms.

Run: ``make bench`` or ``python bench/modem.py [--messages N] [--arrivals N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
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


async def loaded_emulator(texts: list[str], link: str) -> tuple[ModemEmulator, int]:
    """An emulator paced at 115200 holding ``texts``; and the hex length of all their PDUs."""
    emulator = ModemEmulator(
        link=link, capacities={"SM": 1000, "ME": 50}, faults=Faults(baud=DEFAULT_BAUD)
    )
    await emulator.start()
    hex_bytes = 0
    for number, text in enumerate(texts):
        hex_bytes += sum(len(pdu) for pdu in emulator.deliver(f"+99655512{number:04d}", text))
    return emulator, hex_bytes


async def drain_ours(texts: list[str], folder: str) -> tuple[float, float, int]:
    emulator, hex_bytes = await loaded_emulator(texts, f"{folder}/ours")
    parts = len(emulator.stored("SM"))
    handed: list[InboundPart] = []

    async def hand_up(parts: list[InboundPart]) -> None:
        handed.extend(parts)

    settings = SupervisorSettings(
        sweep_interval_s=3600, watchdog_idle_s=3600, timeouts=Timeouts(list_s=300)
    )
    supervisor = ModemSupervisor(emulator.device, hand_up, settings)
    started = time.perf_counter()
    task = asyncio.create_task(supervisor.run())
    while emulator.stored("SM"):
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    await supervisor.stop(task)
    await emulator.stop()
    assert len(handed) == parts, (len(handed), parts)
    return elapsed, line_time(hex_bytes), parts


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


async def arrival_latency(arrivals: int, folder: str) -> list[float]:
    emulator = ModemEmulator(link=f"{folder}/latency", faults=Faults(baud=DEFAULT_BAUD))
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
        beyond_line.append(done - sent - line_time(wire))
        while emulator.stored("SM"):
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
    options = arguments.parse_args()
    texts = message_mix(options.messages, random.Random(2027))
    with tempfile.TemporaryDirectory() as folder:
        ours, limit, parts = await drain_ours(texts, folder)
        baseline = await drain_gammu(texts, folder)
        latencies = await arrival_latency(options.arrivals, folder)
    print(
        f"{options.messages} messages in {parts} PDUs at {DEFAULT_BAUD} baud; the PDUs alone "
        f"take {limit:.1f} s on the line"
    )
    print(
        f"drain, shailoo       {ours:6.1f} s  {parts / ours:6.1f} PDU/s  "
        f"{limit / ours:6.0%} of the line limit (target >= 70%)"
    )
    print(
        f"drain, python-gammu  {baseline:6.1f} s  {parts / baseline:6.1f} PDU/s  "
        f"{limit / baseline:6.0%} of the line limit"
    )
    print(f"shailoo vs gammu     {baseline / ours:6.1f}x faster (target >= 2x)")
    print(
        f"arrival latency beyond line time over {len(latencies)} arrivals: "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms (target p99 < 30 ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
