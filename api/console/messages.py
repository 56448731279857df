"""The Messages page: the SMS feed, and one message with its PDUs, parse and report."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.console.session import Viewer
from api.visibility import message_detail_seen, message_seen
from store.queries import messages
from store.queries.filters import MessageFilter, Page

__all__ = ["PAGE_ROWS", "Segment", "highlighted", "message_view", "messages_view"]

PAGE_ROWS = 50


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of a message's text; ``codes`` are the parse errors it is part of."""

    text: str
    codes: tuple[str, ...] = ()


async def messages_view(
    session: AsyncSession, viewer: Viewer, where: MessageFilter, before: int | None
) -> dict[str, Any]:
    """One page of the feed, newest first, as this viewer may see it."""
    rows = await messages.list_messages(session, where, Page(PAGE_ROWS, before))
    items = [message_seen(row, viewer.principal) for row in rows[:PAGE_ROWS]]
    older = items[-1]["id"] if len(rows) > PAGE_ROWS else None
    return {"items": items, "older": older, "where": where}


async def message_view(
    session: AsyncSession, viewer: Viewer, message_id: int
) -> dict[str, Any] | None:
    """One message with its parts, parse (errors highlighted) and report; None if unknown."""
    found = await messages.get_message(session, message_id)
    if found is None:
        return None
    found = message_detail_seen(found, viewer.principal)
    parse = found["parse"] or {}
    return {
        "message": found,
        "parse": parse,
        "segments": highlighted(found["text"] or "", parse.get("errors", [])),
    }


def highlighted(text: str, errors: list[dict[str, Any]]) -> list[Segment]:
    """``text`` cut where error spans begin and end, each piece with the errors covering it."""
    cuts = {0, len(text)}
    for error in errors:
        start, end = error["span"]
        cuts |= {min(max(start, 0), len(text)), min(max(end, 0), len(text))}
    edges = sorted(cuts)
    segments = []
    for start, end in itertools.pairwise(edges):
        codes = tuple(
            e["code"] for e in errors if e["span"][0] <= start and end <= max(e["span"][1], start)
            and e["span"][0] < e["span"][1]
        )  # fmt: skip
        segments.append(Segment(text[start:end], codes))
    return segments
