"""The Reports page: accepted submissions per form, and their quarantine."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.console.session import Viewer
from store.queries import reports
from store.queries.filters import Page, ReportFilter

__all__ = ["PAGE_ROWS", "report_view", "reports_view"]

PAGE_ROWS = 50


def _visible(report: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """A report as this viewer may see it: without ``read:pii`` no comment (free text) and no
    quarantine reasons or actors."""
    if viewer.sees_pii:
        return report
    history = [
        {**change, "reason": None, "actor": None} for change in report.get("quarantine_history", [])
    ]
    return {**report, "comment": None, "quarantine_reason": None, "quarantine_history": history}


async def reports_view(
    session: AsyncSession, viewer: Viewer, where: ReportFilter, before: int | None
) -> dict[str, Any]:
    """One page of reports, newest first."""
    rows = await reports.list_reports(session, where, Page(PAGE_ROWS, before))
    items = [_visible(row, viewer) for row in rows[:PAGE_ROWS]]
    older = items[-1]["id"] if len(rows) > PAGE_ROWS else None
    return {"items": items, "older": older, "where": where}


async def report_view(
    session: AsyncSession, viewer: Viewer, report_id: int
) -> dict[str, Any] | None:
    """One report with its quarantine history; None if unknown."""
    found = await reports.get_report(session, report_id)
    return None if found is None else {"report": _visible(found, viewer)}
