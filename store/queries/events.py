"""The live feed: events after an id, with what each is about."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Event, Message, Report

__all__ = ["events_after", "last_event_id"]


async def last_event_id(session: AsyncSession) -> int:
    """The newest event's id (0: none yet)."""
    return int(await session.scalar(select(func.max(Event.id))) or 0)


async def events_after(session: AsyncSession, after: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` events with ids above ``after``, oldest first, each with its subject."""
    events = (await session.execute(
        select(Event.id, Event.kind, Event.ref_id, Event.created_at)
        .where(Event.id > after).order_by(Event.id).limit(limit)
    )).mappings().all()  # fmt: skip
    messages = await _by_id(
        session, Message, [e["ref_id"] for e in events if e["kind"] == "message"]
    )
    reports = await _by_id(session, Report, [e["ref_id"] for e in events if e["kind"] == "report"])
    subjects = {"message": messages, "report": reports}
    return [
        {**event, "subject": subjects.get(event["kind"], {}).get(event["ref_id"])}
        for event in events
    ]


async def _by_id(
    session: AsyncSession, model: type[Message] | type[Report], ids: list[int]
) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    if model is Message:
        columns: tuple[Any, ...] = (
            Message.id, Message.direction, Message.created_at, Message.sender, Message.recipient,
            Message.text, Message.status, Message.error_codes, Message.form_code,
            Message.observer_code,
        )  # fmt: skip
    else:
        columns = (
            Report.id, Report.message_id, Report.form_code, Report.observer_code,
            Report.station_code, Report.answers, Report.quarantined, Report.created_at,
        )  # fmt: skip
    rows = await session.execute(select(*columns).where(model.id.in_(ids)))
    return {row["id"]: dict(row) for row in rows.mappings()}
