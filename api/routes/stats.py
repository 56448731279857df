"""``/coverage`` and ``/tallies``: what the data team asks all day."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import Principal, Scope
from api.deps import FormsDep, StateDep, require
from api.errors import ERROR_RESPONSES, EXPORT_LIMITED, NotFound, described
from api.responses import cached_json, csv_response
from api.schemas.common import Format, IsoTime, RegionFilter
from api.schemas.stats import CoverageOut, TallyOut
from parser import Deployment, Form, text_in
from store.queries import coverage as coverage_queries
from store.queries import tallies as tally_queries
from store.queries.rows import Reads
from store.tallies import ANSWERED

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["statistics"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(require(Scope.READ))]
FormCode = Annotated[str, Query(min_length=1, max_length=20, pattern=r"^[^\x00]*$",
                                description="A form code, e.g. OP.")]  # fmt: skip
_UNKNOWN_FORM = described("NOT_FOUND: no such form in the loaded forms.")
_CSV_COLUMNS = (
    "station", "name", "region", "district", "reported", "first_report_at", "last_report_at",
)  # fmt: skip


@router.get(
    "/coverage",
    response_model=CoverageOut,
    summary="Which sampled stations have reported a form",
    description="For every station in the sample: whether `form` has been reported, and "
    "the first and last report's times, as of `at` (default: now); totals for the country "
    "and by region. Quarantined reports do not count. `reported=false` lists only the "
    "missing stations, e.g. `?form=OP&at=2026-11-29T08:30:00%2B06:00&reported=false` for "
    "the stations without an opening checklist by 08:30. `format=csv` streams the stations.",
    responses={404: _UNKNOWN_FORM, 200: {"content": {"text/csv": {}}}, 429: EXPORT_LIMITED},
)
async def coverage(
    request: Request,
    state: StateDep,
    who: Reader,
    forms: FormsDep,
    form: FormCode,
    at: Annotated[IsoTime | None, Query(description="As of this time (ISO 8601).")] = None,
    region: RegionFilter = None,
    reported: bool | None = None,
    format: Format = "json",
) -> Response:
    _form(forms, form)
    if format == "csv":
        slot = state.exports.take(who.token_id)
        try:
            async with state.db.session() as session:
                stations = await _stations(session, form, at or datetime.now(UTC))
        except BaseException:
            slot.release()
            raise
        return csv_response(_CSV_COLUMNS, _rows(_listed(stations, region, reported)),
                            f"coverage-{form}.csv", slot)  # fmt: skip

    async def payload(read: AsyncConnection) -> dict[str, Any]:
        moment = at or datetime.now(UTC)
        return _coverage(form, moment, await _stations(read, form, moment), region, reported)

    return await cached_json(state, request, who, payload)


async def _stations(session: Reads, form: str, moment: datetime) -> list[dict[str, Any]]:
    return [
        {**row, "reported": row["first_report_at"] is not None}
        for row in await coverage_queries.coverage(session, form, moment)
    ]


def _listed(
    stations: list[dict[str, Any]], region: str | None, reported: bool | None
) -> list[dict[str, Any]]:
    return [
        s for s in stations
        if (region is None or s["region"] == region)
        and (reported is None or s["reported"] == reported)
    ]  # fmt: skip


def _coverage(
    form: str,
    moment: datetime,
    stations: list[dict[str, Any]],
    region: str | None,
    reported: bool | None,
) -> dict[str, Any]:
    by_region: dict[str, list[dict[str, Any]]] = {}
    for station in stations:
        by_region.setdefault(station["region"], []).append(station)
    return {
        "form": form, "at": moment, "totals": _totals(stations),
        "by_region": {name: _totals(rows) for name, rows in sorted(by_region.items())},
        "stations": _listed(stations, region, reported),
    }  # fmt: skip


def _totals(stations: list[dict[str, Any]]) -> dict[str, Any]:
    reported = sum(1 for station in stations if station["reported"])
    count = len(stations)
    return {
        "stations": count, "reported": reported, "missing": count - reported,
        "share": round(reported / count, 4) if count else 0.0,
    }  # fmt: skip


async def _rows(stations: Iterable[dict[str, Any]]) -> AsyncIterator[list[Any]]:
    for station in stations:
        yield [station[column] for column in _CSV_COLUMNS]


@router.get(
    "/tallies",
    response_model=TallyOut,
    summary="A form's answers added up",
    description="Per question: counts per option (choice, multi) or sum, mean, min and max "
    "(integer), for the country and by region, over accepted reports not in quarantine "
    "(each SMS is one report: a corrected resend counts again; quarantine the wrong one). "
    "Kept up to date as reports arrive, so it is cheap to poll.",
    responses={404: _UNKNOWN_FORM},
)
async def tallies(
    request: Request,
    state: StateDep,
    who: Reader,
    forms: FormsDep,
    form: FormCode,
    region: RegionFilter = None,
    language: Annotated[str | None, Query(pattern="^(ky|ru|en)$")] = None,
) -> Response:
    definition = _form(forms, form)
    chosen = language or (forms.default_language if forms else "en")

    async def payload(read: AsyncConnection) -> dict[str, Any]:
        return _tally(definition, await tally_queries.tally_cells(read, form, region), chosen)

    return await cached_json(state, request, who, payload)


def _form(forms: Deployment | None, code: str) -> Form:
    form = forms.form(code) if forms else None
    if form is None:
        known = ", ".join(f.code for f in forms.forms) if forms else "none loaded"
        raise NotFound(f"no form {code!r} (forms: {known})")
    return form


def _tally(form: Form, cells: list[dict[str, Any]], language: str) -> dict[str, Any]:
    by_key: dict[tuple[str, str, int], dict[str, Any]] = {
        (cell["region"], cell["tag"], cell["option"]): cell for cell in cells
    }
    regions = sorted({cell["region"] for cell in cells})
    counts = {
        r: by_key[(r, "", ANSWERED)]["reports"] for r in regions if (r, "", ANSWERED) in by_key
    }
    questions = []
    for question in form.questions:
        slices = {r: _slice(question.type, question.tag, by_key, [r]) for r in regions}
        questions.append({
            "tag": question.tag, "type": question.type, "label": text_in(question.label, language),
            "option_labels": {str(code): text_in(label, language)
                              for code, label in question.options.items()} or None,
            "total": _slice(question.type, question.tag, by_key, regions),
            "by_region": {r: s for r, s in slices.items() if s["answered"]},
        })  # fmt: skip
    return {
        "form": form.code, "language": language, "reports": sum(counts.values()),
        "reports_by_region": counts, "questions": questions,
    }  # fmt: skip


def _slice(
    kind: str, tag: str, cells: dict[tuple[str, str, int], dict[str, Any]], regions: list[str]
) -> dict[str, Any]:
    answered = [cells[(r, tag, ANSWERED)] for r in regions if (r, tag, ANSWERED) in cells]
    count = sum(cell["reports"] for cell in answered)
    if kind == "integer":
        total = sum(cell["total"] for cell in answered)
        minima = [cell["minimum"] for cell in answered if cell["minimum"] is not None]
        maxima = [cell["maximum"] for cell in answered if cell["maximum"] is not None]
        stats = {"sum": total, "mean": round(total / count, 3) if count else None,
                 "min": min(minima, default=None), "max": max(maxima, default=None)}  # fmt: skip
        return {"answered": count, "options": None, "integer": stats}
    options: dict[str, int] = {}
    wanted = set(regions)
    for (region, cell_tag, option), cell in cells.items():
        if cell_tag == tag and option != ANSWERED and region in wanted:
            options[str(option)] = options.get(str(option), 0) + cell["reports"]
    return {"answered": count, "options": dict(sorted(options.items())), "integer": None}
