"""What the estimates read: the frame of stations, and each observer's checklist of a form with
the answers of quarantined reports left out.

The ``checklists`` table holds each observer's merged record (later answers win, tag by tag).
Quarantine marks reports, not checklists, so the few observers with a quarantined report of the
form are merged again here from their other reports, in the order they arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Checklist, Report, Station

__all__ = ["FrameRow", "ObserverChecklist", "checklists", "frame"]

FrameRow = tuple[str, str, str, int | None, bool]
"""A station: code, stratum (the region unless set), region, registered voters, in sample."""

ObserverChecklist = tuple[str, str, dict[str, Any], datetime]
"""An observer's checklist: observer code, station code, answers, last changed."""


async def frame(session: AsyncSession) -> list[FrameRow]:
    """Every station of the roster, sampled or not."""
    stratum = func.coalesce(func.nullif(Station.stratum, ""), Station.region)
    rows = await session.execute(
        select(Station.code, stratum, Station.region, Station.registered_voters, Station.in_sample)
    )
    return [(code, s, region, voters, sampled) for code, s, region, voters, sampled in rows]


async def checklists(session: AsyncSession, form: str) -> list[ObserverChecklist]:
    """Each observer's checklist of ``form`` (with a station), quarantined answers left out;
    an observer whose every report is quarantined has none."""
    touched = set(
        await session.scalars(
            select(Report.observer_code)
            .where(Report.form_code == form, Report.quarantined)
            .distinct()
        )
    )
    rows = await session.execute(
        select(
            Checklist.observer_code, Checklist.station_code, Checklist.answers,
            Checklist.updated_at,
        ).where(Checklist.form_code == form, Checklist.station_code.is_not(None))
    )  # fmt: skip
    kept = [
        (observer, station, answers, updated)
        for observer, station, answers, updated in rows
        if observer not in touched
    ]
    return kept + await _merged_again(session, form, sorted(touched))


async def _merged_again(
    session: AsyncSession, form: str, observers: Sequence[str]
) -> list[ObserverChecklist]:
    if not observers:
        return []
    reports = await session.execute(
        select(Report.observer_code, Report.station_code, Report.answers, Report.created_at)
        .where(
            Report.form_code == form,
            Report.observer_code.in_(observers),
            Report.station_code.is_not(None),
            Report.quarantined.is_(False),
        )
        .order_by(Report.id)
    )
    merged: dict[str, ObserverChecklist] = {}
    for observer, station, answers, created in reports:
        before = merged.get(observer)
        earlier = before[2] if before is not None else {}
        merged[observer] = (observer, station, {**earlier, **answers}, created)
    return list(merged.values())
