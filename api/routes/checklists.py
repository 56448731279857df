"""``/checklists``: the current merged record per observer and form, and its versions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import Principal, Scope
from api.deps import FormsDep, SessionDep, StateDep, require
from api.errors import ERROR_RESPONSES, EXPORT_LIMITED, NotFound, described
from api.responses import (
    cached_json,
    csv_response,
    decode_cursor,
    json_response,
    page_of,
    streamed,
)
from api.routes.reports import answer_rows, tag_columns
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
from api.schemas.reports import ChecklistPage, ChecklistVersion
from store.queries import reports
from store.queries.filters import Page, ReportFilter

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["checklists"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(require(Scope.READ))]

_COLUMNS = (
    "id", "observer_code", "form_code", "station_code", "region", "version", "updated_at",
)  # fmt: skip


@router.get(
    "/checklists",
    response_model=ChecklistPage,
    summary="Current checklists",
    description="One record per observer and checklist form: the last value of each tag "
    "wins. `since`/`until` select by last update. `format=csv` (needs `form`) streams "
    "them with one column per question.",
    responses={200: {"content": {"text/csv": {}}}, 429: EXPORT_LIMITED},
)
async def list_checklists(
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
    cursor: Cursor = None,
    limit: Limit = 50,
    format: Format = "json",
) -> Response:
    where = ReportFilter(form, observer, station, region, since, until)
    if format == "csv":
        tags = tag_columns(forms, form)
        slot = state.exports.take(who.token_id)
        rows = answer_rows(
            streamed(state, lambda read: reports.stream_checklists(read, where)), _COLUMNS, tags
        )
        return csv_response([*_COLUMNS, *tags], rows, f"checklists-{form}.csv", slot)
    page = Page(limit, decode_cursor(cursor))

    async def payload(read: AsyncConnection) -> dict[str, Any]:
        items, next_cursor = page_of(await reports.list_checklists(read, where, page), limit)
        return {"items": items, "next_cursor": next_cursor}

    return await cached_json(state, request, who, payload)


@router.get(
    "/checklists/{checklist_id}/versions",
    response_model=list[ChecklistVersion],
    summary="Who changed what in a checklist, from which message",
    responses={404: described("NOT_FOUND: no such checklist.")},
)
async def checklist_versions(
    session: SessionDep, who: Reader, checklist_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
) -> Response:
    versions = await reports.checklist_versions(session, checklist_id)
    if versions is None:
        raise NotFound(f"no checklist {checklist_id}")
    return json_response(versions)
