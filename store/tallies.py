"""Running tallies: the ``tally_cells`` a report adds to, and rebuilding them from reports.

A report of form F at a station of region R adds, in its own transaction:

- ``(F, R, "", ANSWERED)``: one more report;
- ``(F, R, tag, ANSWERED)`` for every answered tag: one more answer, and for integer questions
  the value added to ``total`` and folded into ``minimum``/``maximum``;
- ``(F, R, tag, option)`` for each chosen option of a choice or multi question.

Quarantining a report takes its cells away again; minima and maxima of that form and region are
then recomputed from the reports, since a running minimum cannot be undone. Keys are written in
sorted order so that two gateways adding to the same cells never deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import TallyCell

__all__ = [
    "CellKey",
    "Cells",
    "add_cells",
    "cells_of",
    "rebuild_tallies",
    "remove_cells",
]

ANSWERED = TallyCell.ANSWERED
CellKey = tuple[str, str, str, int]
"""(form, region, tag, option)."""


@dataclass(slots=True)
class _Sums:
    reports: int = 0
    total: int = 0
    minimum: int | None = None
    maximum: int | None = None

    def add(self, value: int | None) -> None:
        self.reports += 1
        if value is None:
            return
        self.total += value
        self.minimum = value if self.minimum is None else min(self.minimum, value)
        self.maximum = value if self.maximum is None else max(self.maximum, value)


class Cells:
    """Cells being added up for one batch of reports."""

    def __init__(self) -> None:
        self.sums: dict[CellKey, _Sums] = {}

    def add_report(
        self, form: str, region: str, answers: Mapping[str, Any], integer_tags: set[str]
    ) -> None:
        """Count one report's answers; ``integer_tags`` are the form's integer questions."""
        for key, value in cells_of(form, region, answers, integer_tags):
            self.sums.setdefault(key, _Sums()).add(value)

    def __bool__(self) -> bool:
        return bool(self.sums)


def cells_of(
    form: str, region: str, answers: Mapping[str, Any], integer_tags: set[str]
) -> Iterable[tuple[CellKey, int | None]]:
    """The cells one report adds to, each with its integer value (None: just a count)."""
    yield (form, region, "", ANSWERED), None
    for tag, value in answers.items():
        if tag in integer_tags:
            yield (form, region, tag, ANSWERED), int(value)
            continue
        yield (form, region, tag, ANSWERED), None
        for option in value if isinstance(value, list) else [value]:
            yield (form, region, tag, int(option)), None


async def add_cells(session: AsyncSession, cells: Cells) -> None:
    """Add a batch's cells to the running tallies (one statement)."""
    if not cells:
        return
    values = [
        {"form_code": key[0], "region": key[1], "tag": key[2], "option": key[3],
         "reports": sums.reports, "total": sums.total,
         "minimum": sums.minimum, "maximum": sums.maximum}
        for key, sums in sorted(cells.sums.items())
    ]  # fmt: skip
    statement = insert(TallyCell).values(values)
    current = TallyCell.__table__.c
    await session.execute(statement.on_conflict_do_update(
        index_elements=[current.form_code, current.region, current.tag, current.option],
        set_={
            "reports": current.reports + statement.excluded.reports,
            "total": current.total + statement.excluded.total,
            "minimum": func.least(current.minimum, statement.excluded.minimum),
            "maximum": func.greatest(current.maximum, statement.excluded.maximum),
        },
    ))  # fmt: skip


async def remove_cells(
    session: AsyncSession,
    form: str,
    region: str,
    answers: Mapping[str, Any],
    integer_tags: set[str],
) -> None:
    """Take one report out of the tallies (it was quarantined)."""
    for (form_code, cell_region, tag, option), value in sorted(
        cells_of(form, region, answers, integer_tags), key=lambda cell: cell[0]
    ):
        await session.execute(
            text(
                "UPDATE tally_cells SET reports = reports - 1, total = total - :value "
                "WHERE form_code = :form AND region = :region AND tag = :tag "
                "AND option = :option"
            ),
            {"value": value or 0, "form": form_code, "region": cell_region, "tag": tag,
             "option": option},
        )  # fmt: skip
    await session.execute(
        _RECOMPUTE_EXTREMES, {"form": form, "region": region, "tags": sorted(integer_tags)}
    )


_RECOMPUTE_EXTREMES = text("""
UPDATE tally_cells AS cell SET (minimum, maximum) = (
    SELECT min((report.answers ->> cell.tag)::bigint), max((report.answers ->> cell.tag)::bigint)
    FROM reports AS report LEFT JOIN stations AS station ON station.code = report.station_code
    WHERE report.form_code = cell.form_code AND NOT report.quarantined
      AND coalesce(station.region, '') = cell.region
)
WHERE cell.form_code = :form AND cell.region = :region AND cell.option = -1
  AND cell.tag = ANY(CAST(:tags AS text[]))
""")


# Fills an empty ``tally_cells`` from every unquarantined report; takes ``:integers``, the
# integer questions as "FORM:TAG" strings.
_REBUILD_TALLIES = text("""
WITH r AS (
    SELECT report.form_code, coalesce(station.region, '') AS region, report.answers
    FROM reports AS report LEFT JOIN stations AS station ON station.code = report.station_code
    WHERE NOT report.quarantined
),
kv AS (
    SELECT r.form_code, r.region, answer.key AS tag, answer.value,
           (r.form_code || ':' || answer.key) = ANY(CAST(:integers AS text[])) AS is_integer
    FROM r, jsonb_each(r.answers) AS answer
)
INSERT INTO tally_cells (form_code, region, tag, option, reports, total, minimum, maximum)
SELECT form_code, region, '', -1, count(*), 0, NULL, NULL FROM r GROUP BY 1, 2
UNION ALL
SELECT form_code, region, tag, -1, count(*),
       coalesce(sum((value #>> '{}')::bigint) FILTER (WHERE is_integer), 0),
       min((value #>> '{}')::bigint) FILTER (WHERE is_integer),
       max((value #>> '{}')::bigint) FILTER (WHERE is_integer)
FROM kv GROUP BY 1, 2, 3
UNION ALL
SELECT form_code, region, tag, (chosen #>> '{}')::int, count(*), 0, NULL, NULL
FROM kv, jsonb_array_elements(
    CASE WHEN jsonb_typeof(value) = 'array' THEN value ELSE jsonb_build_array(value) END
) AS chosen
WHERE NOT is_integer
GROUP BY 1, 2, 3, 4
""")


async def rebuild_tallies(session: AsyncSession, integer_tags: Mapping[str, Sequence[str]]) -> None:
    """Recompute every tally from the reports; ``integer_tags`` by form code."""
    keys = [f"{form}:{tag}" for form, tags in integer_tags.items() for tag in tags]
    await session.execute(delete(TallyCell))
    # PostgreSQL guesses 100 answers per report from jsonb_each and sorts millions of rows to
    # disk; hashing them is a third faster (bench/api.py: 22 s to 15 s for 1,000,000 reports).
    await session.execute(text("SET LOCAL enable_sort = off"))
    await session.execute(_REBUILD_TALLIES, {"integers": keys})
