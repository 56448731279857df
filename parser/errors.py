"""What can go wrong in ``parser``: the problems found in an SMS, and a bad forms file.

Problems in an observer's SMS are *values*, not exceptions: ``parse_message`` never raises on any
text, it returns a result that lists every problem as a ``ParseError`` with a stable ``ErrorCode``,
the question tag where one applies, and the character span in the original text.

A deployment's forms file is configuration written by the tech person; mistakes in it stop the
load, so they are raised::

    ParserError                 base of everything this package raises
    └── FormsError              the forms file is invalid; ``.problems`` lists each one with its
                                location (``forms[2].questions[5].options``), line and sentence

``CheckSyntaxError`` (a check expression that does not parse) is internal to the forms loader,
which reports it as one of the ``FormsError`` problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "CheckSyntaxError",
    "ErrorCode",
    "FormsError",
    "FormsProblem",
    "ParseError",
    "ParserError",
]


class ErrorCode(StrEnum):
    """Stable machine codes of the problems an SMS can have.

    The API, stored messages and replies all use these strings: never rename one.
    """

    EMPTY_MESSAGE = "EMPTY_MESSAGE"
    UNKNOWN_FORM = "UNKNOWN_FORM"
    MISSING_OBSERVER_ID = "MISSING_OBSERVER_ID"
    INVALID_OBSERVER_ID = "INVALID_OBSERVER_ID"
    UNKNOWN_QUESTION = "UNKNOWN_QUESTION"
    MISSING_VALUE = "MISSING_VALUE"
    INVALID_OPTION = "INVALID_OPTION"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    DUPLICATE_QUESTION = "DUPLICATE_QUESTION"
    MISSING_REQUIRED = "MISSING_REQUIRED"
    CHECK_FAILED = "CHECK_FAILED"
    UNEXPECTED_TEXT = "UNEXPECTED_TEXT"
    AMBIGUOUS_VALUE = "AMBIGUOUS_VALUE"
    # Checks that need data, made by the gateway (the parser itself never reports these):
    UNKNOWN_OBSERVER = "UNKNOWN_OBSERVER"
    SENDER_MISMATCH = "SENDER_MISMATCH"
    DUPLICATE_MESSAGE = "DUPLICATE_MESSAGE"


Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ParseError:
    """One problem in one SMS.

    ``span`` is ``(start, end)`` in characters of the original text (end exclusive); ``found`` is
    the offending text as the observer typed it; ``params`` holds what a reply needs to say what
    to fix (limits, valid options, the index of a failed check).
    """

    code: ErrorCode
    span: Span
    tag: str | None = None
    found: str = ""
    params: Mapping[str, int | str] = field(default_factory=dict)


class ParserError(Exception):
    """Base of every exception ``parser`` raises (it never raises on SMS text)."""


@dataclass(frozen=True, slots=True)
class FormsProblem:
    """One mistake in a forms file: where (``forms[0].checks[1].expr``, line) and what."""

    location: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.location} (line {self.line})".lstrip() if self.line else self.location
        return f"{where}: {self.message}" if where else self.message


class FormsError(ParserError):
    """The forms file is invalid; ``problems`` lists every mistake found, in file order."""

    def __init__(self, problems: list[FormsProblem], source: str = "forms file") -> None:
        self.problems = tuple(problems)
        self.source = source
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{source} has {len(self.problems)} problem(s):\n{lines}")


class CheckSyntaxError(ParserError):
    """A check expression does not parse; ``position`` is the offset in the expression."""

    def __init__(self, message: str, position: int) -> None:
        self.position = position
        super().__init__(f"{message} (at character {position + 1})")
