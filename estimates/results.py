"""What an estimate returns: intervals, the state of the sample, and the JSON the API sends.

Plain frozen values. ``ResultsEstimate.to_json()`` is the shape ``shailoo estimate --json`` and
``GET /api/v1/estimates`` print::

    {"form", "confidence",
     "sample": {"stations", "reported", "conflicts", ...},
     "shares": {TAG: {"estimate", "moe", "low", "high"}} | null,
     "turnout": {"estimate", "moe", "low", "high"} | null,
     "reasons": [...], ...}

Shares are fractions (0-1). An estimate the sample cannot support is ``null``, and ``reasons``
says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Interval",
    "OfficialCheck",
    "ProcessEstimate",
    "QuestionShares",
    "ResultsEstimate",
    "SampleStatus",
    "StratumStatus",
]


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate and its margin of error: the interval is estimate ± moe (not clipped)."""

    estimate: float
    moe: float

    @property
    def low(self) -> float:
        """estimate − moe."""
        return self.estimate - self.moe

    @property
    def high(self) -> float:
        """estimate + moe."""
        return self.estimate + self.moe

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (ends included)."""
        return self.low <= value <= self.high

    def to_json(self) -> dict[str, float]:
        """``{"estimate", "moe", "low", "high"}``."""
        return {"estimate": self.estimate, "moe": self.moe, "low": self.low, "high": self.high}


@dataclass(frozen=True, slots=True)
class StratumStatus:
    """One stratum: stations in the frame (None: unknown), sampled, reported, in conflict."""

    stratum: str
    frame: int | None
    sampled: int
    reported: int
    conflicts: int

    def to_json(self) -> dict[str, Any]:
        """The fields as a JSON object."""
        return {
            "stratum": self.stratum,
            "frame": self.frame,
            "sampled": self.sampled,
            "reported": self.reported,
            "conflicts": self.conflicts,
        }


@dataclass(frozen=True)
class SampleStatus:
    """How far the sample has come in: counts, the stations in conflict, and per stratum.

    ``outside_sample_rows`` and ``quarantined_rows`` count report rows that were not used.
    """

    stations: int
    reported: int
    conflict_stations: tuple[str, ...]
    strata: tuple[StratumStatus, ...]
    outside_sample_rows: int = 0
    quarantined_rows: int = 0

    def to_json(self) -> dict[str, Any]:
        """``{"stations", "reported", "conflicts"}`` (counts) and the details beside them."""
        return {
            "stations": self.stations,
            "reported": self.reported,
            "conflicts": len(self.conflict_stations),
            "conflict_stations": list(self.conflict_stations),
            "outside_sample_rows": self.outside_sample_rows,
            "quarantined_rows": self.quarantined_rows,
            "strata": [stratum.to_json() for stratum in self.strata],
        }


@dataclass(frozen=True, slots=True)
class OfficialCheck:
    """An official share and whether it lies inside the interval (None: no interval)."""

    official: float
    inside: bool | None

    def to_json(self) -> dict[str, Any]:
        """``{"official", "inside"}``."""
        return {"official": self.official, "inside": self.inside}


@dataclass(frozen=True)
class ResultsEstimate:
    """A quick count: vote shares and turnout with their margins, from the sampled stations."""

    form: str
    confidence: float
    sample: SampleStatus
    shares: Mapping[str, Interval] | None
    turnout: Interval | None
    reasons: tuple[str, ...] = ()
    official: Mapping[str, OfficialCheck] = field(default_factory=dict)
    regions: Mapping[str, ResultsEstimate] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The documented shape (module docstring); ``official`` only when one was given,
        ``regions`` (each region's own object, without ``official``) only when asked for."""
        payload: dict[str, Any] = {
            "form": self.form,
            "confidence": self.confidence,
            "sample": self.sample.to_json(),
            "shares": None
            if self.shares is None
            else {tag: interval.to_json() for tag, interval in self.shares.items()},
            "turnout": None if self.turnout is None else self.turnout.to_json(),
            "reasons": list(self.reasons),
        }
        if self.official:
            payload["official"] = {tag: check.to_json() for tag, check in self.official.items()}
        if self.regions:
            payload["regions"] = {name: part.to_json() for name, part in self.regions.items()}
        return payload


@dataclass(frozen=True)
class QuestionShares:
    """A choice or multi question: the share of stations with each option (None: unavailable).

    ``stations`` counts the sampled stations whose observers answered it without conflict.
    For a multi question the shares of its options can add up to more than 1.
    """

    tag: str
    type: str
    stations: int
    options: Mapping[int, Interval] | None
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"type", "stations", "options": {code: interval} | null, "reasons"}``."""
        options = None
        if self.options is not None:
            options = {str(code): interval.to_json() for code, interval in self.options.items()}
        return {
            "type": self.type,
            "stations": self.stations,
            "options": options,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class ProcessEstimate:
    """The process questions of a form: for each, the share of stations with each option."""

    form: str
    confidence: float
    sample: SampleStatus
    questions: Mapping[str, QuestionShares]
    regions: Mapping[str, ProcessEstimate] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"form", "confidence", "sample", "questions": {TAG: ...}}`` (and ``regions``)."""
        payload: dict[str, Any] = {
            "form": self.form,
            "confidence": self.confidence,
            "sample": self.sample.to_json(),
            "questions": {tag: shares.to_json() for tag, shares in self.questions.items()},
        }
        if self.regions:
            payload["regions"] = {name: part.to_json() for name, part in self.regions.items()}
        return payload
