"""``/stations``, ``/observers`` (read; admin writes) and ``/forms``."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Response
from pydantic import BaseModel, ConfigDict

from api.auth import Principal, Scope
from api.deps import SessionDep, require
from api.errors import ERROR_RESPONSES, Conflict, InvalidRequest, NotFound, described
from api.responses import decode_cursor, json_response, page_of
from api.schemas.common import Cursor, Limit, OptCode, OptText
from api.schemas.roster import (
    FormsOut,
    ImportResult,
    ObserverIn,
    ObserverOut,
    ObserverPage,
    StationIn,
    StationOut,
    StationPage,
)
from api.visibility import observer_seen
from store import repository
from store.queries import roster

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["roster"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(require(Scope.READ))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]
CodePath = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[^\x00/]*$")]
_NOT_FOUND = described("NOT_FOUND: no such station or observer.")
_CONFLICT = described("CONFLICT: one with this code exists already (use PUT to update).")
_IMPORT_LIMIT = 20_000


@router.get("/stations", response_model=StationPage, summary="Polling stations, by code")
async def list_stations(
    session: SessionDep, who: Reader, region: OptText = None, cursor: Cursor = None,
    limit: Limit = 100,
) -> Response:  # fmt: skip
    rows = await roster.list_stations(session, region, decode_cursor(cursor, str), limit)
    items, next_cursor = page_of(rows, limit, key="code")
    return json_response({"items": items, "next_cursor": next_cursor})


@router.get(
    "/stations/{code}", response_model=StationOut, summary="One station",
    responses={404: _NOT_FOUND},
)  # fmt: skip
async def get_station(session: SessionDep, who: Reader, code: CodePath) -> Response:
    station = await roster.get_station(session, code)
    if station is None:
        raise NotFound(f"no station {code!r}")
    return json_response(station)


@router.post(
    "/stations", response_model=StationOut, status_code=201, summary="Add a station",
    responses={409: _CONFLICT},
)  # fmt: skip
async def create_station(session: SessionDep, who: Admin, station: StationIn) -> Response:
    if await roster.get_station(session, station.code) is not None:
        raise Conflict(f"station {station.code!r} exists; PUT /stations/{station.code} updates")
    return await _save_stations(session, [station], created=True)


@router.put(
    "/stations/{code}", response_model=StationOut, summary="Add or update a station",
)  # fmt: skip
async def put_station(
    session: SessionDep, who: Admin, code: CodePath, station: StationIn
) -> Response:
    _same_code(code, station.code)
    return await _save_stations(session, [station])


@router.get("/observers", response_model=ObserverPage, summary="Observers, by code")
async def list_observers(
    session: SessionDep, who: Reader, station: OptCode = None, region: OptText = None,
    cursor: Cursor = None, limit: Limit = 100,
) -> Response:  # fmt: skip
    rows = await roster.list_observers(session, station, region, decode_cursor(cursor, str), limit)
    items, next_cursor = page_of(rows, limit, key="code")
    shown = [observer_seen(o, who) for o in items]
    return json_response({"items": shown, "next_cursor": next_cursor})


@router.get(
    "/observers/{code}", response_model=ObserverOut, summary="One observer",
    responses={404: _NOT_FOUND},
)  # fmt: skip
async def get_observer(session: SessionDep, who: Reader, code: CodePath) -> Response:
    observer = await roster.get_observer(session, code)
    if observer is None:
        raise NotFound(f"no observer {code!r}")
    return json_response(observer_seen(observer, who))


@router.post(
    "/observers", response_model=ObserverOut, status_code=201, summary="Add an observer",
    responses={409: _CONFLICT},
)  # fmt: skip
async def create_observer(session: SessionDep, who: Admin, observer: ObserverIn) -> Response:
    if await roster.get_observer(session, observer.code) is not None:
        raise Conflict(f"observer {observer.code!r} exists; PUT /observers/{observer.code}")
    return await _save_observers(session, [observer], created=True)


@router.put(
    "/observers/{code}", response_model=ObserverOut, summary="Add or update an observer",
)  # fmt: skip
async def put_observer(
    session: SessionDep, who: Admin, code: CodePath, observer: ObserverIn
) -> Response:
    _same_code(code, observer.code)
    return await _save_observers(session, [observer])


class RosterImport(BaseModel):
    """Stations and observers to add or update (stations first, so observers may name them)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    stations: list[StationIn] = []
    observers: list[ObserverIn] = []


@router.post(
    "/roster/import", response_model=ImportResult, summary="Import stations and observers",
    description="Adds or updates every row, in one transaction: all or nothing. Observers may "
    f"name stations in the same import. At most {_IMPORT_LIMIT:,} rows of each.",
)  # fmt: skip
async def import_roster(
    session: SessionDep, who: Admin, body: Annotated[RosterImport, Body()]
) -> Response:
    if max(len(body.stations), len(body.observers)) > _IMPORT_LIMIT:
        raise InvalidRequest(f"at most {_IMPORT_LIMIT} rows of each per import")
    _no_repeats("station", [s.code for s in body.stations])
    _no_repeats("observer", [o.code for o in body.observers])
    await repository.upsert_stations(session, [s.model_dump() for s in body.stations])
    await _check_stations(session, body.observers)
    await repository.upsert_observers(session, [o.model_dump() for o in body.observers])
    return json_response({"stations": len(body.stations), "observers": len(body.observers)})


@router.get(
    "/forms", response_model=FormsOut, summary="The forms in use",
    responses={404: described("NOT_FOUND: no forms loaded yet.")},
)  # fmt: skip
async def get_forms(session: SessionDep, who: Reader) -> Response:
    stored = await repository.latest_forms(session)
    if stored is None:
        raise NotFound("no forms loaded yet: shailoo forms load FILE")
    return json_response({
        "deployment": stored.deployment, "content_hash": stored.content_hash,
        "loaded_at": stored.loaded_at, "definition": stored.definition,
    })  # fmt: skip


def _no_repeats(kind: str, codes: list[str]) -> None:
    repeated = sorted(code for code, count in Counter(codes).items() if count > 1)
    if repeated:
        raise InvalidRequest(f"{kind} code(s) listed twice: {', '.join(repeated[:10])}")


def _same_code(path: str, body: str) -> None:
    if path != body:
        raise InvalidRequest(f"the path says {path!r} but the body's code is {body!r}")


async def _save_stations(
    session: SessionDep, stations: list[StationIn], created: bool = False
) -> Response:
    await repository.upsert_stations(session, [s.model_dump() for s in stations])
    saved = await roster.get_station(session, stations[0].code)
    return json_response(saved, 201 if created else 200)


async def _save_observers(
    session: SessionDep, observers: list[ObserverIn], created: bool = False
) -> Response:
    await _check_stations(session, observers)
    await repository.upsert_observers(session, [o.model_dump() for o in observers])
    saved = await roster.get_observer(session, observers[0].code)
    return json_response(saved, 201 if created else 200)


async def _check_stations(session: SessionDep, observers: list[ObserverIn]) -> None:
    named = {o.station_code for o in observers if o.station_code is not None}
    unknown = named - await repository.station_codes(session)
    if unknown:
        listed = ", ".join(sorted(unknown)[:10])
        raise InvalidRequest(f"unknown station(s): {listed}; add the stations first")
