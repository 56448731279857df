"""What the data layer raises::

StoreError                  base
├── ConfigError             settings, forms or database not usable as they are; says what to do
│   ├── DatabaseSetupError  the database cannot be reached or used as configured (URL, server,
│   │                       login, privileges) at start; says which, and the fix
│   ├── SchemaBehindError   the database's schema is older than this shailoo; run the migrations
│   └── FormsOrphanError    a forms file drops forms or questions that stored reports answer
└── DatabaseError           PostgreSQL (or the way to it) failed a unit of work; ``sqlstate``
    ├── DatabaseAwayError   unreachable, starting, stopping, overloaded, timed out (SQLSTATE
    │                       classes 08, 53, 57, or no connection yet): it comes back, so what
    │                       was being written is kept and tried again
    ├── DataRefusedError    the server refused these values (classes 22, 23): the same data
    │                       fails the same way again, so it is set aside, kept, and reported
    └── DatabaseBugError    anything else (a query or schema mistake): logged with a traceback

``translated`` sorts a foreign exception (asyncpg's, SQLAlchemy's, the socket's) into one of
the three, once, at the boundary (``store.db.Database``); everything above reads only these.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import exc as sa

__all__ = [
    "ConfigError",
    "DataRefusedError",
    "DatabaseAwayError",
    "DatabaseBugError",
    "DatabaseError",
    "DatabaseSetupError",
    "FormsOrphanError",
    "SchemaBehindError",
    "StoreError",
    "connection_lost",
    "sqlstate",
    "translated",
]

# Connection exception, insufficient resources, operator intervention (57P03: "the database
# system is starting up", the first seconds after a restart).
_AWAY_CLASSES = ("08", "53", "57")
# Data exception, integrity constraint violation.
_REFUSED_CLASSES = ("22", "23")
# Of the away ones, those that end the connection itself: connection exception; the server shut
# down (57P01 and 57P02) or starting up (57P03). Not 53xxx (no room for one more) nor 57014 (a
# statement cancelled on a connection that goes on).
_LOST_CODES = ("08", "57P0")
_DRIVERS = ("asyncpg", "sqlalchemy")


class StoreError(Exception):
    """Base of the data layer's own errors."""


class ConfigError(StoreError):
    """Something in the settings, forms or database must be fixed first; the message says how."""


class DatabaseSetupError(ConfigError):
    """The database URL is malformed, or its server is unreachable, refuses the login, lacks
    the database or a privilege; the message names the fault and the fix."""


class SchemaBehindError(ConfigError):
    """The database is at an older migration than this shailoo needs."""


class FormsOrphanError(ConfigError):
    """A forms file would leave stored reports without their form or questions."""


class DatabaseError(StoreError):
    """A unit of work failed in PostgreSQL or on the way to it; ``sqlstate`` is its code or ''."""

    def __init__(self, message: str, sqlstate: str = "") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class DatabaseAwayError(DatabaseError):
    """The database cannot be reached or cannot work now; it is expected back."""


class DataRefusedError(DatabaseError):
    """The database refused the values themselves (SQLSTATE class 22 or 23)."""


class DatabaseBugError(DatabaseError):
    """The database rejected what shailoo asked of it for another reason: a mistake to fix."""


def translated(exc: BaseException) -> DatabaseError | None:
    """``exc`` as one of the ``DatabaseError`` kinds, or None if it is not a database error."""
    if isinstance(exc, DatabaseError):
        return exc
    kind = _kind(exc)
    if kind is None:
        return None
    state = sqlstate(exc)
    return kind(f"{type(exc).__name__}: {_first_line(exc)}", state)


def _kind(exc: BaseException) -> type[DatabaseError] | None:
    if isinstance(exc, sa.TimeoutError):
        return DatabaseAwayError  # no pooled connection in time
    if isinstance(exc, OSError | TimeoutError) and _raised_by_driver(exc):
        return DatabaseAwayError  # no connection at all (refused, unreachable), or none in time
    if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
        return _driver_kind(exc)  # raised by asyncpg itself (store.queries.rows.fetch_dicts)
    if isinstance(exc, asyncpg.InternalClientError):
        # The protocol out of step, as when the server ended the connection between two
        # queries ("another operation is in progress"): that connection is done for.
        return DatabaseAwayError
    if not isinstance(exc, sa.DBAPIError):
        return None
    if exc.connection_invalidated:
        return DatabaseAwayError
    # No statement means it failed while connecting; a driver error without a server code
    # (asyncpg's "connection is closed") means the connection broke under it.
    state = sqlstate(exc)
    broken = not state and isinstance(exc, sa.InterfaceError | sa.OperationalError)
    return _by_state(state, broken=exc.statement is None or broken)


def _driver_kind(exc: asyncpg.PostgresError | asyncpg.InterfaceError) -> type[DatabaseError]:
    # As for SQLAlchemy's: a driver error of asyncpg's own (no server code) means it broke.
    return _by_state(sqlstate(exc), broken=isinstance(exc, asyncpg.InterfaceError))


def _by_state(state: str, *, broken: bool) -> type[DatabaseError]:
    # The server's code first; then a connection known to be broken is away, the rest a bug.
    if state.startswith(_AWAY_CLASSES):
        return DatabaseAwayError
    if state.startswith(_REFUSED_CLASSES):
        return DataRefusedError
    return DatabaseAwayError if broken else DatabaseBugError


def _raised_by_driver(exc: BaseException) -> bool:
    # A socket error from connecting is raised bare; one from reading a file in the same block
    # is not the database's: tell them apart by who raised it.
    traceback = exc.__traceback__
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if module.startswith(_DRIVERS):
            return True
        traceback = traceback.tb_next
    return False


def connection_lost(state: str) -> bool:
    """Whether SQLSTATE ``state`` of a failed statement means its connection is gone ('': the
    driver found the socket closed, with no word from the server)."""
    return state == "" or state.startswith(_LOST_CODES)


def sqlstate(exc: BaseException) -> str:
    """PostgreSQL's error code behind a driver error, or ''."""
    candidates = (exc, getattr(exc, "orig", None), getattr(exc, "__cause__", None))
    for candidate in (*candidates, getattr(candidates[1], "__cause__", None)):
        code = getattr(candidate, "sqlstate", None)
        if isinstance(code, str) and code:
            return code
    return ""


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__
