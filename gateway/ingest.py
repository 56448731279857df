"""The modem's hand-up: commit the raw part (or spool it) before the SIM copy is deleted.

``Ingest.store`` inserts the part with ``ON CONFLICT DO NOTHING`` on (modem IMSI, PDU hash) and
commits; only then does it return, and only then does the driver delete the message from the SIM.
If PostgreSQL is unreachable the part goes to the fsync'ed spool instead, so the SIM never fills
during an outage; ``replay_spool`` moves spooled parts into the database once it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from gateway.spool import Spool
from modem.records import InboundPart
from store import repository
from store.db import Database

__all__ = ["DATABASE_DOWN", "Ingest", "part_record"]

_LOGGER = logging.getLogger(__name__)

# What an unreachable or restarting PostgreSQL raises, directly or through SQLAlchemy.
DATABASE_DOWN = (OSError, TimeoutError, OperationalError, InterfaceError, DBAPIError)
WRITE_TIMEOUT_S = 5.0


def part_record(modem_imsi: str, part: InboundPart) -> dict[str, Any]:
    """The row (and spool record) for ``part``."""
    concat = part.concat
    return {
        "modem_imsi": modem_imsi,
        "pdu_hex": part.pdu_hex,
        "kind": part.kind,
        "sender": _storable(part.sender),
        "smsc_timestamp": part.timestamp,
        "text": _storable(part.text),
        "coding": part.coding,
        "concat_ref": concat.ref if concat else None,
        "concat_part": concat.part if concat else None,
        "concat_total": concat.total if concat else None,
        "decode_error": part.error,
    }


def _storable(text: str) -> str:
    # PostgreSQL text cannot hold NUL; the raw PDU (kept as hex) still has every byte.
    return text.replace("\x00", "\ufffd")


class Ingest:
    """Stores handed-up parts; ``stored`` is called after each, to wake the pipeline."""

    def __init__(
        self, db: Database, spool: Spool, stored: Callable[[], None] = lambda: None
    ) -> None:
        self.db = db
        self.spool = spool
        self.stored = stored

    async def store(self, modem_imsi: str, parts: list[InboundPart]) -> None:
        """Commit ``parts`` in one transaction (or spool them durably); return only when it is
        safe to delete them from the SIM."""
        records = [part_record(modem_imsi, part) for part in parts]
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S), self.db.transaction() as session:
                await repository.insert_parts(session, records)
        except DATABASE_DOWN as exc:
            await asyncio.to_thread(self.spool.append, records)
            _LOGGER.warning(
                "database unreachable (%s): %d part(s) spooled, %d waiting in %s",
                type(exc).__name__,
                len(records),
                self.spool.size(),
                self.spool.path,
            )
        self.stored()

    async def replay_spool(self) -> int:
        """Move spooled parts into the database; how many were replayed (0 if it is down)."""
        records = await asyncio.to_thread(self.spool.records)
        if not records:
            return 0
        try:
            await self._insert(records)
        except DATABASE_DOWN as exc:
            if _connection_lost(exc):
                return 0
            await self._insert_one_by_one(records)  # a record the database refuses
        await asyncio.to_thread(self.spool.clear, len(records))
        _LOGGER.info("replayed %d spooled part(s) into the database", len(records))
        self.stored()
        return len(records)

    async def _insert(self, records: list[dict[str, Any]]) -> None:
        async with asyncio.timeout(WRITE_TIMEOUT_S * 4), self.db.transaction() as session:
            await repository.insert_parts(session, records)

    async def _insert_one_by_one(self, records: list[dict[str, Any]]) -> None:
        """Each record alone; one the database refuses is set aside (kept), not retried forever."""
        for record in records:
            try:
                await self._insert([record])
            except DATABASE_DOWN as exc:
                if _connection_lost(exc):
                    raise
                _LOGGER.error(
                    "the database refuses a spooled part (%s); kept in %s",
                    exc,
                    self.spool.rejected_path,
                )
                await asyncio.to_thread(self.spool.set_aside, record, str(exc))


def _connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unreachable, not that it refused the data."""
    if isinstance(exc, OSError | TimeoutError | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
