"""Fast JSON, cursors and streamed CSV.

List routes build plain dicts in the shape of their documented models and serialise them with
pydantic-core directly: validating each of fifty rows through a model would cost more than the
query. The tests (and the schemathesis run) check that what is sent matches the schema.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.auth import Principal
from api.deps import ApiState
from api.errors import InvalidCursor
from api.limits import Slot, SlottedStream

__all__ = [
    "cached_json",
    "csv_response",
    "decode_cursor",
    "defused",
    "encode_cursor",
    "json_response",
    "page_of",
    "streamed",
]


async def cached_json(
    state: ApiState,
    request: Request,
    who: Principal,
    payload: Callable[[AsyncConnection], Awaitable[Any]],
) -> Response:
    """``payload(session)`` as JSON, through the response cache (``api.cache``): the same path
    and query, asked by a caller who may see as much, is answered from memory for a second.
    ``payload`` only reads, on a connection of the read pool (``Database.read``)."""

    async def compute() -> bytes:
        return to_json(await state.db.read(payload))

    key = (request.url.path, request.url.query, who.sees_pii)
    return Response(await state.cache.get(key, compute), media_type="application/json")


async def streamed(
    state: ApiState, rows: Callable[[AsyncSession], AsyncIterator[dict[str, Any]]]
) -> AsyncIterator[dict[str, Any]]:
    """``rows(session)`` in a session of its own, open while a streamed response is sent."""
    async with state.db.session() as session:
        async for row in rows(session):
            yield row


def json_response(payload: Any, status: int = 200) -> Response:
    """``payload`` (dicts, lists, datetimes...) as a JSON response."""
    return Response(to_json(payload), status_code=status, media_type="application/json")


def encode_cursor(value: int | str) -> str:
    """An opaque cursor for the row after which the next page starts."""
    return base64.urlsafe_b64encode(f"v1:{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: type[int] | type[str] = int) -> Any:
    """The value inside a cursor from ``encode_cursor``; ``InvalidCursor`` for anything else."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, value = raw.partition(":")
        if version != "v1" or not value:
            raise ValueError(raw)
        return kind(value) if kind is str else _bounded(int(value))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this API handed out; start again") from exc


def _bounded(value: int) -> int:
    if not 0 < value < 2**63:
        raise ValueError(value)
    return value


def page_of(
    rows: list[dict[str, Any]], limit: int, key: str = "id"
) -> tuple[list[dict[str, Any]], str | None]:
    """The page's rows and the cursor of the next page (None at the end)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1][key])


def csv_response(
    header: Sequence[str], rows: AsyncIterator[Iterable[Any]], filename: str, slot: Slot
) -> StreamingResponse:
    """Stream rows as CSV (UTF-8 with a BOM, so spreadsheets read Cyrillic right), holding
    ``slot`` (of ``ApiState.exports``, taken before the query) until the download ends."""

    async def body() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([defused(cell) for cell in header])
        yield "\ufeff".encode() + _drain(buffer)
        count = 0
        async for row in rows:
            writer.writerow([defused(cell) for cell in row])
            count += 1
            if count % 500 == 0:
                yield _drain(buffer)
        yield _drain(buffer)

    response = SlottedStream(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    response.slot = slot
    return response


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-][0-9]+")


def defused(cell: Any) -> Any:
    """A CSV cell that a spreadsheet will not run: text starting like a formula gets a leading
    ``'``; a sign followed only by digits (a number, a phone number) is data and stays."""
    formula = isinstance(cell, str) and cell.startswith(_FORMULA_STARTS)
    return "'" + cell if formula and not _SIGNED_NUMBER.fullmatch(cell) else cell


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
