"""Query results as the plain dicts the API serialises."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Dialect, Result
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from store.errors import connection_lost, sqlstate

__all__ = ["Reads", "as_dicts", "fetch_dicts"]

# What a read-only query runs on: a session, or a connection of the read pool (``Database.read``).
Reads = AsyncSession | AsyncConnection

_Compiled = tuple[str, Sequence[str], dict[str, Any]]  # SQL, its parameters in order, defaults
_COMPILED_SHAPES = 256  # statements compiled for fetch_dicts, kept (the memoized shapes)


def as_dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """Every row as a dict keyed by column label (zip is about a fifth cheaper than
    ``.mappings()`` per row, which shows at fifty rows a request)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


async def fetch_dicts(
    reads: Reads, statement: Select[Any], parameters: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The rows of ``statement`` as dicts, run by asyncpg itself on the connection of ``reads``.

    For the API's computed pages: SQLAlchemy's execution and rows cost a tenth of such a
    request's CPU (bench/api.py). ``statement`` is compiled once (it should be one of the
    memoized shapes of ``store.queries.filters``) and asyncpg gets its SQL and the values in
    order. The values come back as ``session.execute`` gives them for the columns these pages
    read (text, numbers, booleans, timestamps, arrays; JSON through the engine's codec).
    A driver error is left for the store's boundary to translate. The connection is
    invalidated, so that the pool does not lend it again, unless the server refused the
    statement and the connection goes on (a cancelled fetch may leave it mid-query).
    """
    connection = reads if isinstance(reads, AsyncConnection) else await reads.connection()
    sql, names, defaults = _compiled(statement, connection.dialect)
    driver = cast(asyncpg.Connection, (await connection.get_raw_connection()).driver_connection)
    values = [parameters[name] if name in parameters else defaults[name] for name in names]
    try:
        records = await driver.fetch(sql, *values)
    except BaseException as exc:
        if driver.is_closed() or not _statement_error(exc):
            await connection.invalidate()
        raise
    return [dict(record) for record in records]


def _statement_error(exc: BaseException) -> bool:
    # The server's answer to this statement, on a connection that goes on.
    return isinstance(exc, asyncpg.PostgresError) and not connection_lost(sqlstate(exc))


@functools.lru_cache(maxsize=_COMPILED_SHAPES)
def _compiled(statement: Select[Any], dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    return compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params)
