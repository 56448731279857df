"""The Observers page: look one up by ID, phone or station; their messages; send one SMS."""

from __future__ import annotations

import re
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from api.console.session import Viewer
from api.visibility import message_seen, observer_seen
from store.queries import lookup, messages, roster
from store.queries.filters import MessageFilter, Page

__all__ = ["observers_view", "visible_observer"]

_PHONE: Final = re.compile(r"^\+?\d{6,15}$")
_AT_STATION: Final = 200
_THEIR_MESSAGES: Final = 30


async def observers_view(
    session: AsyncSession, viewer: Viewer, query: str | None
) -> dict[str, Any]:
    """The observers matching ``query`` (an observer ID, a phone number for ``read:pii``, or a
    station code), each with their latest messages in and out."""
    found = await _found(session, viewer, query.strip()) if query else []
    shown_observers = []
    for observer in found:
        rows = await _their_messages(session, viewer, observer)
        shown_observers.append({
            **visible_observer(observer, viewer),
            "messages": [message_seen(row, viewer.principal) for row in rows[:_THEIR_MESSAGES]],
        })  # fmt: skip
    return {"query": query or "", "observers": shown_observers}


def visible_observer(observer: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """An observer as ``api.visibility`` lets this viewer see them; the pages show no phone
    number at all, not even masked, to a viewer without ``read:pii``."""
    return observer_seen(observer, viewer.principal)


async def _their_messages(
    session: AsyncSession, viewer: Viewer, observer: dict[str, Any]
) -> list[dict[str, Any]]:
    """Newest first: with ``read:pii``, everything to and from their phones (replies too);
    otherwise what they sent under their ID."""
    filters = [MessageFilter(sender=phone) for phone in observer["phones"]]
    if not viewer.sees_pii or not filters:
        filters = [MessageFilter(observer=observer["code"])]
    rows: dict[int, dict[str, Any]] = {}
    for where in filters:
        for row in await messages.list_messages(session, where, Page(_THEIR_MESSAGES)):
            rows[row["id"]] = row
    return sorted(rows.values(), key=lambda row: -int(row["id"]))


async def _found(session: AsyncSession, viewer: Viewer, query: str) -> list[dict[str, Any]]:
    if _PHONE.match(query) and viewer.sees_pii:
        by_phone = await lookup.observers_with_phone(session, query)
        if by_phone:
            return by_phone
    observer = await roster.get_observer(session, query)
    if observer is not None:
        return [observer]
    at_station = await roster.list_observers(session, query, None, None, _AT_STATION)
    return at_station[:_AT_STATION]
