"""The SMS log, in and out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import InboundPartRow, Message, Observer, Report
from store.queries.filters import MessageFilter, Page, narrowed, newest_first
from store.queries.rows import as_dicts

__all__ = ["get_message", "list_messages", "stream_messages"]

_COLUMNS = (
    Message.id, Message.direction, Message.created_at, Message.modem_imsi, Message.sender,
    Message.recipient, Message.text, Message.parts, Message.status, Message.error_codes,
    Message.form_code, Message.observer_code,
)  # fmt: skip


def _filtered(where: MessageFilter) -> Select[*tuple[Any, ...]]:
    equal = {
        Message.direction: where.direction, Message.status: where.status,
        Message.form_code: where.form, Message.observer_code: where.observer,
    }  # fmt: skip
    statement = narrowed(select(*_COLUMNS), equal, Message.created_at, where.since, where.until)
    if where.error_code is not None:
        statement = statement.where(literal(where.error_code) == func.any(Message.error_codes))
    if where.sender is not None:
        statement = statement.where((Message.sender == where.sender) |
                                    (Message.recipient == where.sender))  # fmt: skip
    if where.station is not None:
        at_station = select(Observer.code).where(Observer.station_code == where.station)
        statement = statement.where(Message.observer_code.in_(at_station))
    if where.q:
        # The literal 'simple' (not a bound parameter) lets PostgreSQL use the GIN index.
        vector: ColumnElement[Any] = literal_column("to_tsvector('simple', messages.text)")
        query = func.plainto_tsquery(literal_column("'simple'"), where.q)
        statement = statement.where(vector.op("@@")(query))
    return statement


async def list_messages(
    session: AsyncSession, where: MessageFilter, page: Page
) -> list[dict[str, Any]]:
    """One page of messages, newest first; ``page.limit + 1`` rows tell whether more follow."""
    statement = newest_first(_filtered(where), Message.id, page)
    return as_dicts(await session.execute(statement))


async def stream_messages(
    session: AsyncSession, where: MessageFilter
) -> AsyncIterator[dict[str, Any]]:
    """Every matching message, newest first, read from a server-side cursor."""
    statement = _filtered(where).order_by(Message.id.desc())
    result = await session.stream(statement.execution_options(yield_per=1000))
    async for row in result.mappings():
        yield dict(row)


async def get_message(session: AsyncSession, message_id: int) -> dict[str, Any] | None:
    """One message with its parts, its parse and the report it produced."""
    row = (
        await session.execute(
            select(*_COLUMNS, Message.parse).where(Message.id == message_id)
        )
    ).mappings().first()  # fmt: skip
    if row is None:
        return None
    parts = await session.execute(
        select(InboundPartRow.id, InboundPartRow.pdu_hex, InboundPartRow.kind,
               InboundPartRow.coding, InboundPartRow.smsc_timestamp, InboundPartRow.concat_ref,
               InboundPartRow.concat_part, InboundPartRow.concat_total,
               InboundPartRow.decode_error, InboundPartRow.received_at)
        .where(InboundPartRow.message_id == message_id)
        .order_by(InboundPartRow.concat_part.nulls_first(), InboundPartRow.id)
    )  # fmt: skip
    report = await session.scalar(select(Report.id).where(Report.message_id == message_id))
    return {**row, "parts_detail": [dict(p) for p in parts.mappings()], "report_id": report}
