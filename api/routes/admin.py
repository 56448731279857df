"""``/outbox`` (broadcasts), ``/tokens`` and ``/modems``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response

from api.auth import Principal, Scope, make_token, token_hash
from api.deps import SessionDep, StateDep, require
from api.errors import ERROR_RESPONSES, InvalidRequest, NotFound, RateLimited, described
from api.responses import decode_cursor, json_response, page_of
from api.schemas.admin import (
    BroadcastIn,
    BroadcastOut,
    ModemOut,
    OutboxPage,
    TokenCreated,
    TokenIn,
    TokenOut,
)
from api.schemas.common import Cursor, Limit
from api.visibility import modem_names, modem_seen
from store.queries import outbox, roster, status, tokens
from store.queries.filters import Page

__all__ = ["modem_views", "router"]

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(require(Scope.READ))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]


@router.post(
    "/outbox", response_model=BroadcastOut, status_code=202, tags=["outbox"],
    summary="Send an SMS to observers",
    description="Queues one SMS per chosen observer (to their first phone number); the "
    "gateway sends them after the replies it owes, and each sent SMS appears in "
    "`/messages` (direction `out`). Limited to `api.broadcasts_per_hour` per hour.",
    responses={429: described("RATE_LIMITED: too many broadcasts this hour.")},
)  # fmt: skip
async def broadcast(
    session: SessionDep, who: Admin, state: StateDep, body: BroadcastIn
) -> Response:
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    limit = state.config.broadcasts_per_hour
    await outbox.lock_broadcasts(session)  # count-then-insert as one step; see there
    if await outbox.broadcasts_since(session, hour_ago) >= limit:
        raise RateLimited(f"at most {limit} broadcasts an hour", retry_after_s=300.0)
    chosen = await roster.observer_phones(
        session, region=body.region, station=body.station, codes=body.observers
    )
    if not chosen:
        raise InvalidRequest("no observer with a phone number matches that audience")
    audience = body.model_dump(exclude={"text"}, exclude_none=True, exclude_defaults=True)
    made = await outbox.add_broadcast(
        session, body.text, audience, [phone for _, phone in chosen], who.name
    )
    return json_response({"id": made.id, "recipients": made.recipients, "audience": audience}, 202)


@router.get(
    "/outbox", response_model=OutboxPage, tags=["outbox"], summary="SMS queued, sent or failed",
)  # fmt: skip
async def list_outbox(
    session: SessionDep,
    who: Admin,
    status: Literal["pending", "sent", "failed"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    rows = await outbox.list_outbox(session, status, Page(limit, decode_cursor(cursor)))
    items, next_cursor = page_of(rows, limit)
    return json_response({"items": items, "next_cursor": next_cursor})


@router.get("/tokens", response_model=list[TokenOut], tags=["tokens"], summary="API tokens")
async def list_tokens(session: SessionDep, who: Admin) -> Response:
    return json_response(await tokens.list_tokens(session))


@router.post(
    "/tokens", response_model=TokenCreated, status_code=201, tags=["tokens"],
    summary="Create a token", description="The token is in this response only; keep it.",
)  # fmt: skip
async def create_token(session: SessionDep, who: Admin, body: TokenIn) -> Response:
    token, prefix = make_token()
    row = await tokens.add_token(session, body.name, body.scope, prefix, token_hash(token))
    return json_response({
        "id": row.id, "name": row.name, "scope": row.scope, "prefix": row.prefix,
        "created_at": row.created_at, "last_used_at": None, "revoked_at": None, "token": token,
    }, 201)  # fmt: skip


@router.delete(
    "/tokens/{token_id}", status_code=204, tags=["tokens"], summary="Revoke a token",
    responses={404: described("NOT_FOUND: no live token with this id.")},
)  # fmt: skip
async def revoke_token(
    session: SessionDep, who: Admin, state: StateDep,
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:  # fmt: skip
    if not await tokens.revoke_token_id(session, token_id):
        raise NotFound(f"no live token {token_id}")
    state.tokens.forget()
    state.feed.end_streams_of(token_id)
    return Response(status_code=204)


@router.get(
    "/modems", response_model=list[ModemOut], tags=["modems"], summary="Modems and their health",
    description="As each gateway last reported them (every few seconds while running).",
)  # fmt: skip
async def list_modems(session: SessionDep, who: Reader, state: StateDep) -> Response:
    rows = await status.list_modems(session)
    views = modem_views(rows, state.config.modem_stale_s)
    return json_response([modem_seen(view, who) for view in views])


def modem_views(rows: list[dict[str, Any]], stale_s: float) -> list[dict[str, Any]]:
    """Modems rows as ``ModemOut`` (everything: pass each through ``modem_seen``)."""
    names = modem_names(rows)
    return [_modem_view(row, names[row["imsi"]], stale_s) for row in rows]


def _modem_view(row: dict[str, Any], name: str, stale_s: float) -> dict[str, Any]:
    last: dict[str, Any] = row["last_status"] or {}
    storages = last.get("storages")
    age = float(row["age_s"] or 0.0)
    return {
        "name": name, "imsi": row["imsi"], "imei": row["imei"], "device": row["device"],
        "label": row["label"],
        "state": last.get("state"), "up": last.get("state") == "ready" and age <= stale_s,
        "signal_dbm": last.get("signal_dbm"), "registration": last.get("registration"),
        "operator": last.get("operator"),
        "storage": {s["name"]: {"used": s["used"], "total": s["total"]} for s in storages}
        if isinstance(storages, list) else None,
        "spool": last.get("spool"), "last_error": last.get("last_error"),
        "last_seen_at": row["last_seen_at"], "seconds_since_seen": round(age, 1),
    }  # fmt: skip
