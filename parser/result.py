"""The result of parsing one SMS: plain, immutable data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from parser.errors import ParseError

__all__ = ["Answer", "ParseResult"]

Answer = int | tuple[int, ...]
"""An integer for ``choice`` and ``integer`` questions, sorted option codes for ``multi``."""


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What an SMS said and everything wrong with it.

    ``answers`` holds every answer that was valid, even when the message as a whole is not
    (``ok`` is false as soon as there is one error): the audit trail keeps what can be kept.
    """

    text: str
    form: str | None = None
    observer: str | None = None
    answers: Mapping[str, Answer] = field(default_factory=dict)
    comment: str | None = None
    errors: tuple[ParseError, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the message is accepted: it has no error at all."""
        return not self.errors
