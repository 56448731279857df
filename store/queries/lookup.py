"""Finding observers the way a caller in the data room asks: by a phone number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Observer
from store.queries.rows import as_dicts

__all__ = ["observers_with_phone"]


async def observers_with_phone(session: AsyncSession, phone: str) -> list[dict[str, Any]]:
    """The observers one of whose phone numbers is ``phone``, by code."""
    statement = (
        select(Observer.code, Observer.name, Observer.phones, Observer.station_code,
               Observer.language)
        .where(literal(phone) == func.any(Observer.phones))
        .order_by(Observer.code)
    )  # fmt: skip
    return as_dicts(await session.execute(statement))
