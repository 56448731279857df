"""The one place that owns the database engine and its sessions.

With a database URL (``SHAILOO_DATABASE_URL`` or ``DATABASE_URL``) shailoo connects to that
server; without one it starts an embedded PostgreSQL (the ``pgserver`` package) in its data
directory and stops it on exit, so that a fresh machine needs nothing installed. One left
running by a killed process is adopted (``store.embedded``).

Two pools: ``engine`` for the units of work (``transaction``) and sessions that must hold a
transaction, and ``read_engine`` for the API's computed pages (``read``): autocommit, no test
of a pooled connection before use, and generic plans for its prepared statements (PostgreSQL
would otherwise plan a page's query anew on every execution: a third of its CPU for it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic_core import from_json
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.embedded import forget_the_dead
from store.errors import DatabaseAwayError, connection_lost, translated

__all__ = ["Database", "application_name", "async_url", "embedded_server_url"]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
POOL_SIZE = 10  # connections kept open per process
POOL_OVERFLOW = 20  # more, opened under load and closed after
# The read pool (``Database.read``: the API's computed pages) holds a connection for each request
# a worker has at the database at once; past that, a request waits for one. No overflow: opening
# and closing a connection per request past the pool cost a third of the throughput of
# /reports?station=... (bench/api.py). An API worker keeps these 20 beside the main pool's 10.
READ_POOL_SIZE = 20
READ_POOL_OVERFLOW = 0
CONNECT_TIMEOUT_S = 15.0  # a server that drops packets is unreachable, not slow


def async_url(url: str) -> str:
    """``url`` with the asyncpg driver, whatever driver (or none) it named."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"shailoo needs PostgreSQL, not {parsed.get_backend_name()!r}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def application_name() -> str:
    """How this process shows in ``pg_stat_activity``: ``shailoo run (pid 812 on obs-1)``,
    so that ``db restore`` can name a running gateway (and a DBA sees who is connected)."""
    words = [word for word in sys.argv[1:] if not word.startswith("-")][:1]
    command = " ".join(["shailoo", *words])
    return f"{command} (pid {os.getpid()} on {socket.gethostname()})"[:63]  # NAMEDATALEN


def embedded_server_url(pgdata: Path) -> tuple[str, Any]:
    """Start (or join) the embedded PostgreSQL in ``pgdata``; its URL and its server handle."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    # pgserver's own inter-process lock over its list of users (a class attribute there).
    with pgserver.postgres_server.PostgresServer._lock:
        forget_the_dead(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return str(server.get_uri()), server


def _connection_lost(exc: DatabaseAwayError) -> bool:
    # A pool with no connection free in time has no code either, but nothing of it broke.
    return not isinstance(exc.__cause__, PoolTimeout) and connection_lost(exc.sqlstate)


async def _quietly(step: Awaitable[None], what: str) -> None:
    """Finish a session or a read even when its connection died: the error that ended the
    block (or the next use of the pool) is what tells the caller; a second one here would
    hide it."""
    try:
        await step
    except Exception as exc:  # noqa: BLE001 - see the docstring
        _LOGGER.debug("could not %s a session: %s", what, exc)


class Database:
    """Engine, session factory and, when embedded, the server; ``close`` releases them."""

    def __init__(self, url: str, server: Any = None) -> None:
        self.url = async_url(url)
        self.server = server
        # An API process may have dozens of requests in flight; waiting for one of five
        # connections made their p99 twice what the queries take (bench/api.py).
        self.engine = self._engine(POOL_SIZE, POOL_OVERFLOW, pool_pre_ping=True)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads without a transaction (no BEGIN and ROLLBACK round trips) and without testing
        # a pooled connection first (``read`` retries instead); its connections open on first use.
        self.read_engine = self._engine(
            READ_POOL_SIZE,
            READ_POOL_OVERFLOW,
            pool_pre_ping=False,
            isolation_level="AUTOCOMMIT",
            settings={"plan_cache_mode": "force_generic_plan"},
        )

    def _engine(
        self, size: int, overflow: int, settings: dict[str, str] | None = None, **options: Any
    ) -> AsyncEngine:
        return create_async_engine(
            self.url, pool_size=size, max_overflow=overflow,
            hide_parameters=True,  # errors and logs never carry the values (phones, texts)
            json_deserializer=from_json,  # pydantic-core's: thrice json.loads' speed
            connect_args={
                "timeout": CONNECT_TIMEOUT_S,
                "server_settings": {"application_name": application_name(), **(settings or {})},
            },
            **options,
        )  # fmt: skip

    @classmethod
    async def open(cls, url: str | None, pgdata: Path) -> Database:
        """Connect to ``url``, or start the embedded server in ``pgdata`` when it is None."""
        if url is not None:
            return cls(url)
        _LOGGER.info("no database URL set: starting the embedded PostgreSQL in %s", pgdata)
        embedded, server = await asyncio.to_thread(embedded_server_url, pgdata)
        return cls(embedded, server)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: a session committed when the block ends, rolled back if it raises.

        A database error leaves it as a ``store.errors.DatabaseError`` (away, refused or bug),
        the cause chained; other exceptions pass unchanged.

        The one way shailoo writes: each pipeline step, API request (``api.deps``) or command
        opens one, and nothing inside it commits.
        """
        async with self.session() as session:
            yield session
            await session.commit()

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """``work(connection)`` on a connection of the read pool, for pages that only read.

        A connection, not a session: a session's set-up and close were a seventh of a computed
        page's API CPU (measured side by side: README, "Benchmarks"), and nothing here needs
        its unit of work. No transaction:
        each statement sees the data as of its own start. No round trip to test a pooled
        connection before use (a tenth of a computed page's cost): a connection the server
        dropped (it restarted since) shows when ``work`` uses it, and then the pool is emptied
        and ``work`` runs once more, on a new connection. Errors are translated as in
        ``transaction``. Only a lost connection is retried: a server out of connections or a
        cancelled statement (SQLSTATE 53xxx, 57014), or a pool out of them in time, is busy,
        and emptying the pool or asking twice would only make it worse.
        """
        try:
            return await self._read(work)
        except DatabaseAwayError as exc:
            if not _connection_lost(exc):
                raise
            _LOGGER.info("reading again on a new connection: %s", exc)
            await self.read_engine.dispose()
        return await self._read(work)

    async def _read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        connection = self.read_engine.connect()
        try:
            await connection.start()
            return await work(connection)
        except Exception as exc:
            error = translated(exc)
            if error is None or error is exc:
                raise
            raise error from exc
        finally:
            # Back to the pool (autocommit: nothing to roll back); a dead one is let go quietly.
            await _quietly(connection.close(), "close")

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session for reading (or a caller that must commit at its own moments); rolled
        back if the block raises (database errors translated as in ``transaction``), closed
        after it."""
        return self._session()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        session = self.sessions()
        try:
            yield session
        except Exception as exc:
            await _quietly(session.rollback(), "roll back")
            error = translated(exc)
            if error is None or error is exc:
                raise
            raise error from exc
        except BaseException:  # cancelled: roll back, and let the cancellation go on
            await _quietly(session.rollback(), "roll back")
            raise
        finally:
            await _quietly(session.close(), "close")

    async def close(self) -> None:
        """Close every connection (the embedded server stops when its last user exits)."""
        await self.engine.dispose()
        await self.read_engine.dispose()
