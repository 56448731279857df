"""Types shared by the request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "Code",
    "Cursor",
    "Format",
    "Limit",
    "Model",
    "OptCode",
    "OptText",
    "Since",
    "Text",
    "Until",
]

# No NUL (PostgreSQL refuses it in text) and a sane length, for every string a caller sends.
Text = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00]*$")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[^\x00]*$")]

_NO_NUL = r"^[^\x00]*$"
OptCode = Annotated[str | None, Query(min_length=1, max_length=40, pattern=_NO_NUL)]
OptText = Annotated[str | None, Query(min_length=1, max_length=200, pattern=_NO_NUL)]

Limit = Annotated[int, Query(ge=1, le=500, description="Rows per page.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=64,
        description="`next_cursor` of the previous page; omit for the first (newest) page.",
    ),
]
Since = Annotated[datetime | None, Query(description="Only rows at or after this time (ISO 8601).")]
Until = Annotated[datetime | None, Query(description="Only rows before this time (ISO 8601).")]
Format = Annotated[
    str,
    Query(
        pattern="^(json|csv)$",
        description="`csv` streams every matching row (no paging) with stable columns.",
    ),
]


class Model(BaseModel):
    """Base of the response models."""

    model_config = ConfigDict(from_attributes=True)


class Paged(Model):
    """A page of rows and how to get the next one."""

    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def answers_example() -> dict[str, Any]:
    """A report's answers as stored: tags to option codes, lists (multi) or integers."""
    return {"A": 1, "B": 2, "M": [2, 5], "E": 1500}
