"""Stations and observers, as the API lists and edits them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Observer, Station
from store.queries.rows import as_dicts

__all__ = ["get_observer", "get_station", "list_observers", "list_stations", "observer_phones"]

_STATION_COLUMNS = (
    Station.code, Station.name, Station.region, Station.district, Station.registered_voters,
    Station.in_sample, Station.stratum,
)  # fmt: skip
_OBSERVER_COLUMNS = (
    Observer.code,
    Observer.name,
    Observer.phones,
    Observer.station_code,
    Observer.language,
)


async def list_stations(
    session: AsyncSession, region: str | None, after: str | None, limit: int
) -> list[dict[str, Any]]:
    """Stations by code, from just after ``after``; ``limit + 1`` rows."""
    statement = select(*_STATION_COLUMNS).order_by(Station.code).limit(limit + 1)
    if region is not None:
        statement = statement.where(Station.region == region)
    if after is not None:
        statement = statement.where(Station.code > after)
    return as_dicts(await session.execute(statement))


async def get_station(session: AsyncSession, code: str) -> dict[str, Any] | None:
    """One station."""
    statement = select(*_STATION_COLUMNS).where(Station.code == code)
    row = (await session.execute(statement)).mappings().first()
    return None if row is None else dict(row)


async def list_observers(
    session: AsyncSession,
    station: str | None,
    region: str | None,
    after: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Observers by code, from just after ``after``; ``limit + 1`` rows."""
    statement = select(*_OBSERVER_COLUMNS).order_by(Observer.code).limit(limit + 1)
    if station is not None:
        statement = statement.where(Observer.station_code == station)
    if region is not None:
        in_region = select(Station.code).where(Station.region == region)
        statement = statement.where(Observer.station_code.in_(in_region))
    if after is not None:
        statement = statement.where(Observer.code > after)
    return as_dicts(await session.execute(statement))


async def get_observer(session: AsyncSession, code: str) -> dict[str, Any] | None:
    """One observer."""
    statement = select(*_OBSERVER_COLUMNS).where(Observer.code == code)
    row = (await session.execute(statement)).mappings().first()
    return None if row is None else dict(row)


async def observer_phones(
    session: AsyncSession,
    *,
    region: str | None = None,
    station: str | None = None,
    codes: list[str] | None = None,
) -> list[tuple[str, str]]:
    """(observer code, first phone) of the observers chosen; those without a phone are left
    out."""
    statement = select(Observer.code, Observer.phones).order_by(Observer.code)
    if region is not None:
        statement = statement.where(
            Observer.station_code.in_(select(Station.code).where(Station.region == region))
        )
    if station is not None:
        statement = statement.where(Observer.station_code == station)
    if codes is not None:
        statement = statement.where(Observer.code.in_(codes))
    rows = (await session.execute(statement)).all()
    return [(code, phones[0]) for code, phones in rows if phones]
