"""Types shared by the request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

__all__ = [
    "Code",
    "Cursor",
    "ErrorFilter",
    "FormFilter",
    "Format",
    "IsoTime",
    "Limit",
    "Model",
    "ObserverFilter",
    "OptCode",
    "OptText",
    "RegionFilter",
    "SearchFilter",
    "SenderFilter",
    "Since",
    "StationFilter",
    "StatusFilter",
    "Text",
    "Until",
]

# No NUL (PostgreSQL refuses it in text) and a sane length, for every string a caller sends.
Text = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00]*$")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[^\x00]*$")]

_NO_NUL = r"^[^\x00]*$"
OptCode = Annotated[str | None, Query(min_length=1, max_length=40, pattern=_NO_NUL)]
OptText = Annotated[str | None, Query(min_length=1, max_length=200, pattern=_NO_NUL)]


def _filter(description: str, example: str, max_length: int = 40) -> Any:
    return Annotated[
        str | None,
        Query(min_length=1, max_length=max_length, pattern=_NO_NUL, description=description,
              examples=[example]),
    ]  # fmt: skip


FormFilter = _filter("Only this form (its code).", "OP", 20)
ObserverFilter = _filter("Only this observer (their ID code).", "1234", 20)
StationFilter = _filter("Only this polling station (its code).", "001-042")
RegionFilter = _filter("Only stations of this region.", "Chuy", 200)
StatusFilter = _filter(
    "Only this status. In: accepted, rejected, duplicate, unverified, incomplete, undecodable. "
    "Out: sent, failed.", "rejected", 20,
)  # fmt: skip
ErrorFilter = _filter("Only messages with this error code.", "UNKNOWN_QUESTION")
SenderFilter = _filter(
    "Only SMS from or to this phone number (needs `read:pii`).", "+996555123456", 20
)
SearchFilter = _filter(
    "Full-text search of the texts, words in any order (needs `read:pii`).", "police", 200
)

Limit = Annotated[int, Query(ge=1, le=500, description="Rows per page.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=64,
        description="`next_cursor` of the previous page; omit for the first (newest) page.",
    ),
]


def _iso_only(value: Any) -> Any:
    # pydantic would read "268" as a Unix timestamp; a caller who sent that made a mistake.
    if isinstance(value, str) and value.strip().lstrip("-+").replace(".", "", 1).isdigit():
        raise ValueError("give a date and time in ISO 8601, e.g. 2027-04-02T08:30:00+06:00")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_only)]
Since = Annotated[IsoTime | None, Query(description="Only rows at or after this time (ISO 8601).")]
Until = Annotated[IsoTime | None, Query(description="Only rows before this time (ISO 8601).")]
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
