"""The SMS log, in and out."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, bindparam, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import InboundPartRow, Message, Observer, Report
from store.queries.filters import (
    MessageFilter,
    Page,
    Shape,
    narrowed,
    newest_first,
    page_values,
    values,
)
from store.queries.rows import Reads, fetch_dicts

__all__ = ["get_message", "list_messages", "stream_messages"]

_COLUMNS = (
    Message.id, Message.direction, Message.created_at, Message.modem_imsi, Message.sender,
    Message.recipient, Message.text, Message.parts, Message.status, Message.error_codes,
    Message.form_code, Message.observer_code,
)  # fmt: skip


@functools.cache
def _filtered(shape: Shape) -> Select[*tuple[Any, ...]]:
    equal = {
        "direction": Message.direction, "status": Message.status,
        "form": Message.form_code, "observer": Message.observer_code,
    }  # fmt: skip
    statement = narrowed(select(*_COLUMNS), equal, Message.created_at, shape)
    if "error_code" in shape:
        code = bindparam("error_code", type_=Text)
        statement = statement.where(code == func.any(Message.error_codes))
    if "sender" in shape:
        sender = bindparam("sender", type_=Text)
        statement = statement.where((Message.sender == sender) | (Message.recipient == sender))
    if "station" in shape:
        at_station = select(Observer.code).where(Observer.station_code == bindparam("station"))
        statement = statement.where(Message.observer_code.in_(at_station))
    if "q" in shape:
        # The literal 'simple' (not a bound parameter) lets PostgreSQL use the GIN index.
        vector: ColumnElement[Any] = literal_column("to_tsvector('simple', messages.text)")
        query = func.plainto_tsquery(literal_column("'simple'"), bindparam("q", type_=Text))
        statement = statement.where(vector.op("@@")(query))
    return statement


@functools.cache
def _page(shape: Shape) -> Select[*tuple[Any, ...]]:
    return newest_first(_filtered(shape), Message.id, shape)


def _given(where: MessageFilter) -> dict[str, Any]:
    given = values(where)
    if not given.get("q", True):
        del given["q"]  # an empty search is none
    return given


async def list_messages(session: Reads, where: MessageFilter, page: Page) -> list[dict[str, Any]]:
    """One page of messages, newest first; ``page.limit + 1`` rows tell whether more follow."""
    given = _given(where) | page_values(page)
    return await fetch_dicts(session, _page(frozenset(given)), given)


async def stream_messages(
    session: AsyncSession, where: MessageFilter
) -> AsyncIterator[dict[str, Any]]:
    """Every matching message, newest first, read from a server-side cursor."""
    given = _given(where)
    statement = _filtered(frozenset(given)).order_by(Message.id.desc())
    result = await session.stream(statement.execution_options(yield_per=1000), given)
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
