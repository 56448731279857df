"""Reading the running tallies (see ``store.tallies`` for how they are kept)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from store.models import TallyCell
from store.queries.rows import Reads, as_dicts

__all__ = ["tally_cells"]


async def tally_cells(session: Reads, form: str, region: str | None) -> list[dict[str, Any]]:
    """The cells of ``form`` (in one region, or all), with counts above zero."""
    statement = select(
        TallyCell.region, TallyCell.tag, TallyCell.option, TallyCell.reports, TallyCell.total,
        TallyCell.minimum, TallyCell.maximum,
    ).where(TallyCell.form_code == form, TallyCell.reports > 0)  # fmt: skip
    if region is not None:
        statement = statement.where(TallyCell.region == region)
    return as_dicts(await session.execute(statement))
