"""The gateway as users run it: a process, a real database, an emulated modem on a pty.

Nothing is lost and nothing is stored twice when the process is killed at random moments, when
the database goes away mid-burst, or when two gateways share one database. The first two run on
both modem backends: shailoo's AT driver and python-gammu's.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from modem.emulator import ModemEmulator
from store import repository
from store.db import Database
from store.models import InboundPartRow, Message, Report
from tests.conftest import DEMO_FORMS
from tests.helpers import eventually
from tests.proxy import DatabaseProxy

SHAILOO = str(Path(sys.executable).parent / "shailoo")


class GatewayProcess:
    """``shailoo run`` in a subprocess, against one modem (``--modem``, or settings for another
    backend than ``at``) and one database."""

    def __init__(self, url: str, device: str, data_dir: Path, backend: str = "at") -> None:
        self.environment = {
            **os.environ,
            "SHAILOO_DATABASE_URL": url,
            "SHAILOO_DATA_DIR": str(data_dir),
            "SHAILOO_LOG_LEVEL": "WARNING",
        }
        modem = ["--modem", device]
        if backend != "at":
            modem = []
            configured = [{"device": device, "backend": backend}]
            self.environment["SHAILOO_MODEMS"] = json.dumps(configured)
        self.arguments = [SHAILOO, "run", "--no-api", *modem, "--forms", str(DEMO_FORMS)]
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.arguments, env=self.environment, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=20)


async def count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def register_observers(db: Database, how_many: int, first: int = 1000) -> list[str]:
    phones = [f"+99655510{number:04d}" for number in range(how_many)]
    async with db.session() as session:
        await repository.upsert_observers(session, [
            {"code": str(first + number), "name": "", "phones": [phone], "language": "en"}
            for number, phone in enumerate(phones)
        ])  # fmt: skip
        await session.commit()
    return phones


def deliver_day(emulator: ModemEmulator, phones: list[str], first: int = 1000) -> int:
    """One report per observer; every fifth a 3-part Cyrillic incident. How many PDUs."""
    pdus = 0
    for number, phone in enumerate(phones):
        code = first + number
        if number % 5 == 4:
            text = f"IN {code} K12 @ " + "наблюдателя не пускают на участок, " * 5
        else:
            text = f"OP {code} A1 B{number}"
        pdus += len(emulator.deliver(phone, text))
    return pdus


def nothing_stored(emulator: ModemEmulator) -> bool:
    """Every storage empty and nothing waiting at the network (the gammu backend lets
    messages arrive in either storage)."""
    stored = [emulator.stored(name) for name in emulator.commands.storages]
    return not any(stored) and not emulator.waiting_at_network


@dataclass(frozen=True)
class Backend:
    """How the exactly-once tests run on one backend. A gammu gateway is up only ~7.5 s after
    it starts (python-gammu's ``Init`` alone takes ~5 s), then reads, hands up and deletes in
    well under a second: so it is killed after a random number of deletes, when the hand-up has
    committed and part of what it took is still on the SIM (the replay the database absorbs),
    fewer times and with fewer observers, to keep the run short."""

    name: str
    observers: int
    kills: int
    kill_after_s: tuple[float, float] | None  # a random moment after each start
    kill_after_deletes: tuple[int, int] | None  # or a random number of AT+CMGD in that run
    up_marker: str  # a command the modem receives once a started gateway has set it up


BACKENDS = [
    Backend("at", 300, 4, (1.0, 2.5), None, "AT+CNMI=2,1,0,2,0"),
    Backend("gammu", 100, 2, None, (1, 10), "AT+CIMI"),
]


async def moment_to_kill(
    backend: Backend, emulator: ModemEmulator, since: int, rng: random.Random
) -> None:
    """Return at a random moment to kill the gateway started at ``received_commands[since]``."""
    if backend.kill_after_s is not None:
        await asyncio.sleep(rng.uniform(*backend.kill_after_s))
        return
    assert backend.kill_after_deletes is not None
    deletes = rng.randint(*backend.kill_after_deletes)

    def deleted() -> int:
        return sum(command.startswith("AT+CMGD") for command in emulator.received_commands[since:])

    async with asyncio.timeout(60):
        while deleted() < deletes:  # noqa: ASYNC110  # polls the emulator's log
            await asyncio.sleep(0.005)


@pytest.fixture
async def big_emulator(tmp_path: Path) -> AsyncIterator[ModemEmulator]:
    modem = ModemEmulator(link=str(tmp_path / "modem-big"), capacities={"SM": 50, "ME": 600})
    await modem.start()
    yield modem
    await modem.stop()


async def test_run_refuses_an_unmigrated_database_and_says_what_to_do(
    tmp_path: Path, database: Database
) -> None:
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE alembic_version")
    gateway = GatewayProcess(database.url, "/dev/null", tmp_path)
    process = await asyncio.create_subprocess_exec(
        *gateway.arguments, env=gateway.environment, stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    _, error = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert "run 'shailoo db upgrade' first" in error.decode()


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
async def test_killed_at_random_moments_every_message_is_stored_exactly_once(
    tmp_path: Path, database: Database, big_emulator: ModemEmulator, backend: Backend
) -> None:
    observers = backend.observers
    half = observers // 2
    phones = await register_observers(database, observers)
    gateway = GatewayProcess(database.url, big_emulator.device, tmp_path, backend.name)
    rng = random.Random(4)
    pdus = deliver_day(big_emulator, phones[:half])
    last_start = len(big_emulator.received_commands)
    await gateway.start()
    for kill in range(backend.kills):
        await moment_to_kill(backend, big_emulator, last_start, rng)
        await gateway.kill()
        if kill == 1:
            pdus += deliver_day(big_emulator, phones[half:], first=1000 + half)
        last_start = len(big_emulator.received_commands)
        await gateway.start()

    async def all_processed() -> bool:
        return await count(database, Message, Message.direction == "in") >= observers

    await eventually(all_processed, 90, interval_s=0.2)

    async def last_start_is_up() -> bool:  # SIGTERM before Python runs our code is a kill
        return backend.up_marker in big_emulator.received_commands[last_start:]

    await eventually(last_start_is_up, 30, interval_s=0.2)

    async def sim_emptied() -> bool:  # deletes follow the commit: the last may still be due
        return nothing_stored(big_emulator)

    await eventually(sim_emptied, 30, interval_s=0.2)
    assert await gateway.stop() == 0
    assert await count(database, InboundPartRow) == pdus  # every part, once
    assert await count(database, Message, Message.direction == "in") == observers
    assert await count(database, Message, Message.status == "accepted") == observers
    assert await count(database, Report) == observers  # every accepted report counted once


# On the AT backend only: the spool sits between whichever backend and the database, and the
# exactly-once test above already runs the gammu backend's hand-up and delete.
@pytest.mark.parametrize("backend", ["at"])
async def test_a_database_outage_mid_burst_loses_nothing_and_doubles_nothing(
    tmp_path: Path, database: Database, big_emulator: ModemEmulator, backend: str
) -> None:
    phones = await register_observers(database, 120)
    proxy = DatabaseProxy(database.url)
    gateway = GatewayProcess(await proxy.start(), big_emulator.device, tmp_path, backend)
    await gateway.start()
    try:
        pdus = deliver_day(big_emulator, phones[:40])

        async def first_burst_in() -> bool:
            return await count(database, Message, Message.direction == "in") >= 40

        await eventually(first_burst_in, 60, interval_s=0.2)
        proxy.cut()
        pdus += deliver_day(big_emulator, phones[40:], first=1040)

        async def sim_emptied() -> bool:  # parts went to the spool, so the SIM is freed
            return nothing_stored(big_emulator)

        await eventually(sim_emptied, 60, interval_s=0.2)
        assert (tmp_path / "spool.jsonl").stat().st_size > 0
        proxy.restore()

        async def all_in() -> bool:
            return await count(database, Message, Message.direction == "in") >= 120

        await eventually(all_in, 60, interval_s=0.2)
        assert await count(database, InboundPartRow) == pdus
        assert await count(database, Report) == 120
        assert (tmp_path / "spool.jsonl").read_text() == ""
    finally:
        await gateway.stop()
        await proxy.stop()


async def test_two_gateways_share_one_database_each_with_its_own_modem(
    tmp_path: Path, database: Database
) -> None:
    phones = await register_observers(database, 80)
    first = ModemEmulator(link=str(tmp_path / "a"), imsi="437050000000001", capacities={"SM": 100})
    second = ModemEmulator(link=str(tmp_path / "b"), imsi="437050000000002", capacities={"SM": 100})
    await first.start()
    await second.start()
    gateways = [
        GatewayProcess(database.url, first.device, tmp_path / "one"),
        GatewayProcess(database.url, second.device, tmp_path / "two"),
    ]
    try:
        for gateway in gateways:
            await gateway.start()
        pdus = deliver_day(first, phones[:40]) + deliver_day(second, phones[40:], first=1040)

        async def all_in() -> bool:
            return await count(database, Message, Message.direction == "in") >= 80

        await eventually(all_in, 60, interval_s=0.2)
        assert await count(database, InboundPartRow) == pdus
        assert await count(database, Report) == 80
        assert (
            await count(database, InboundPartRow, InboundPartRow.modem_imsi == "437050000000002")
            > 0
        )
    finally:
        for gateway in gateways:
            await gateway.stop()
        await first.stop()
        await second.stop()


async def test_the_demo_runs_a_day_and_ends_with_a_summary(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        SHAILOO, "demo", "--exit-after", "8", "--day", "5", "--observers", "100",
        "--api-port", "0",
        cwd=str(Path(__file__).resolve().parent.parent), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, errors = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 0, errors.decode()
    lines = output.decode().splitlines()
    accepted = [line for line in lines if line.startswith("accepted: ")]
    assert accepted
    assert int(accepted[-1].split(": ")[1]) > 20  # the day ran; its pace depends on the machine
    assert any(line.startswith("coverage of sampled stations: ") for line in lines)
    assert any(line.startswith("Form RS: quick count at 95% confidence") for line in lines)


async def test_one_modem_failing_never_stops_the_others(tmp_path: Path, database: Database) -> None:
    phones = await register_observers(database, 10)
    locked = ModemEmulator(link=str(tmp_path / "locked"), imsi="437050000000009", puk_required=True)
    working = ModemEmulator(link=str(tmp_path / "working"), imsi="437050000000001")
    await locked.start()
    await working.start()
    gateway = GatewayProcess(database.url, locked.device, tmp_path)
    gateway.arguments += ["--modem", working.device]
    try:
        await gateway.start()
        deliver_day(working, phones)

        async def all_in() -> bool:
            return await count(database, Message, Message.direction == "in") >= 10

        await eventually(all_in, 60, interval_s=0.2)
        assert await gateway.stop() == 0
        assert not any(c.startswith("AT+CPIN=") for c in locked.received_commands)
    finally:
        await locked.stop()
        await working.stop()
