"""Accepted submissions, their quarantine, and checklists (the merged records)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Checklist,
    ChecklistChange,
    QuarantineChange,
    Report,
    Station,
)
from store.queries.filters import (
    Page,
    ReportFilter,
    Shape,
    narrowed,
    newest_first,
    page_values,
    values,
)
from store.queries.rows import Reads, fetch_dicts

__all__ = [
    "checklist_versions",
    "get_report",
    "list_checklists",
    "list_reports",
    "record_quarantine",
    "recount_checklist",
    "report_for_update",
    "stream_checklists",
    "stream_reports",
]

# The tables' Core columns, not the ORM attributes, for the read-only pages: a select of
# them skips the ORM's compile and row steps, about a sixth of the CPU of a computed
# /reports page (bench/api.py).
_REPORT = Report.__table__.c
_STATION = Station.__table__.c
_REGION = func.coalesce(Station.region, "").label("region")
_CORE_REGION = func.coalesce(_STATION.region, "").label("region")
_REPORT_COLUMNS = (
    _REPORT.id, _REPORT.message_id, _REPORT.form_code, _REPORT.observer_code,
    _REPORT.station_code, _CORE_REGION, _REPORT.answers, _REPORT.comment, _REPORT.verified,
    _REPORT.quarantined, _REPORT.quarantine_reason, _REPORT.created_at,
)  # fmt: skip


@functools.cache
def _reports(shape: Shape) -> Select[Any]:
    statement = select(*_REPORT_COLUMNS).outerjoin(
        Station.__table__, _STATION.code == _REPORT.station_code
    )
    equal = {
        "form": _REPORT.form_code, "observer": _REPORT.observer_code,
        "station": _REPORT.station_code, "region": _STATION.region,
        "quarantined": _REPORT.quarantined,
    }  # fmt: skip
    return narrowed(statement, equal, _REPORT.created_at, shape)


@functools.cache
def _report_page(shape: Shape) -> Select[Any]:
    return newest_first(_reports(shape), _REPORT.id, shape)


async def list_reports(session: Reads, where: ReportFilter, page: Page) -> list[dict[str, Any]]:
    """One page of reports, newest first (``page.limit + 1`` rows: one more tells of more)."""
    given = values(where) | page_values(page)
    return await fetch_dicts(session, _report_page(frozenset(given)), given)


async def stream_reports(
    session: AsyncSession, where: ReportFilter
) -> AsyncIterator[dict[str, Any]]:
    """Every matching report, newest first, from a server-side cursor."""
    given = values(where)
    statement = _reports(frozenset(given)).order_by(_REPORT.id.desc())
    result = await session.stream(statement.execution_options(yield_per=1000), given)
    async for row in result.mappings():
        yield dict(row)


async def get_report(session: AsyncSession, report_id: int) -> dict[str, Any] | None:
    """One report with its quarantine history."""
    statement = _reports(frozenset()).where(_REPORT.id == report_id)
    row = (await session.execute(statement)).mappings().first()
    if row is None:
        return None
    history = await session.execute(
        select(QuarantineChange.quarantined, QuarantineChange.reason, QuarantineChange.actor,
               QuarantineChange.changed_at)
        .where(QuarantineChange.report_id == report_id).order_by(QuarantineChange.id)
    )  # fmt: skip
    return {**row, "quarantine_history": [dict(change) for change in history.mappings()]}


async def report_for_update(session: AsyncSession, report_id: int) -> tuple[Report, str] | None:
    """A report, locked for this transaction, with its station's region."""
    statement = (
        select(Report, _REGION)
        .outerjoin(Station, Station.code == Report.station_code)
        .where(Report.id == report_id)
        .with_for_update(of=Report)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1])


def record_quarantine(
    session: AsyncSession, report: Report, quarantined: bool, reason: str, actor: str
) -> None:
    """Set a report's quarantine and log who did it and why (written at the next flush)."""
    report.quarantined = quarantined
    report.quarantine_reason = reason if quarantined else None
    session.add(
        QuarantineChange(report_id=report.id, quarantined=quarantined, reason=reason, actor=actor)
    )


_RECOUNT = text("""
UPDATE checklists AS checklist SET counted = coalesce((
    SELECT jsonb_object_agg(latest.key, latest.value) FROM (
        SELECT DISTINCT ON (answer.key) answer.key, answer.value
        FROM reports AS report, jsonb_each(report.answers) AS answer
        WHERE report.observer_code = checklist.observer_code
          AND report.form_code = checklist.form_code AND NOT report.quarantined
        ORDER BY answer.key, report.id DESC
    ) AS latest
), '{}'::jsonb)
WHERE checklist.observer_code = :observer AND checklist.form_code = :form
""")


async def recount_checklist(session: AsyncSession, observer: str, form: str) -> None:
    """Merge again the answers that count (reports not in quarantine) of one observer's
    checklist; after a quarantine or release of one of its reports (flushed first)."""
    await session.execute(_RECOUNT, {"observer": observer, "form": form})


# -- checklists ---------------------------------------------------------------------------------

_CHECKLIST_COLUMNS = (
    Checklist.id, Checklist.observer_code, Checklist.form_code, Checklist.station_code,
    _REGION, Checklist.answers, Checklist.version, Checklist.updated_at,
)  # fmt: skip


@functools.cache
def _checklists(shape: Shape) -> Select[Any]:
    statement = select(*_CHECKLIST_COLUMNS).outerjoin(
        Station, Station.code == Checklist.station_code
    )
    equal = {
        "form": Checklist.form_code, "observer": Checklist.observer_code,
        "station": Checklist.station_code, "region": Station.region,
    }  # fmt: skip
    return narrowed(statement, equal, Checklist.updated_at, shape)


@functools.cache
def _checklist_page(shape: Shape) -> Select[Any]:
    return newest_first(_checklists(shape), Checklist.id, shape)


async def list_checklists(session: Reads, where: ReportFilter, page: Page) -> list[dict[str, Any]]:
    """One page of current checklists, newest first."""
    given = values(where) | page_values(page)
    return await fetch_dicts(session, _checklist_page(frozenset(given)), given)


async def stream_checklists(
    session: AsyncSession, where: ReportFilter
) -> AsyncIterator[dict[str, Any]]:
    """Every matching checklist, from a server-side cursor."""
    given = values(where)
    statement = _checklists(frozenset(given)).order_by(Checklist.id.desc())
    result = await session.stream(statement.execution_options(yield_per=1000), given)
    async for row in result.mappings():
        yield dict(row)


async def checklist_versions(
    session: AsyncSession, checklist_id: int
) -> list[dict[str, Any]] | None:
    """Every version of a checklist: which message changed which tags, from what to what."""
    found = await session.scalar(select(Checklist.id).where(Checklist.id == checklist_id))
    if found is None:
        return None
    changes = await session.execute(
        select(ChecklistChange.version, ChecklistChange.message_id, ChecklistChange.changed_at,
               ChecklistChange.tag, ChecklistChange.old_value, ChecklistChange.new_value)
        .where(ChecklistChange.checklist_id == checklist_id)
        .order_by(ChecklistChange.version, ChecklistChange.tag)
    )  # fmt: skip
    versions: dict[int, dict[str, Any]] = {}
    for change in changes.mappings():
        version = versions.setdefault(change["version"], {
            "version": change["version"], "message_id": change["message_id"],
            "changed_at": change["changed_at"], "changes": [],
        })  # fmt: skip
        version["changes"].append(
            {"tag": change["tag"], "old": change["old_value"], "new": change["new_value"]}
        )
    return list(versions.values())
