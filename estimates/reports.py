"""Observers' checklists as the estimator reads them: one row per checklist, answers as columns.

The database (the ``checklists`` table) and the CSV export feed the same ``ReportColumns``:
station code, observer, a time that orders an observer's checklists, the quarantine flag, and
one integer column per answer. Integer and choice questions are a column ``TAG`` holding the
number or option code; a multi question is one 0/1 column ``TAG=code`` per option. ``MISSING``
(−1) marks an unanswered question: answers are never negative (the forms forbid it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from parser import Form, Question

__all__ = ["MISSING", "ReportColumns", "ReportRow", "answer_columns", "option_column"]

MISSING = -1

Answer = int | Sequence[int] | None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One observer's checklist for a station, as a plain row.

    ``observer_code`` None: the row is its own observer. ``updated_at`` None: the row is older
    than every dated one of the same observer, and among undated ones later rows win.
    """

    station_code: str
    answers: Mapping[str, Answer]
    observer_code: str | None = None
    updated_at: datetime | None = None
    quarantined: bool = False


@dataclass(frozen=True, eq=False)
class ReportColumns:
    """Report rows as arrays of equal length; ``values`` has one column per ``columns`` name.

    ``order`` ranks an observer's rows (the larger wins; ties: the later row). ``observer``
    holds codes, or "" for a row that is its own observer.
    """

    station: npt.NDArray[np.str_]
    observer: npt.NDArray[np.str_]
    order: npt.NDArray[np.float64]
    quarantined: npt.NDArray[np.bool_]
    columns: tuple[str, ...]
    values: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.station)

    def column(self, name: str) -> npt.NDArray[np.int64]:
        """The values of one column; all ``MISSING`` if the reports do not have it."""
        if name in self.columns:
            return self.values[:, self.columns.index(name)]
        return np.full(len(self), MISSING, dtype=np.int64)

    @classmethod
    def from_rows(cls, rows: Iterable[ReportRow], form: Form) -> ReportColumns:
        """The columns of ``form`` (``answer_columns``) filled from ``rows``."""
        listed = list(rows)
        names = answer_columns(form)
        values = np.full((len(listed), len(names)), MISSING, dtype=np.int64)
        for number, row in enumerate(listed):
            values[number] = _cells(row.answers, form)
        return cls(
            station=np.array([row.station_code for row in listed], dtype=np.str_),
            observer=np.array([row.observer_code or "" for row in listed], dtype=np.str_),
            order=np.array([_rank(row.updated_at) for row in listed], dtype=np.float64),
            quarantined=np.array([row.quarantined for row in listed], dtype=np.bool_),
            columns=names,
            values=values.reshape(len(listed), len(names)),
        )


def _rank(updated_at: datetime | None) -> float:
    return -np.inf if updated_at is None else updated_at.timestamp()


def option_column(tag: str, code: int) -> str:
    """The name of a multi question's 0/1 column for one option: ``C=2``."""
    return f"{tag}={code}"


def answer_columns(form: Form) -> tuple[str, ...]:
    """Column names for ``form``'s questions, in form order (multi: one per option)."""
    names: list[str] = []
    for question in form.questions:
        if question.type == "multi":
            names += [option_column(question.tag, code) for code in question.options]
        else:
            names.append(question.tag)
    return tuple(names)


def _cells(answers: Mapping[str, Answer], form: Form) -> list[int]:
    cells: list[int] = []
    for question in form.questions:
        cells += _question_cells(question, answers.get(question.tag))
    return cells


def _question_cells(question: Question, answer: Answer) -> list[int]:
    if question.type != "multi":
        return [answer if isinstance(answer, int) else MISSING]
    if answer is None or isinstance(answer, int):
        chosen = set() if answer is None else {answer}
    else:
        chosen = set(answer)
    if not chosen:
        return [MISSING] * len(question.options)
    return [int(code in chosen) for code in question.options]
