"""``/messages``: the SMS log, in and out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import Principal, Scope
from api.deps import SessionDep, StateDep, require
from api.errors import ERROR_RESPONSES, EXPORT_LIMITED, Forbidden, NotFound, described
from api.responses import (
    cached_json,
    csv_response,
    decode_cursor,
    json_response,
    page_of,
    streamed,
)
from api.schemas.common import (
    Cursor,
    ErrorFilter,
    Format,
    FormFilter,
    Limit,
    ObserverFilter,
    SearchFilter,
    SenderFilter,
    Since,
    StationFilter,
    StatusFilter,
    Until,
)
from api.schemas.messages import MessageDetail, MessagePage
from api.visibility import message_detail_seen, message_seen
from store.queries import messages
from store.queries.filters import MessageFilter, Page

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["messages"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(require(Scope.READ))]

CSV_COLUMNS = (
    "id", "direction", "created_at", "modem_imsi", "sender", "recipient", "text", "parts",
    "status", "error_codes", "form_code", "observer_code",
)  # fmt: skip


@router.get(
    "/messages",
    response_model=MessagePage,
    summary="The SMS log",
    description="Every SMS in and out, newest first, with keyset pagination: pass "
    "`next_cursor` back as `cursor`; pages stay stable while new messages arrive. "
    "`sender` and `q` (full-text search of the texts) need scope `read:pii`. "
    "`format=csv` streams every matching message instead.",
    responses={200: {"content": {"text/csv": {}}}, 429: EXPORT_LIMITED},
)
async def list_messages(
    request: Request,
    state: StateDep,
    who: Reader,
    direction: Literal["in", "out"] | None = None,
    status: StatusFilter = None,
    error_code: ErrorFilter = None,
    form: FormFilter = None,
    observer: ObserverFilter = None,
    station: StationFilter = None,
    sender: SenderFilter = None,
    since: Since = None,
    until: Until = None,
    q: SearchFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    format: Format = "json",
) -> Response:
    if (sender is not None or q is not None) and not who.sees_pii:
        raise Forbidden("filtering by sender or text needs a token with scope 'read:pii'")
    where = MessageFilter(direction, status, error_code, form, observer, station, sender,
                          since, until, q)  # fmt: skip
    if format == "csv":
        slot = state.exports.take(who.token_id)
        rows = _csv_rows(streamed(state, lambda read: messages.stream_messages(read, where)), who)
        return csv_response(CSV_COLUMNS, rows, "messages.csv", slot)
    page = Page(limit, decode_cursor(cursor))

    async def payload(read: AsyncConnection) -> dict[str, Any]:
        items, next_cursor = page_of(await messages.list_messages(read, where, page), limit)
        return {"items": [message_seen(m, who) for m in items], "next_cursor": next_cursor}

    return await cached_json(state, request, who, payload)


@router.get(
    "/messages/{message_id}",
    response_model=MessageDetail,
    summary="One message, with its parts, parse and report",
    responses={404: described("NOT_FOUND: no such message.")},
)
async def get_message(
    session: SessionDep, who: Reader, message_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
) -> Response:
    found = await messages.get_message(session, message_id)
    if found is None:
        raise NotFound(f"no message {message_id}")
    return json_response(message_detail_seen(found, who))


async def _csv_rows(
    rows: AsyncIterator[dict[str, Any]], who: Principal
) -> AsyncIterator[list[Any]]:
    async for row in rows:
        message = message_seen(row, who)
        message["error_codes"] = ";".join(message["error_codes"])
        yield [message[column] for column in CSV_COLUMNS]
