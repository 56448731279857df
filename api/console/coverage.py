"""The Coverage page: per form, the share of sampled stations that reported, and who to ring."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.console.charts import Bar, bar_chart
from api.console.observers import visible_observer
from api.console.session import Viewer
from parser import Deployment, text_in
from store.queries import coverage, reported, roster

__all__ = ["Share", "coverage_view"]

_EVERY_OBSERVER = 1_000_000  # one query for the roster, grouped here by station


@dataclass(frozen=True, slots=True)
class Share:
    """How many of a set of sampled stations have reported."""

    name: str
    stations: int
    reported: int

    @property
    def share(self) -> float:
        """Reported over stations (0 for none)."""
        return self.reported / self.stations if self.stations else 0.0

    @property
    def figure(self) -> str:
        """``12/40 (30%)``."""
        return f"{self.reported}/{self.stations} ({self.share:.0%})"


async def coverage_view(
    session: AsyncSession,
    viewer: Viewer,
    forms: Deployment | None,
    language: str,
    form: str | None,
    region: str | None,
) -> dict[str, Any]:
    """Every form's overall share, the chosen form's shares by region, and its missing
    stations (in ``region``, if given) with their observers."""
    now = datetime.now(UTC)
    codes = [f.code for f in forms.forms] if forms else []
    chosen = form if form in codes else (codes[0] if codes else None)
    counts = await reported.reported_by_form(session, codes, now) if codes else {}
    overall = [
        Share(f"{each.code} · {text_in(each.name, language)}", stations, done)
        for each in (forms.forms if forms else [])
        for done, stations in [counts.get(each.code, (0, 0))]
    ]
    stations = await coverage.coverage(session, chosen, now) if chosen else []
    by_region = _by_region(stations)
    missing = [
        s for s in stations
        if s["first_report_at"] is None and (region is None or s["region"] == region)
    ]  # fmt: skip
    return {
        "at": now, "forms": codes, "form": chosen, "region": region, "overall": overall,
        "regions": sorted(by_region),
        "region_chart": bar_chart([_bar(s) for s in by_region.values()], "by region"),
        "form_chart": bar_chart([_bar(s) for s in overall], "by form"),
        "missing": missing,
        "observers": await _observers(session, viewer, region) if missing else {},
    }  # fmt: skip


def _share(name: str, stations: list[dict[str, Any]]) -> Share:
    reported = sum(1 for s in stations if s["first_report_at"] is not None)
    return Share(name, len(stations), reported)


def _by_region(stations: list[dict[str, Any]]) -> dict[str, Share]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for station in stations:
        grouped[station["region"]].append(station)
    return {name: _share(name, rows) for name, rows in sorted(grouped.items())}


def _bar(share: Share) -> Bar:
    return Bar(share.name, share.share, share.figure)


async def _observers(
    session: AsyncSession, viewer: Viewer, region: str | None
) -> dict[str, list[dict[str, Any]]]:
    """Observers by station; their names and phones only for a viewer who may see them."""
    rows = await roster.list_observers(session, None, region, None, _EVERY_OBSERVER)
    by_station: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_station[row["station_code"] or ""].append(visible_observer(row, viewer))
    return by_station
