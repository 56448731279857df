"""Modems, counts for ``/metrics``, and the database check for ``/ready``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, func, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Message, Modem
from store.queries.rows import as_dicts

__all__ = ["error_counts", "list_modems", "message_counts", "ping", "set_aside_count"]


async def list_modems(session: AsyncSession) -> list[dict[str, Any]]:
    """Every modem a gateway has reported, with its last status, newest seen first."""
    statement = select(
        Modem.imsi, Modem.imei, Modem.device, Modem.label, Modem.last_status, Modem.last_seen_at,
        func.extract("epoch", func.now() - Modem.last_seen_at).label("age_s"),
    ).order_by(Modem.last_seen_at.desc())  # fmt: skip
    return as_dicts(await session.execute(statement))


async def message_counts(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(direction, status, count) over the whole SMS log."""
    statement = select(Message.direction, Message.status, func.count()).group_by(
        Message.direction, Message.status
    )
    return [(d, s, int(n)) for d, s, n in (await session.execute(statement)).all()]


async def error_counts(session: AsyncSession) -> dict[str, int]:
    """Parse error codes over the rejected incoming messages."""
    code = func.unnest(Message.error_codes).label("code")
    statement = select(code, func.count()).where(Message.direction == "in").group_by(code)
    return {name: int(count) for name, count in (await session.execute(statement)).all()}


async def ping(session: AsyncSession) -> None:
    """Raise unless the database answers."""
    await session.execute(text("SELECT 1"))


async def set_aside_count(session: AsyncSession) -> int:
    """Spooled parts the database refused, waiting in gateways' ``spool-rejected.jsonl`` for
    ``shailoo spool retry``: each gateway's file counted once (its newest report), though
    every one of its modems reports it."""
    spool_file = Modem.last_status["spool_file"].astext
    newest = (
        select(Modem.last_status["set_aside"].astext.cast(Integer).label("count"))
        .where(spool_file.is_not(None))
        .ext(distinct_on(spool_file))
        .order_by(spool_file, Modem.last_seen_at.desc())
        .subquery()
    )
    total = await session.scalar(select(func.coalesce(func.sum(newest.c.count), 0)))
    return int(total or 0)
