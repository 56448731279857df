"""``/reports``: accepted submissions, and their quarantine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import Principal, Scope
from api.deps import FormsDep, SessionDep, StateDep, require
from api.errors import (
    ERROR_RESPONSES,
    EXPORT_LIMITED,
    Conflict,
    InvalidRequest,
    NotFound,
    described,
)
from api.responses import (
    cached_json,
    csv_response,
    decode_cursor,
    json_response,
    page_of,
    streamed,
)
from api.schemas.common import (
    Cursor,
    Format,
    FormFilter,
    Limit,
    ObserverFilter,
    RegionFilter,
    Since,
    StationFilter,
    Until,
)
from api.schemas.reports import QuarantineRequest, ReportDetail, ReportPage
from api.visibility import report_seen
from parser import Deployment
from store import repository
from store.queries import reports
from store.queries.filters import Page, ReportFilter
from store.tallies import Cells, add_cells, remove_cells

__all__ = ["answer_cells", "answer_rows", "router", "tag_columns"]

router = APIRouter(prefix="/api/v1", tags=["reports"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(require(Scope.READ))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]
ReportId = Annotated[int, Path(ge=1, le=2**63 - 1)]

_COLUMNS = (
    "id", "message_id", "created_at", "form_code", "observer_code", "station_code", "region",
    "verified", "quarantined", "quarantine_reason", "comment",
)  # fmt: skip


@router.get(
    "/reports",
    response_model=ReportPage,
    summary="Accepted submissions",
    description="Newest first, keyset-paginated (`cursor`). `format=csv` streams every "
    "matching report with one column per question of `form` (required for CSV): choice "
    "answers are option codes, multi answers codes joined by ';', blank when unanswered.",
    responses={200: {"content": {"text/csv": {}}}, 429: EXPORT_LIMITED},
)
async def list_reports(
    request: Request,
    state: StateDep,
    who: Reader,
    forms: FormsDep,
    form: FormFilter = None,
    observer: ObserverFilter = None,
    station: StationFilter = None,
    region: RegionFilter = None,
    since: Since = None,
    until: Until = None,
    quarantined: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
    format: Format = "json",
) -> Response:
    where = ReportFilter(form, observer, station, region, since, until, quarantined)
    if format == "csv":
        tags = tag_columns(forms, form)
        slot = state.exports.take(who.token_id)
        found = streamed(state, lambda read: reports.stream_reports(read, where))
        rows = answer_rows(_seen_rows(found, who), _COLUMNS, tags)
        return csv_response([*_COLUMNS, *tags], rows, f"reports-{form}.csv", slot)
    page = Page(limit, decode_cursor(cursor))

    async def payload(read: AsyncConnection) -> dict[str, Any]:
        items, next_cursor = page_of(await reports.list_reports(read, where, page), limit)
        return {"items": [report_seen(r, who) for r in items], "next_cursor": next_cursor}

    return await cached_json(state, request, who, payload)


@router.get(
    "/reports/{report_id}",
    response_model=ReportDetail,
    summary="One report, with its quarantine history",
    responses={404: described("NOT_FOUND: no such report.")},
)
async def get_report(session: SessionDep, who: Reader, report_id: ReportId) -> Response:
    found = await reports.get_report(session, report_id)
    if found is None:
        raise NotFound(f"no report {report_id}")
    return json_response(report_seen(found, who))


@router.post(
    "/reports/{report_id}/quarantine",
    response_model=ReportDetail,
    summary="Put a report in quarantine",
    description="Leaves it out of tallies and coverage until released; the reason and the "
    "token's name are logged in its history.",
    responses={
        404: described("NOT_FOUND: no such report."),
        409: described("CONFLICT: it is in quarantine already."),
    },
)
async def quarantine(
    session: SessionDep,
    who: Admin,
    forms: FormsDep,
    report_id: ReportId,
    body: QuarantineRequest,
) -> Response:
    return await _set_quarantine(session, who, forms, report_id, True, body.reason)


@router.delete(
    "/reports/{report_id}/quarantine",
    response_model=ReportDetail,
    summary="Take a report out of quarantine",
    responses={
        404: described("NOT_FOUND: no such report."),
        409: described("CONFLICT: it is not in quarantine."),
    },
)
async def release(
    session: SessionDep,
    who: Admin,
    forms: FormsDep,
    report_id: ReportId,
    reason: Annotated[str, Query(min_length=3, max_length=500, pattern=r"^[^\x00]*$")],
) -> Response:
    return await _set_quarantine(session, who, forms, report_id, False, reason)


async def _set_quarantine(
    session: SessionDep,
    who: Principal,
    forms: Deployment | None,
    report_id: int,
    quarantined: bool,
    reason: str,
) -> Response:
    found = await reports.report_for_update(session, report_id)
    if found is None:
        raise NotFound(f"no report {report_id}")
    report, region = found
    if report.quarantined == quarantined:
        state = "in quarantine already" if quarantined else "not in quarantine"
        raise Conflict(f"report {report_id} is {state}")
    reports.record_quarantine(session, report, quarantined, reason, who.name)
    integers = integer_tags(forms, report.form_code)
    if quarantined:
        await remove_cells(session, report.form_code, region, report.answers, integers)
    else:
        cells = Cells()
        cells.add_report(report.form_code, region, report.answers, integers)
        await add_cells(session, cells)
    await session.flush()
    await reports.recount_checklist(session, report.observer_code, report.form_code)
    await repository.record_events(session, [("report", report_id)])
    detail = await reports.get_report(session, report_id)
    return json_response(detail)


def integer_tags(forms: Deployment | None, form_code: str) -> set[str]:
    """The integer questions of a form (none when the form is unknown)."""
    form = forms.form(form_code) if forms else None
    return {q.tag for q in form.questions if q.type == "integer"} if form else set()


def tag_columns(forms: Deployment | None, form_code: str | None) -> list[str]:
    """The question tags of ``form_code``, in the forms file's order: the CSV's columns."""
    if form_code is None:
        raise InvalidRequest("CSV export needs form=..., so that its columns are that form's")
    form = forms.form(form_code) if forms else None
    if form is None:
        raise InvalidRequest(f"no form {form_code!r} in the loaded forms")
    return [question.tag for question in form.questions]


def answer_cells(answers: dict[str, Any], tags: Sequence[str]) -> list[Any]:
    """One CSV cell per tag: the value, codes joined by ';' for multi, blank if unanswered."""
    cells: list[Any] = []
    for tag in tags:
        value = answers.get(tag)
        cells.append(";".join(map(str, value)) if isinstance(value, list) else value)
    return cells


async def _seen_rows(
    rows: AsyncIterator[dict[str, Any]], who: Principal
) -> AsyncIterator[dict[str, Any]]:
    async for row in rows:
        yield report_seen(row, who)


async def answer_rows(
    rows: AsyncIterator[dict[str, Any]], columns: Sequence[str], tags: Sequence[str]
) -> AsyncIterator[list[Any]]:
    """CSV rows: ``columns`` of each row, then one cell per question tag."""
    async for row in rows:
        yield [*(row[column] for column in columns), *answer_cells(row["answers"], tags)]
