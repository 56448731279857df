"""Connecting to the configured database, with each expected failure told in one sentence.

A wrong URL, a server that is not there, a refused login, a missing database or a missing
privilege is the tech person's to fix, not a bug: ``connection_faults`` turns what asyncpg,
SQLAlchemy and the socket layer raise for them into a ``DatabaseSetupError`` naming the fix.
Anything else (a bug) is left alone.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from store.db import Database
from store.errors import DatabaseError, DatabaseSetupError

__all__ = ["connection_faults", "explain", "probe", "where"]

# PostgreSQL's SQLSTATE codes (Appendix A of its manual).
_AUTH_FAILED = "28P01"  # wrong password
_LOGIN_REFUSED = "28000"  # no such role, or pg_hba.conf has no entry for it
_NO_DATABASE = "3D000"
_NO_PRIVILEGE = "42501"
_URL_HELP = "set SHAILOO_DATABASE_URL (or database_url in shailoo.toml)"


def where(url: str | None) -> str:
    """``host:port/database`` of ``url`` (never its password), for messages."""
    if url is None:
        return "the embedded PostgreSQL"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the configured database"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__


def explain(exc: BaseException, url: str | None) -> DatabaseSetupError | None:
    """The sentence for an expected connection failure, or None for anything else."""
    place = where(url)
    for cause in _causes(exc):
        sentence = _sentence(cause, place, url)
        if sentence is not None:
            return DatabaseSetupError(sentence)
    return None


def _sentence(cause: BaseException, place: str, url: str | None) -> str | None:
    user = _user(url)
    state = getattr(cause, "sqlstate", None)  # asyncpg's errors carry PostgreSQL's code
    if state == _AUTH_FAILED:
        return f"authentication failed for user {user} at {place}: check the password in the URL"
    if state == _LOGIN_REFUSED:
        return (
            f"authentication failed at {place} ({cause}): check the user name in the URL, "
            "or let that user in (CREATE ROLE, pg_hba.conf)"
        )
    if state == _NO_DATABASE:
        return f"no such database at {place}: create it (createdb) or fix the name in the URL"
    if state == _NO_PRIVILEGE:
        return (
            f"permission denied at {place} for user {user} ({cause}): "
            "GRANT it the rights it needs, or use the database owner in the URL"
        )
    if isinstance(cause, socket.gaierror):
        return f"unknown host in the database URL ({place}): fix the host name; {_URL_HELP}"
    if isinstance(cause, ConnectionRefusedError):
        return (
            f"nothing answers at {place} (connection refused): start PostgreSQL, "
            f"or fix the host and port; {_URL_HELP}"
        )
    if isinstance(cause, TimeoutError | OSError):
        return (
            f"cannot reach {place} ({cause.__class__.__name__}: {cause}): check that the server "
            f"is up and the host and port are right; {_URL_HELP}"
        )
    return None


def _user(url: str | None) -> str:
    try:
        return repr(make_url(url).username) if url else "'postgres'"
    except ArgumentError:
        return "?"


@contextmanager
def connection_faults(url: str | None) -> Iterator[None]:
    """Raise ``DatabaseSetupError`` for an expected connection failure inside the block."""
    try:
        yield
    except (ValueError, ArgumentError) as exc:  # from parsing the URL
        raise DatabaseSetupError(
            f"the database URL is malformed ({exc}); write it as "
            f"postgresql://USER:PASSWORD@HOST:5432/DATABASE and {_URL_HELP}"
        ) from exc
    except (OSError, TimeoutError, DBAPIError, DatabaseError) as exc:  # raw, or translated
        problem = explain(exc, url)
        if problem is None:
            raise
        raise problem from exc


async def probe(db: Database) -> None:
    """One round trip, so that a bad URL fails here, with its sentence, and not later."""
    async with db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
