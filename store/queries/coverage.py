"""Coverage: which sampled stations have reported a form, and when, as of a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

from store.queries.rows import Reads, as_dicts

__all__ = ["coverage"]

# Two index probes per station (ix_reports_coverage): cheap for 500 stations whatever the
# number of reports, and "as of" any time for free.
_COVERAGE = text("""
SELECT station.code AS station, station.name, station.region, station.district,
       first.created_at AS first_report_at, last.created_at AS last_report_at
FROM stations AS station
LEFT JOIN LATERAL (
    SELECT created_at FROM reports
    WHERE form_code = :form AND station_code = station.code AND NOT quarantined
      AND created_at <= :at
    ORDER BY created_at LIMIT 1
) AS first ON true
LEFT JOIN LATERAL (
    SELECT created_at FROM reports
    WHERE form_code = :form AND station_code = station.code AND NOT quarantined
      AND created_at <= :at
    ORDER BY created_at DESC LIMIT 1
) AS last ON true
WHERE station.in_sample
ORDER BY station.code
""")


async def coverage(session: Reads, form: str, at: datetime) -> list[dict[str, Any]]:
    """Every sampled station with its first and last report of ``form`` up to ``at``."""
    rows = await session.execute(_COVERAGE, {"form": form, "at": at})
    return as_dicts(rows)
