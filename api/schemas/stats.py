"""Coverage and tallies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas.common import Model

__all__ = [
    "CoverageOut",
    "CoverageStation",
    "CoverageTotals",
    "IntegerStats",
    "QuestionTally",
    "TallyOut",
    "TallySlice",
]


class CoverageStation(Model):
    """One sampled station."""

    station: str = Field(examples=["001-042"])
    name: str
    region: str
    district: str
    reported: bool
    first_report_at: datetime | None
    last_report_at: datetime | None


class CoverageTotals(Model):
    """How many sampled stations have reported."""

    stations: int
    reported: int
    missing: int
    share: float = Field(description="reported / stations (0 when there are none).")


class CoverageOut(Model):
    """Coverage of one form as of a time."""

    form: str = Field(examples=["OP"])
    at: datetime = Field(description="The time it is computed as of.")
    totals: CoverageTotals
    by_region: dict[str, CoverageTotals]
    stations: list[CoverageStation] = Field(description="Sorted by station code.")


class IntegerStats(Model):
    """An integer question's answers."""

    sum: int
    mean: float | None
    min: int | None
    max: int | None


class TallySlice(Model):
    """One question's answers in one place (the country or a region)."""

    answered: int = Field(description="Reports that answered the question.")
    options: dict[str, int] | None = Field(
        default=None, description="Choice and multi: count per option code."
    )
    integer: IntegerStats | None = Field(default=None, description="Integer questions.")


class QuestionTally(Model):
    """One question."""

    tag: str
    type: Literal["choice", "multi", "integer"]
    label: str
    option_labels: dict[str, str] | None
    total: TallySlice
    by_region: dict[str, TallySlice]


class TallyOut(Model):
    """A form's answers, added up over its accepted, unquarantined reports."""

    form: str = Field(examples=["RS"])
    language: str = Field(description="Of the labels.")
    reports: int
    reports_by_region: dict[str, int]
    questions: list[QuestionTally]
