"""How many sampled stations have reported each form: the console's row of shares per form."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import String

__all__ = ["reported_by_form"]

# One probe per station and form on ix_reports_coverage (coverage.py's query makes two and
# returns every station): the shares of all forms cost less than one form's full coverage.
_REPORTED = text("""
SELECT form.code, count(station.code) FILTER (WHERE EXISTS (
           SELECT 1 FROM reports
           WHERE form_code = form.code AND station_code = station.code AND NOT quarantined
             AND created_at <= :at
       )) AS reported, count(station.code) AS stations
FROM unnest(:forms) AS form(code)
CROSS JOIN stations AS station
WHERE station.in_sample
GROUP BY form.code
""").bindparams(bindparam("forms", type_=ARRAY(String())))


async def reported_by_form(
    session: AsyncSession, forms: list[str], at: datetime
) -> dict[str, tuple[int, int]]:
    """Per form code: (sampled stations with a report up to ``at``, sampled stations)."""
    rows = await session.execute(_REPORTED, {"forms": forms, "at": at})
    return {code: (int(reported), int(stations)) for code, reported, stations in rows.all()}
