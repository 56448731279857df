"""The modem's hand-up: commit the raw part (or spool it) before the SIM copy is deleted.

``Ingest.store`` inserts the part with ``ON CONFLICT DO NOTHING`` on (modem IMSI, PDU hash) and
commits; only then does it return, and only then does the driver delete the message from the SIM.
If that fails for any reason the part goes to the fsync'ed spool instead, so the SIM never fills
during an outage; ``replay_spool`` moves spooled parts into the database once it is back.

How a failure is read (``store.errors``): a database that is away (unreachable, restarting,
answering 57P03 "starting up") keeps every record waiting in the spool; only a record whose data
the database refuses (SQLSTATE classes 22, 23) is set aside, to ``spool-rejected.jsonl``, where
``retry_set_aside`` (``shailoo spool retry``) tries it again. Any other error is a bug: logged
with its traceback, and the records wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.spool import Spool
from modem.records import InboundPart
from store import repository
from store.db import Database
from store.errors import DatabaseAwayError, DatabaseError, DataRefusedError

__all__ = ["DATABASE_AWAY", "Ingest", "Replay", "Retried", "part_record"]

_LOGGER = logging.getLogger(__name__)

# The database will be back: a timeout around a unit of work is raised outside it, untranslated.
DATABASE_AWAY = (DatabaseAwayError, TimeoutError)
WRITE_TIMEOUT_S = 5.0
REPLAY_TIMEOUT_S = WRITE_TIMEOUT_S * 4
_STORED = ("stored", "already stored")


@dataclass(frozen=True, slots=True)
class Replay:
    """What one spool replay did: records now in the database, set aside, still waiting."""

    stored: int = 0
    set_aside: int = 0
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class Retried:
    """What retrying one set-aside record did: ``stored`` (new), ``already stored``,
    ``refused`` (its data, again), ``failed`` (another error) or ``waiting`` (the database is
    away); all but the first two stay set aside."""

    record: dict[str, Any]
    outcome: str
    reason: str = ""


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
            await self._insert(records, WRITE_TIMEOUT_S)
        except (DatabaseError, TimeoutError) as exc:
            # Whatever went wrong, the SIM copy may go only once the parts are on disk.
            await asyncio.to_thread(self.spool.append, records)
            waiting = await asyncio.to_thread(self.spool.size)
            if isinstance(exc, DATABASE_AWAY):
                _LOGGER.warning(
                    "database away (%s): %d part(s) spooled, %d waiting in %s",
                    exc, len(records), waiting, self.spool.path,
                )  # fmt: skip
            else:
                _LOGGER.error(
                    "storing %d part(s) failed; spooled, %d waiting in %s",
                    len(records), waiting, self.spool.path, exc_info=exc,
                )  # fmt: skip
        self.stored()

    async def replay_spool(self) -> Replay:
        """Move spooled parts into the database: all at once, else one by one (setting aside
        only what the database refuses); nothing while it is away."""
        records = await asyncio.to_thread(self.spool.records)
        if not records:
            return Replay()
        try:
            await self._insert(records, REPLAY_TIMEOUT_S)
            set_aside, done = 0, len(records)
        except DATABASE_AWAY as exc:
            _LOGGER.info("spool replay: database away (%s); %d part(s) wait", exc, len(records))
            return Replay(waiting=len(records))
        except DatabaseError:
            set_aside, done = await self._insert_one_by_one(records)
        await asyncio.to_thread(self.spool.clear, done)
        result = Replay(done - set_aside, set_aside, await asyncio.to_thread(self.spool.size))
        _LOGGER.info(
            "spool replay: %d part(s) stored, %d set aside in %s, %d still waiting",
            result.stored, result.set_aside, self.spool.rejected_path, result.waiting,
        )  # fmt: skip
        self.stored()
        return result

    async def retry_set_aside(self) -> list[Retried]:
        """Try each set-aside record again (idempotent as always); keep what still fails."""
        entries = await asyncio.to_thread(self.spool.set_aside_entries)
        results = [await self._retry(entry) for entry in entries]
        kept = [
            # Still waiting: the database never looked at it, so the old reason stands.
            {**entry, "reason": result.reason} if result.outcome != "waiting" else entry
            for entry, result in zip(entries, results, strict=True)
            if result.outcome not in _STORED
        ]
        await asyncio.to_thread(self.spool.settle_set_aside, len(entries), kept)
        if len(kept) < len(entries):
            self.stored()
        return results

    async def _retry(self, entry: dict[str, Any]) -> Retried:
        record = entry["record"]
        try:
            new = await self._insert([record], REPLAY_TIMEOUT_S)
        except DATABASE_AWAY as exc:
            return Retried(record, "waiting", str(exc))
        except DataRefusedError as exc:
            return Retried(record, "refused", str(exc))
        except DatabaseError as exc:
            _LOGGER.error("retrying a set-aside part failed", exc_info=exc)
            return Retried(record, "failed", str(exc))
        return Retried(record, "stored" if new else "already stored")

    async def _insert(self, records: list[dict[str, Any]], timeout_s: float) -> int:
        async with asyncio.timeout(timeout_s), self.db.transaction() as session:
            return await repository.insert_parts(session, records)

    async def _insert_one_by_one(self, records: list[dict[str, Any]]) -> tuple[int, int]:
        """Each record alone, in order: one the database refuses is set aside (kept), not
        retried forever. Stops at the first that must wait (away, or a bug): how many were set
        aside, and how many are done (stored or set aside) from the start."""
        set_aside = 0
        for done, record in enumerate(records):
            try:
                await self._insert([record], REPLAY_TIMEOUT_S)
            except DataRefusedError as exc:
                _LOGGER.error("the database refuses a spooled part (%s); set aside", exc)
                await asyncio.to_thread(self.spool.set_aside, record, str(exc))
                set_aside += 1
            except (DatabaseError, TimeoutError) as exc:
                _LOGGER.warning(
                    "spool replay stops: %s", exc, exc_info=not isinstance(exc, DATABASE_AWAY)
                )
                return set_aside, done
        return set_aside, len(records)
