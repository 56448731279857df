"""What can go wrong in ``estimates``, as exceptions; an estimate that cannot be made is not one.

An estimate the sample cannot support (a stratum with fewer than two reports, frame sizes
unknown, no valid votes yet) is a *value*: the result holds ``None`` and the reasons. What is
raised is a request that makes no sense or an input file with mistakes::

    EstimatesError              base of everything this package raises
    ├── EstimateRequestError    the request itself is wrong: an unknown form, a form without
    │                           ``results:``, a confidence outside (0, 1), an official share
    │                           for a tag that is not a vote tag
    └── InputFileError          a stations or reports file cannot be used; ``.problems`` lists
        │                       every mistake as ``file:line: sentence``
        ├── StationsFileError   the frame (stations.csv)
        └── ReportsFileError    the reports (the checklists CSV export)
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "EstimateRequestError",
    "EstimatesError",
    "InputFileError",
    "ReportsFileError",
    "StationsFileError",
]


class EstimatesError(Exception):
    """Base of every exception ``estimates`` raises."""


class EstimateRequestError(EstimatesError, ValueError):
    """The request cannot be answered as asked (HTTP: 422); the message says what to change."""


class InputFileError(EstimatesError):
    """An input file has mistakes; nothing is estimated from it. ``problems``: one per mistake."""

    kind = "input file"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"the {self.kind} has {len(self.problems)} problem(s):\n{lines}")


class StationsFileError(InputFileError):
    """The stations file (the frame) has mistakes."""

    kind = "stations file"


class ReportsFileError(InputFileError):
    """The reports file has mistakes."""

    kind = "reports file"
