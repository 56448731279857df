"""The outbox as administrators see it, and broadcasts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Broadcast, OutboxMessage
from store.queries.filters import Page, newest_first, page_values
from store.queries.rows import as_dicts

__all__ = [
    "add_broadcast",
    "broadcasts_since",
    "list_outbox",
    "lock_broadcasts",
    "outbox_depth",
]

# pg_advisory_xact_lock's key for "who may add a broadcast now" (any constant of our own).
_BROADCAST_LOCK = 0x5348_4C42_5243  # "SHLBRC"


async def list_outbox(
    session: AsyncSession, status: str | None, page: Page
) -> list[dict[str, Any]]:
    """Outbox rows, newest first."""
    statement = (
        select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.text,
               OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error,
               OutboxMessage.modem_imsi, OutboxMessage.in_reply_to, OutboxMessage.broadcast_id,
               OutboxMessage.created_at, OutboxMessage.next_attempt_at, OutboxMessage.sent_at)
    )  # fmt: skip
    given = page_values(page)
    if status is not None:
        statement = statement.where(OutboxMessage.status == status)
    statement = newest_first(statement, OutboxMessage.id, frozenset(given))
    return as_dicts(await session.execute(statement, given))


async def outbox_depth(session: AsyncSession) -> dict[str, int]:
    """Outbox rows by status."""
    statement = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return dict((await session.execute(statement)).all())


async def lock_broadcasts(session: AsyncSession) -> None:
    """Hold, until this transaction ends, the right to count and add broadcasts: without it,
    concurrent requests each count the same few and all add theirs past the limit."""
    await session.execute(select(func.pg_advisory_xact_lock(_BROADCAST_LOCK)))


async def broadcasts_since(session: AsyncSession, since: datetime) -> int:
    """How many broadcasts were made since ``since``."""
    statement = select(func.count()).select_from(Broadcast).where(Broadcast.created_at >= since)
    return int(await session.scalar(statement) or 0)


async def add_broadcast(
    session: AsyncSession,
    text: str,
    audience: dict[str, Any],
    recipients: list[str],
    actor: str,
) -> Broadcast:
    """Queue one SMS per recipient under a new broadcast (flushed: it has its id)."""
    broadcast = Broadcast(text=text, audience=audience, recipients=len(recipients), actor=actor)
    session.add(broadcast)
    await session.flush()
    session.add_all(
        OutboxMessage(
            recipient=phone, text=text, status="pending", attempts=0, message_references=[],
            broadcast_id=broadcast.id,
        )
        for phone in recipients
    )  # fmt: skip
    return broadcast
