"""The one place that owns the database engine and its sessions.

With a database URL (``SHAILOO_DATABASE_URL`` or ``DATABASE_URL``) shailoo connects to that
server; without one it starts an embedded PostgreSQL (the ``pgserver`` package) in its data
directory and stops it on exit, so that a fresh machine needs nothing installed.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store.errors import translated

__all__ = ["Database", "async_url", "embedded_server_url"]

_LOGGER = logging.getLogger(__name__)
POOL_SIZE = 10  # connections kept open per process
POOL_OVERFLOW = 20  # more, opened under load and closed after


def async_url(url: str) -> str:
    """``url`` with the asyncpg driver, whatever driver (or none) it named."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"shailoo needs PostgreSQL, not {parsed.get_backend_name()!r}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def embedded_server_url(pgdata: Path) -> tuple[str, Any]:
    """Start (or join) the embedded PostgreSQL in ``pgdata``; its URL and its server handle."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return str(server.get_uri()), server


async def _quietly(step: Awaitable[None], what: str) -> None:
    """Finish a session even when its connection died: the error that ended the block (or
    the next use of the pool) is what tells the caller; a second one here would hide it."""
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
        self.engine: AsyncEngine = create_async_engine(
            self.url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
            hide_parameters=True,  # errors and logs never carry the values (phones, texts)
        )  # fmt: skip
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

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

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reading (or a caller that must commit at its own moments); rolled
        back if the block raises (database errors translated as in ``transaction``), closed
        after it."""
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
