"""PostgreSQL restarting (crash recovery, then "the database system is starting up", SQLSTATE
57P03) or failing while parts are spooled: only data the database refuses is set aside, and
nothing is lost."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from gateway.ingest import Ingest, Replay, part_record
from gateway.spool import Spool
from modem.network import deliver_pdus
from modem.records import InboundPart, StoredPDU
from modem.sms import to_part
from store.db import Database
from store.errors import DatabaseAwayError, DatabaseBugError, DataRefusedError
from store.migrate import upgrade
from store.models import InboundPartRow
from tests.helpers import eventually
from tests.private_postgres import PrivatePostgres
from tests.proxy import DatabaseProxy

IMSI = "437050000000001"
_NUMBERS = itertools.count(1)
RECOVERY_S = 60.0  # crash recovery of a small cluster takes well under a second


def a_part() -> InboundPart:
    number = next(_NUMBERS)
    moment = datetime(2027, 4, 2, 8, 0, tzinfo=UTC) + timedelta(seconds=number)
    (pdu,) = deliver_pdus("+996555123456", f"OP 1234 A1 B{number}", timestamp=moment)
    return to_part(StoredPDU("SM", number, 0, pdu))


async def stored_parts(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundPartRow)) or 0)


@pytest.fixture
async def private() -> AsyncIterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        await server.create()
        db = Database(server.url)
        try:
            await upgrade(db)
        finally:
            await db.close()
        yield server
    finally:
        await server.destroy()


@pytest.fixture
async def starting_up(database: Database) -> AsyncIterator[tuple[DatabaseProxy, Database]]:
    """The test database behind a proxy that, while ``starting_up`` is set, answers every new
    connection the way a restarting PostgreSQL does (SQLSTATE 57P03)."""
    proxy = DatabaseProxy(database.url)
    db = Database(await proxy.start())
    try:
        yield proxy, db
    finally:
        await db.close()
        await proxy.stop()


async def test_a_server_starting_up_is_away_and_the_spool_waits_for_it(
    starting_up: tuple[DatabaseProxy, Database], database: Database, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    proxy, db = starting_up
    ingest = Ingest(db, Spool(tmp_path / "spool.jsonl"))
    proxy.starting_up = True
    parts = [a_part() for _ in range(3)]
    await ingest.store(IMSI, parts)  # the hand-up: spooled, safe to delete from the SIM
    assert ingest.spool.size() == 3
    with caplog.at_level(logging.INFO, logger="gateway.ingest"):
        for _ in range(3):  # a replay every few seconds while it starts up
            assert await ingest.replay_spool() == Replay(waiting=3)
    assert proxy.refused >= 4
    assert ingest.spool.size() == 3
    assert not ingest.spool.rejected_path.exists()
    assert "57P03" in caplog.text or "starting up" in caplog.text
    proxy.starting_up = False
    assert await ingest.replay_spool() == Replay(stored=3)
    assert await stored_parts(database) == 3
    assert ingest.spool.size() == 0


async def test_a_real_restart_with_parts_spooled_loses_nothing(
    private: PrivatePostgres, tmp_path: Path
) -> None:
    db = Database(private.url)
    ingest = Ingest(db, Spool(tmp_path / "spool.jsonl"))
    try:
        for _ in range(5):
            await ingest.store(IMSI, [a_part()])
        await private.crash()  # pg_ctl stop -m immediate, mid-burst
        for _ in range(20):
            await ingest.store(IMSI, [a_part()])
        await ingest.store(IMSI, [a_part() for _ in range(5)])
        assert ingest.spool.size() == 25
        await private.start(wait=False)  # replays race the crash recovery and 57P03

        async def replayed_all() -> bool:
            return not (await ingest.replay_spool()).waiting

        await eventually(replayed_all, timeout_s=RECOVERY_S, interval_s=0.01)
        assert await stored_parts(db) == 30
        assert ingest.spool.size() == 0
        assert not ingest.spool.rejected_path.exists()
    finally:
        await db.close()


async def test_database_errors_are_told_apart_once_at_the_store_boundary(
    database: Database,
) -> None:
    too_long = {**part_record(IMSI, a_part()), "kind": "x" * 500}
    with pytest.raises(DataRefusedError) as refused:
        async with database.transaction() as session:
            session.add(InboundPartRow(**too_long, pdu_sha256="0" * 64))
    assert refused.value.sqlstate.startswith("22")
    with pytest.raises(DatabaseBugError):
        async with database.transaction() as session:
            await session.execute(select(func.no_such_function()))
    away = Database("postgresql://nobody@127.0.0.1:1/nothing")
    try:
        with pytest.raises(DatabaseAwayError):
            async with away.transaction() as session:
                await session.execute(select(1))
    finally:
        await away.close()


async def test_a_database_bug_keeps_spooled_parts_waiting_and_is_logged_with_its_traceback(
    database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ingest = Ingest(database, Spool(tmp_path / "spool.jsonl"))
    async with database.transaction() as session:  # a botched migration, say
        await session.execute(text("ALTER TABLE inbound_parts RENAME TO inbound_parts_old"))
    await ingest.store(IMSI, [a_part(), a_part()])
    assert ingest.spool.size() == 2  # safe to delete from the SIM
    [logged] = [r for r in caplog.records if r.name == "gateway.ingest"]
    assert logged.levelno == logging.ERROR
    assert logged.exc_info is not None  # a bug shows where it is
    assert await ingest.replay_spool() == Replay(waiting=2)  # not "refused": nothing set aside
    assert not ingest.spool.rejected_path.exists()
    async with database.transaction() as session:
        await session.execute(text("ALTER TABLE inbound_parts_old RENAME TO inbound_parts"))
    assert await ingest.replay_spool() == Replay(stored=2)
