"""``/events``: new messages and reports as Server-Sent Events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic_core import to_json

from api.auth import Principal, Scope
from api.deps import ApiState, StateDep, require
from api.errors import ERROR_RESPONSES
from api.responses import mask_phone
from store.queries import events

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["events"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(require(Scope.READ))]
HEARTBEAT_S = 15.0  # a comment line keeps proxies from closing an idle stream
_BATCH = 500


@router.get(
    "/events",
    summary="Live feed of new messages and reports (Server-Sent Events)",
    description="`text/event-stream`. Each event has an `id`, an `event` (`message` or "
    "`report`; a report also comes again when its quarantine changes) and JSON `data`. "
    "Reconnect with the `Last-Event-ID` header (browsers do this themselves) or `after=` to "
    "resume where you left off; without either the stream starts with what happens next. "
    "`follow=false` sends what is there and ends. Phone numbers are masked and texts left "
    "out unless the token has `read:pii`.",
    responses={200: {"content": {"text/event-stream": {}}, "description": "The stream."}},
)
async def stream_events(
    request: Request,
    state: StateDep,
    who: Reader,
    after: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    follow: bool = True,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    start = after
    if start is None and last_event_id is not None and last_event_id.isdigit():
        start = int(last_event_id)
    feed = _feed(request, state, who, start, follow)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(feed, media_type="text/event-stream", headers=headers)


async def _feed(
    request: Request, state: ApiState, who: Principal, start: int | None, follow: bool
) -> AsyncIterator[bytes]:
    cursor = start if start is not None else await _newest(state)
    quiet = 0.0
    yield b"retry: 2000\n\n"
    while True:
        async with state.db.session() as session:
            batch = await events.events_after(session, cursor, _BATCH)
        for event in batch:
            cursor = event["id"]
            yield _frame(event, who)
        if not follow and len(batch) < _BATCH:
            return
        if batch:
            quiet = 0.0
            continue
        if await request.is_disconnected():
            return
        await asyncio.sleep(state.config.events_poll_s)
        quiet += state.config.events_poll_s
        if quiet >= HEARTBEAT_S:
            quiet = 0.0
            yield b": still here\n\n"


async def _newest(state: ApiState) -> int:
    async with state.db.session() as session:
        return await events.last_event_id(session)


def _frame(event: dict[str, Any], who: Principal) -> bytes:
    subject = event["subject"]
    if subject is not None and event["kind"] == "message" and not who.sees_pii:
        subject = {**subject, "sender": mask_phone(subject["sender"]),
                   "recipient": mask_phone(subject["recipient"]), "text": None}  # fmt: skip
    data = to_json({"id": event["id"], "kind": event["kind"], "at": event["created_at"],
                    event["kind"]: subject})  # fmt: skip
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event["id"], event["kind"].encode(), data)
