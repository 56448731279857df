"""Stations, observers and forms."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.common import Model, Paged

__all__ = [
    "FormsOut",
    "ImportResult",
    "ObserverIn",
    "ObserverOut",
    "ObserverPage",
    "StationIn",
    "StationOut",
    "StationPage",
]

_Name = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00]*$")]
_Phone = Annotated[str, StringConstraints(pattern=r"^\+?\d{6,15}$")]


class StationOut(Model):
    """A polling station."""

    code: str = Field(examples=["001-042"])
    name: str
    region: str
    district: str
    registered_voters: int | None
    in_sample: bool
    stratum: str = Field(description="The sample design's stratum; empty: the region.")


class StationPage(Paged):
    """A page of stations, by code."""

    items: list[StationOut]


class StationIn(BaseModel):
    """A station to create or update."""

    model_config = ConfigDict(extra="forbid", strict=True)  # false is not 0, "5" not 5

    code: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z][0-9A-Za-z_./-]*$")
    name: _Name = ""
    region: _Name = ""
    district: _Name = ""
    registered_voters: int | None = Field(default=None, ge=0, le=10_000_000)
    in_sample: bool = True
    stratum: _Name = ""


class ObserverOut(Model):
    """An observer."""

    code: str = Field(examples=["1234"])
    name: str = Field(description="Empty unless the token has `read:pii`.")
    phones: list[str] = Field(description="Masked unless the token has `read:pii`.")
    station_code: str | None
    language: str | None


class ObserverPage(Paged):
    """A page of observers, by code."""

    items: list[ObserverOut]


class ObserverIn(BaseModel):
    """An observer to create or update."""

    model_config = ConfigDict(extra="forbid", strict=True)  # false is not 0, "5" not 5

    code: str = Field(min_length=1, max_length=20, pattern=r"^\d+$", examples=["1234"])
    name: _Name = ""
    phones: list[_Phone] = Field(default_factory=list, max_length=5, examples=[["+996555123456"]])
    station_code: str | None = Field(default=None, max_length=40, pattern=r"^[^\x00]*$")
    language: Literal["ky", "ru", "en"] | None = None


class ImportResult(Model):
    """What an import did."""

    stations: int = 0
    observers: int = 0


class FormsOut(Model):
    """The forms the gateway uses now."""

    deployment: str
    content_hash: str
    loaded_at: datetime
    definition: dict[str, Any] = Field(description="The forms file, as JSON.")
