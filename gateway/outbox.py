"""Sending what the outbox holds: replies and broadcasts, with retries and backoff.

A row is claimed with ``FOR UPDATE SKIP LOCKED`` (several gateways may share a database), its
attempt counted and a lease (``next_attempt_at``, longer than any send) set, and that is
committed *before* the modem sends: whatever happens next (an unexpected exception, a database
that is gone when the outcome is written, a crash), the attempt is counted and the row waits for
its lease or backoff, so an SMS is never sent more than ``attempts`` times. The outcome is
committed in a second transaction. A crash after the modem accepted an SMS but before that
commit sends it again later: replies are delivered at least once, never lost (a repeated "OK"
costs an observer nothing; a missing one makes them resend the whole report).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from modem.backend import ModemBackend, ModemState
from modem.errors import CMSError, ModemError, PDUError
from store import repository
from store.db import Database
from store.models import Message, OutboxMessage
from store.settings import RepliesConfig

__all__ = ["OutboxSender"]

_LOGGER = logging.getLogger(__name__)
SEND_TIMEOUT_S = 120.0
LEASE_S = SEND_TIMEOUT_S * 2  # a claimed row is not due again before its send has ended
_BATCH = 10  # rows per call, each in its own transactions
_EXPECTED = (CMSError, ModemError, TimeoutError, PDUError)


class OutboxSender:
    """Sends due outbox rows through this gateway's modems."""

    def __init__(
        self, db: Database, modems: Mapping[str, ModemBackend], config: RepliesConfig
    ) -> None:
        self.db = db
        self.modems = modems  # by IMSI
        self.config = config

    async def send_due(self) -> int:
        """Send what is due now; how many rows were attempted."""
        # Reading comes first: replies wait while a modem has messages to read.
        ready = {
            imsi: m
            for imsi, m in self.modems.items()
            if m.state is ModemState.READY and not m.receiving
        }
        attempted = 0
        while ready and attempted < _BATCH and await self._send_next(ready):
            attempted += 1
        return attempted

    async def _send_next(self, ready: Mapping[str, ModemBackend]) -> bool:
        """Claim one due row (its attempt counted), send it, commit what happened."""
        row = await self._claim(list(ready))
        if row is None:
            return False
        modem = ready.get(row.modem_imsi or "") or next(iter(ready.values()))
        outcome = await self._send(row, modem)
        async with self.db.transaction() as session:
            current = await session.get(OutboxMessage, row.id, with_for_update=True)
            if current is None:  # deleted meanwhile: nothing to record
                return True
            self._apply(current, outcome, modem)
            if current.status != "pending":
                entry = _log_entry(current)
                session.add(entry)
                await session.flush()
                await repository.record_events(session, [("message", entry.id)])
        return True

    async def _claim(self, imsis: Sequence[str]) -> OutboxMessage | None:
        async with self.db.transaction() as session:
            rows = await repository.claim_due_outbox(session, imsis, 1)
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = datetime.now(UTC) + timedelta(seconds=LEASE_S)
        return rows[0] if rows else None

    async def _send(self, row: OutboxMessage, modem: ModemBackend) -> list[int] | Exception:
        """The message references, or what went wrong (anything but a cancellation)."""
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                return await modem.send_sms(row.recipient, row.text)
        except _EXPECTED as exc:
            return exc
        except Exception as exc:  # a bug must cost an attempt too, never loop
            _LOGGER.exception("sending SMS %d failed unexpectedly", row.id)
            return exc

    def _apply(
        self, row: OutboxMessage, outcome: list[int] | Exception, modem: ModemBackend
    ) -> None:
        if isinstance(outcome, Exception):
            self._failed(row, outcome)
            return
        row.status = "sent"
        row.message_references = outcome
        row.sent_at = datetime.now(UTC)
        row.modem_imsi = modem.identity.imsi if modem.identity else row.modem_imsi
        row.last_error = None

    def _failed(self, row: OutboxMessage, exc: Exception) -> None:
        row.last_error = str(exc) or type(exc).__name__
        permanent = isinstance(exc, PDUError) or (isinstance(exc, CMSError) and not exc.retryable)
        if permanent or row.attempts >= self.config.attempts:
            row.status = "failed"
            _LOGGER.warning("giving up on SMS %d to %s: %s", row.id, row.recipient, exc)
            return
        delay = min(self.config.retry_first_s * 2 ** (row.attempts - 1), self.config.retry_max_s)
        row.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
        _LOGGER.info(
            "SMS %d to %s failed (%s); retrying in %.0f s", row.id, row.recipient, exc, delay
        )


def _log_entry(row: OutboxMessage) -> Message:
    """The SMS log's line for a sent (or given-up) outbox row."""
    return Message(
        direction="out",
        modem_imsi=row.modem_imsi,
        sender="",
        recipient=row.recipient,
        text=row.text,
        parts=max(1, len(row.message_references)),
        status=row.status,
        error_codes=[] if row.status == "sent" else ["SEND_FAILED"],
        parse={},
    )
