"""The Reports page: accepted submissions per form, and their quarantine."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.console.session import Viewer
from api.visibility import report_seen
from store.queries import reports
from store.queries.filters import Page, ReportFilter

__all__ = ["PAGE_ROWS", "report_view", "reports_view"]

PAGE_ROWS = 50


def _visible(report: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    return report_seen(report, viewer.principal)


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
