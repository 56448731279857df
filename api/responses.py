"""Fast JSON, cursors, phone masking and streamed CSV.

List routes build plain dicts in the shape of their documented models and serialise them with
pydantic-core directly: validating each of fifty rows through a model would cost more than the
query. The tests (and the schemathesis run) check that what is sent matches the schema.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Principal
from api.deps import ApiState
from api.errors import InvalidCursor

__all__ = [
    "cached_json",
    "csv_response",
    "decode_cursor",
    "encode_cursor",
    "json_response",
    "mask_phone",
    "page_of",
    "streamed",
]


async def cached_json(
    state: ApiState,
    request: Request,
    who: Principal,
    payload: Callable[[AsyncSession], Awaitable[Any]],
) -> Response:
    """``payload(session)`` as JSON, through the response cache (``api.cache``): the same path
    and query, asked by a caller who may see as much, is answered from memory for a second."""

    async def compute() -> bytes:
        async with state.db.session() as session:
            return to_json(await payload(session))

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


def mask_phone(phone: str) -> str:
    """A phone number with its middle hidden: +996555123456 -> +99655*****56."""
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:6] + "*" * (len(phone) - 8) + phone[-2:]


def csv_response(
    header: Sequence[str], rows: AsyncIterator[Iterable[Any]], filename: str
) -> StreamingResponse:
    """Stream rows as CSV (UTF-8 with a BOM, so spreadsheets read Cyrillic right)."""

    async def body() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        yield "\ufeff".encode() + _drain(buffer)
        count = 0
        async for row in rows:
            writer.writerow(row)
            count += 1
            if count % 500 == 0:
                yield _drain(buffer)
        yield _drain(buffer)

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
