"""Quick-count estimates (``estimates.ResultsEstimate.to_json`` and ``ProcessEstimate``)."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import Model

__all__ = ["IntervalOut", "OfficialOut", "ProcessOut", "ResultsOut", "SampleOut", "SharesOut"]


class IntervalOut(Model):
    """An estimate with its margin: ``low`` = estimate − moe, ``high`` = estimate + moe."""

    estimate: float = Field(description="A fraction, 0-1.")
    moe: float = Field(description="The margin of error at the confidence asked for.")
    low: float
    high: float


class StratumOut(Model):
    """One stratum of the sample design."""

    stratum: str
    frame: int | None = Field(description="Stations in the whole frame (null: unknown).")
    sampled: int
    reported: int
    conflicts: int


class SampleOut(Model):
    """How far the sample has come in."""

    stations: int = Field(description="Sampled stations.")
    reported: int = Field(description="Sampled stations whose results count.")
    conflicts: int = Field(description="Stations whose observers disagree (left out).")
    conflict_stations: list[str]
    outside_sample_rows: int = Field(description="Checklists of stations outside the sample.")
    quarantined_rows: int
    strata: list[StratumOut]


class OfficialOut(Model):
    """An official figure and whether it lies inside the interval (null: no interval)."""

    official: float
    inside: bool | None


class ResultsOut(Model):
    """Vote shares and turnout; ``shares``/``turnout`` are null when unavailable, with the
    reasons in ``reasons``."""

    form: str = Field(examples=["RS"])
    confidence: float
    sample: SampleOut
    shares: dict[str, IntervalOut] | None = Field(description="By vote tag.")
    turnout: IntervalOut | None
    reasons: list[str]
    official: dict[str, OfficialOut] | None = Field(
        default=None, description="With `official=`: by vote tag and `turnout`."
    )
    regions: dict[str, ResultsOut] | None = Field(
        default=None, description="With `by=region`: the same estimate within each region."
    )


class SharesOut(Model):
    """A choice or multi question: the share of stations with each option."""

    type: str
    stations: int
    options: dict[str, IntervalOut] | None
    reasons: list[str]


class ProcessOut(Model):
    """Every choice or multi question of a form, as shares of stations."""

    form: str = Field(examples=["OP"])
    confidence: float
    sample: SampleOut
    questions: dict[str, SharesOut]
    regions: dict[str, ProcessOut] | None = None
