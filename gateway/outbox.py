"""Sending what the outbox holds: replies and broadcasts, with retries and backoff.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` (several gateways may share a database) and the
lock is held while the modem sends, so a row is sent by one gateway at a time. A crash after the
modem accepted an SMS but before the commit leaves the row pending, and it is sent again: replies
are delivered at least once, never lost (a repeated "OK" costs an observer nothing; a missing one
makes them resend the whole report).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
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
_BATCH = 10  # rows per call, each in its own transaction


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
        """Claim one due row, send it, commit: a crash repeats at most this one SMS."""
        async with self.db.transaction() as session:
            rows = await repository.claim_due_outbox(session, list(ready), 1)
            for row in rows:
                modem = ready.get(row.modem_imsi or "") or next(iter(ready.values()))
                await self._send(row, modem)
                if row.status != "pending":
                    entry = _log_entry(row)
                    session.add(entry)
                    await session.flush()
                    await repository.record_events(session, [("message", entry.id)])
        return bool(rows)

    async def _send(self, row: OutboxMessage, modem: ModemBackend) -> None:
        row.attempts += 1
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                references = await modem.send_sms(row.recipient, row.text)
        except (CMSError, ModemError, TimeoutError, PDUError) as exc:
            self._failed(row, exc)
            return
        row.status = "sent"
        row.message_references = references
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
