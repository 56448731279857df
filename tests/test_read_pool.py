"""The API's read path: pages built once per shape of filters and run by asyncpg itself
(``store.queries.rows.fetch_dicts``) on the read pool (``Database.read``), which answers again
after the server dropped its connections, and whose driver errors are translated like every
other database error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Select, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from parser import Deployment
from store.db import Database
from store.errors import DatabaseAwayError, DatabaseBugError, DataRefusedError, translated
from store.queries import messages, reports
from store.queries.filters import MessageFilter, Page, ReportFilter, page_values, values
from store.queries.rows import as_dicts, fetch_dicts
from tests.api_helpers import Api, open_api
from tests.private_postgres import PrivatePostgres

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
RECOVERY_S = 30.0  # crash recovery of a small private cluster, with room for a loaded machine
FAR_AHEAD = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture
async def api(database: Database, demo: Deployment, tmp_path: Path) -> AsyncIterator[Api]:
    opened = await open_api(database, demo, tmp_path)
    async with opened.client:
        await opened.receive("OP 1234 A1 B250")
        await opened.receive("OP 5678 A1 Z9", observer="5678", reference=2)
        await opened.receive("IN 9012 K1", observer="9012", reference=3)
        await opened.receive("IN 1234 K4 @ police came", reference=4)
        await opened.receive("OP 9012 A2 B300", observer="9012", reference=5)
        yield opened


REPORT_FILTERS = [
    ReportFilter(),
    ReportFilter(station="S001"),
    ReportFilter(station="S003"),  # the same shape as the line above, another value
    ReportFilter(form="OP", region="Osh"),
    ReportFilter(observer="9012", quarantined=False),
    ReportFilter(since=LONG_AGO, until=FAR_AHEAD),
    ReportFilter(since=FAR_AHEAD),
]
REPORT_FILTER_IDS = ["all", "S001", "S003", "OP-Osh", "9012-kept", "ever", "none-yet"]
AS_SQLALCHEMY_GIVES = {int, str, bool, dict, datetime, type(None)}
PAGES = [Page(limit=2), Page(limit=50, before=3)]


async def through_sqlalchemy(
    session: AsyncSession, statement: Select[Any], given: dict[str, Any]
) -> list[dict[str, Any]]:
    return as_dicts(await session.execute(statement, given))


@pytest.mark.parametrize("page", PAGES, ids=["first", "below-3"])
@pytest.mark.parametrize("where", REPORT_FILTERS, ids=REPORT_FILTER_IDS)
async def test_a_report_page_from_the_driver_equals_the_same_statement_through_sqlalchemy(
    api: Api, where: ReportFilter, page: Page
) -> None:
    given = values(where) | page_values(page)
    statement = reports._report_page(frozenset(given))
    async with api.db.session() as session:
        expected = await through_sqlalchemy(session, statement, given)
    got = await api.db.read(lambda session: reports.list_reports(session, where, page))
    assert got == expected
    # JSON decoded and timestamps parsed, as SQLAlchemy gives them
    assert {type(value) for row in got for value in row.values()} <= AS_SQLALCHEMY_GIVES


@pytest.mark.parametrize("where", REPORT_FILTERS[:5], ids=REPORT_FILTER_IDS[:5])
async def test_a_checklist_page_from_the_driver_equals_the_same_statement_through_sqlalchemy(
    api: Api, where: ReportFilter
) -> None:
    where = ReportFilter(where.form, where.observer, where.station, where.region)  # no quarantine
    given = values(where) | page_values(Page(limit=2))
    async with api.db.session() as session:
        expected = await through_sqlalchemy(
            session, reports._checklist_page(frozenset(given)), given
        )
    got = await api.db.read(lambda session: reports.list_checklists(session, where, Page(limit=2)))
    assert got == expected
    assert got  # every one of these filters matches a checklist


async def test_pages_of_one_shape_share_one_statement_and_differ_by_their_values(
    api: Api,
) -> None:
    first = ReportFilter(station="S001")
    third = ReportFilter(station="S003")
    shape = frozenset(values(first) | page_values(Page()))
    assert reports._report_page(shape) is reports._report_page(
        frozenset(values(third) | page_values(Page()))
    )

    async def stations(where: ReportFilter) -> set[str]:
        rows = await api.db.read(lambda s: reports.list_reports(s, where, Page()))
        return {row["station_code"] for row in rows}

    assert await stations(first) == {"S001"}
    assert await stations(third) == {"S003"}


@pytest.mark.parametrize(
    "where",
    [MessageFilter(), MessageFilter(station="S002", direction="in"), MessageFilter(q="police"),
     MessageFilter(q=""), MessageFilter(error_code="E001"), MessageFilter(sender="+996555123456")],
    ids=["all", "S002-in", "search", "empty-search", "error", "sender"],
)  # fmt: skip
async def test_a_message_page_from_the_driver_equals_the_same_statement_through_sqlalchemy(
    api: Api, where: MessageFilter
) -> None:
    given = messages._given(where) | page_values(Page())
    async with api.db.session() as session:
        expected = await through_sqlalchemy(session, messages._page(frozenset(given)), given)
    got = await api.db.read(lambda session: messages.list_messages(session, where, Page()))
    assert got == expected


async def _backend(connection: AsyncConnection) -> int:
    [row] = await fetch_dicts(connection, select(func.pg_backend_pid().label("pid")), {})
    return int(row["pid"])


async def _backend_by_sqlalchemy(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.pg_backend_pid())) or 0)


@pytest.mark.parametrize("settle_s", [0, 0.2], ids=["at-once", "closed-by-then"])
@pytest.mark.parametrize("backend", [_backend, _backend_by_sqlalchemy], ids=["driver", "orm"])
async def test_a_read_after_its_connection_was_killed_answers_on_a_new_one(
    database: Database, backend: Callable[[AsyncConnection], Any], settle_s: float
) -> None:
    before = await database.read(backend)
    async with database.session() as session:
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
    await asyncio.sleep(settle_s)  # the server's notice of it arrived, or not yet
    after = await database.read(backend)
    assert after != before


async def test_a_read_after_a_real_restart_answers_on_a_new_connection(tmp_path: Path) -> None:
    server = PrivatePostgres()
    try:
        await server.create()
        db = Database(server.url)
        try:
            before = await db.read(_backend)
            await server.crash()  # pg_ctl stop -m immediate: every pooled connection is dead
            await server.start(wait=True)
            assert await db.read(_backend) != before
        finally:
            await db.close()
    finally:
        await server.destroy()


_FILLER = (
    "CREATE TABLE filler AS SELECT n, repeat('x', 200) AS pad FROM generate_series(1, 200000) n"
)


async def test_reads_while_a_real_server_recovers_are_away_until_it_answers() -> None:
    """Right after ``pg_ctl start`` following an immediate stop, PostgreSQL refuses connections
    or answers "starting up" (57P03) until crash recovery ends: each read meanwhile is "away"
    (the API's 503), never a bug or a refusal, and reads answer as soon as the server does."""
    server = PrivatePostgres()
    try:
        await server.create()
        db = Database(server.url)
        try:
            before = await db.read(_backend)
            async with db.transaction() as session:  # WAL for the recovery to replay, so
                await session.execute(text(_FILLER))  # that it lasts past the first reads
            await server.crash()
            await server.start(wait=False)  # reads race the crash recovery
            seen: list[str] = []
            deadline = asyncio.get_running_loop().time() + RECOVERY_S
            while True:
                try:
                    after = await db.read(_backend)
                    break
                except DatabaseAwayError as exc:
                    seen.append(exc.sqlstate)
                    assert asyncio.get_running_loop().time() < deadline, seen
                    await asyncio.sleep(0.005)
            assert after != before
            assert "57P03" in seen  # the server's own "starting up", not only a refusal
            assert set(seen) <= {"", "57P03", "08001", "08006", "57P01"}, seen  # "": no code
        finally:
            await db.close()
    finally:
        await server.destroy()


def _reading(statement: Select[Any]) -> Callable[[AsyncConnection], Any]:
    return lambda connection: fetch_dicts(connection, statement, {})


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        (select((literal(1) / literal(0)).label("x")), DataRefusedError),  # 22012
        (select(func.no_such_function().label("x")), DatabaseBugError),  # 42883
    ],
    ids=["refused", "bug"],
)
async def test_errors_raised_by_the_driver_itself_are_translated_at_the_store_boundary(
    database: Database, statement: Select[Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        await database.read(_reading(statement))
    assert type(raised.value.__cause__).__module__.startswith("asyncpg")


async def test_an_unreachable_server_is_away_for_a_read_too() -> None:
    away = Database("postgresql://nobody@127.0.0.1:1/nothing")
    try:
        with pytest.raises(DatabaseAwayError):
            await away.read(_backend)
    finally:
        await away.close()


async def test_a_cancelled_read_is_not_asked_again(database: Database) -> None:
    runs = 0

    async def slow(connection: AsyncConnection) -> object:
        nonlocal runs
        runs += 1
        await connection.execute(text("SET statement_timeout = 10"))
        try:
            return await fetch_dicts(connection, select(func.pg_sleep(1).label("slept")), {})
        finally:
            await connection.execute(text("RESET statement_timeout"))

    with pytest.raises(DatabaseAwayError) as raised:
        await database.read(slow)
    assert raised.value.sqlstate == "57014"  # query_canceled: busy, not broken
    assert runs == 1


async def test_every_read_gives_its_connection_back_whatever_happened(database: Database) -> None:
    pool_size = database.read_engine.pool.size()  # type: ignore[attr-defined]
    for _ in range(pool_size + 5):  # more than the pool holds: a leak would wait, then time out
        with pytest.raises(DatabaseBugError):
            await database.read(_reading(select(func.no_such_function().label("x"))))
        with pytest.raises(DataRefusedError):
            await database.read(_reading(select((literal(1) / literal(0)).label("x"))))
    assert await database.read(_backend) > 0
    assert database.read_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_driver_out_of_step_with_its_connection_is_away() -> None:
    out_of_step = asyncpg.InternalClientError("cannot switch to state 12; another operation (2)")
    assert isinstance(translated(out_of_step), DatabaseAwayError)
