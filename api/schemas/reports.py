"""Reports, checklists and quarantine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Model, Paged, answers_example

__all__ = [
    "ChecklistOut",
    "ChecklistPage",
    "ChecklistVersion",
    "QuarantineChangeOut",
    "QuarantineRequest",
    "ReportDetail",
    "ReportOut",
    "ReportPage",
    "TagChange",
]


class ReportOut(Model):
    """An accepted submission."""

    id: int = Field(examples=[77])
    message_id: int = Field(description="The SMS it came from (`/messages/{id}`).")
    form_code: str = Field(examples=["OP"])
    observer_code: str = Field(examples=["1234"])
    station_code: str | None = Field(examples=["001-042"])
    region: str = Field(description="The station's region ('' if unknown).", examples=["Chuy"])
    answers: dict[str, Any] = Field(
        description="Tag to value: an option code (choice), a list of codes (multi) or an integer.",
        examples=[answers_example()],
    )
    comment: str | None = Field(
        description="Free text the observer added after '@'; null unless `read:pii`."
    )
    verified: bool = Field(description="False when it came from a phone not on the roster.")
    quarantined: bool = Field(description="Set aside by the data team; left out of tallies.")
    quarantine_reason: str | None = Field(description="Null unless `read:pii`.")
    created_at: datetime


class ReportPage(Paged):
    """A page of reports, newest first."""

    items: list[ReportOut]


class QuarantineChangeOut(Model):
    """One quarantine decision."""

    quarantined: bool
    reason: str | None = Field(description="Why; null unless the token has `read:pii`.")
    actor: str | None = Field(
        description="The name of the API token that made it; null unless `read:pii`."
    )
    changed_at: datetime


class ReportDetail(ReportOut):
    """A report with its quarantine history."""

    quarantine_history: list[QuarantineChangeOut]


class QuarantineRequest(BaseModel):
    """Why a report is put in (or taken out of) quarantine."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(
        min_length=3, max_length=500, pattern=r"^[^\x00]*$",
        examples=["observer called: sent the wrong station's numbers"],
    )  # fmt: skip


class ChecklistOut(Model):
    """The current merged record of one observer for one checklist form."""

    id: int
    observer_code: str
    form_code: str
    station_code: str | None
    region: str
    answers: dict[str, Any] = Field(examples=[answers_example()])
    version: int = Field(description="How many times it changed.")
    updated_at: datetime


class ChecklistPage(Paged):
    """A page of checklists, most recently created first."""

    items: list[ChecklistOut]


class TagChange(Model):
    """One tag's change."""

    tag: str
    old: Any = Field(description="The value before (null: unanswered).")
    new: Any


class ChecklistVersion(Model):
    """What one message changed in a checklist."""

    version: int
    message_id: int
    changed_at: datetime
    changes: list[TagChange]
