"""Query results as the plain dicts the API serialises."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Result

__all__ = ["as_dicts"]


def as_dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """Every row as a dict keyed by column label (zip is about a fifth cheaper than
    ``.mappings()`` per row, which shows at fifty rows a request)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]
