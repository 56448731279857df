"""What the estimates read: the frame of stations, and each observer's checklist of a form as
it counts (``checklists.counted``: the answers of the reports not in quarantine)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from store.models import Checklist, Station
from store.queries.rows import Reads

__all__ = ["FrameRow", "ObserverChecklist", "checklists", "frame"]

FrameRow = tuple[str, str, str, int | None, bool]
"""A station: code, stratum (the region unless set), region, registered voters, in sample."""

ObserverChecklist = tuple[str, str, dict[str, Any], datetime]
"""An observer's checklist: observer code, station code, answers that count, last changed."""


async def frame(session: Reads) -> list[FrameRow]:
    """Every station of the roster, sampled or not."""
    stratum = func.coalesce(func.nullif(Station.stratum, ""), Station.region)
    rows = await session.execute(
        select(Station.code, stratum, Station.region, Station.registered_voters, Station.in_sample)
    )
    return [(code, s, region, voters, sampled) for code, s, region, voters, sampled in rows]


async def checklists(session: Reads, form: str) -> list[ObserverChecklist]:
    """Each observer's checklist of ``form`` with a station, answers of quarantined reports
    left out; an observer whose every report is quarantined has none."""
    rows = await session.execute(
        select(
            Checklist.observer_code, Checklist.station_code, Checklist.counted,
            Checklist.updated_at,
        ).where(Checklist.form_code == form, Checklist.station_code.is_not(None))
    )  # fmt: skip
    return [
        (observer, station, counted, updated)
        for observer, station, counted, updated in rows
        if counted
    ]
