"""``/events``: new messages and reports as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic_core import to_json

from api.auth import Principal, Scope
from api.deps import ApiState, StateDep, require
from api.errors import ERROR_RESPONSES, InvalidCursor, described
from api.feed import BATCH, Subscriber
from api.limits import SlottedStream
from api.visibility import message_seen, report_seen

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["events"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(require(Scope.READ))]
HEARTBEAT_S = 15.0  # a comment line keeps proxies from closing an idle stream
_MAX_ID = 2**63 - 1


@router.get(
    "/events",
    summary="Live feed of new messages and reports (Server-Sent Events)",
    description="`text/event-stream`. Each event has an `id`, an `event` (`message` or "
    "`report`; a report also comes again when its quarantine changes) and JSON `data`. "
    "Reconnect with the `Last-Event-ID` header (browsers do this themselves) or `after=` to "
    "resume where you left off; without either the stream starts with what happens next. "
    "`follow=false` sends what is there and ends. Phone numbers are masked and texts, "
    "comments and SIM identities left out unless the token has `read:pii`. Open streams are "
    "limited per token (429) and in all (503); a stream ends within seconds of its token "
    "being revoked.",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "The stream."},
        400: described("INVALID_CURSOR: a Last-Event-ID that is not an event id."),
        429: described("RATE_LIMITED: this token has its streams open already."),
        503: described("BUSY: every stream slot is taken; or DATABASE_UNAVAILABLE."),
    },
)
async def stream_events(
    request: Request,
    state: StateDep,
    who: Reader,
    after: Annotated[int | None, Query(ge=0, le=_MAX_ID)] = None,
    follow: bool = True,
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
) -> SlottedStream:
    start = after if after is not None else _resumed_from(last_event_id)
    slot = state.streams.take(who.token_id)
    try:
        if follow:
            feed = _follow(request, state, await state.feed.subscribe(who, start))
        else:
            feed = _page(state, who, start if start is not None else await state.feed.newest())
    except BaseException:
        slot.release()
        raise
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    stream = SlottedStream(feed, media_type="text/event-stream", headers=headers)
    stream.slot = slot
    return stream


def _resumed_from(last_event_id: str | None) -> int | None:
    """The id in a ``Last-Event-ID`` header; ``InvalidCursor`` unless it is one we send."""
    if last_event_id is None:
        return None
    if not last_event_id.isascii() or not last_event_id.isdigit() or \
            int(last_event_id) > _MAX_ID:  # fmt: skip
        raise InvalidCursor("Last-Event-ID is not an event id this API sent; reconnect without")
    return int(last_event_id)


async def _page(state: ApiState, who: Principal, cursor: int) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    while True:
        batch = await state.feed.read_after(cursor)
        for event in batch:
            cursor = event["id"]
            yield _frame(event, who)
        if len(batch) < BATCH:
            return


async def _follow(
    request: Request, state: ApiState, subscriber: Subscriber
) -> AsyncIterator[bytes]:
    try:
        yield b"retry: 2000\n\n"
        while not subscriber.ended:
            batch = await subscriber.next_events(HEARTBEAT_S)
            for event in batch:
                yield _frame(event, subscriber.who)
            if not batch and not subscriber.ended:
                if await request.is_disconnected():
                    return
                yield b": still here\n\n"
    finally:
        state.feed.unsubscribe(subscriber)


def _frame(event: dict[str, Any], who: Principal) -> bytes:
    subject = event["subject"]
    if subject is not None:
        subject = message_seen(subject, who) if event["kind"] == "message" else \
            report_seen(subject, who)  # fmt: skip
    data = to_json({"id": event["id"], "kind": event["kind"], "at": event["created_at"],
                    event["kind"]: subject})  # fmt: skip
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event["id"], event["kind"].encode(), data)
