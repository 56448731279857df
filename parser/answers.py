"""Reading one question's value from the digit runs that follow its tag.

A value arrives as one or more runs of digits: ``B250`` is one run, ``C 1 3 4`` three. What the
runs may mean depends on the question::

    integer, choice = DIGITS                  one run: digits are never joined across separators
    multi           = DIGITS { sep DIGITS }   option codes, repeated ones collapse

For a ``multi`` question whose option codes are all one digit, every digit is a code
(``C134`` = {1, 3, 4}). With two-digit codes a separated run is one code, and a lone joined run is
accepted only when exactly one way of splitting it gives valid codes; otherwise the reading is
not unique and we never guess.
"""

from __future__ import annotations

from typing import NamedTuple

from parser.errors import ErrorCode
from parser.forms import Question
from parser.result import Answer

__all__ = ["Reading", "read_value"]

_MAX_SPLIT_DIGITS = 60  # longer joined runs are not a list of options anyone typed


class Reading(NamedTuple):
    """A value, or the code of what is wrong with it and what a reply needs to say so."""

    value: Answer | None = None
    error: ErrorCode | None = None
    found: str = ""
    params: dict[str, int | str] | None = None


def read_value(question: Question, runs: list[str]) -> Reading:
    """Read ``runs`` (digit strings, separated in the SMS) as the answer to ``question``."""
    if question.type == "multi":
        return _read_multi(question, runs)
    if len(runs) > 1:
        return _read_split(question, runs)
    return _read_single(question, runs[0])


def _read_single(question: Question, digits: str) -> Reading:
    if question.type == "integer":
        return _read_integer(question, digits)
    return _read_choice(question, digits)


def _read_split(question: Question, runs: list[str]) -> Reading:
    """Digits never join across separators; suggest the joined value only when it is valid."""
    joined = "".join(runs)
    # A hint the observer follows must not lead to a second rejection (B 1 9 is not B19 when
    # B's options are 1 and 2): without a valid joined value the reply says how to write one.
    valid = _read_single(question, joined).error is None
    return Reading(
        error=ErrorCode.AMBIGUOUS_VALUE,
        found=" ".join(runs),
        params={"hint": f"{question.tag}{joined}"} if valid else {"split": 1},
    )


def _number(digits: str, limit: int) -> int | None:
    """``int(digits)`` when it has at most as many digits as ``limit``; ``None`` for longer."""
    significant = digits.lstrip("0")
    if len(significant) > len(str(limit)):
        return None
    return int(significant or "0")


def _read_integer(question: Question, digits: str) -> Reading:
    number = _number(digits, question.highest)
    if number is None or number > question.highest:
        return Reading(error=ErrorCode.OUT_OF_RANGE, found=digits, params={"max": question.highest})
    if number < question.lowest:
        return Reading(error=ErrorCode.OUT_OF_RANGE, found=digits, params={"min": question.lowest})
    return Reading(value=number)


def _read_choice(question: Question, digits: str) -> Reading:
    code = _number(digits, 999)
    if code is None or code not in question.options:
        return _invalid_option(question, digits)
    return Reading(value=code)


def _invalid_option(question: Question, found: str) -> Reading:
    return Reading(
        error=ErrorCode.INVALID_OPTION, found=found, params={"options": _describe_codes(question)}
    )


def _read_multi(question: Question, runs: list[str]) -> Reading:
    if question.single_digit_options:
        codes = [int(digit) for digit in "".join(runs)]
        wrong = "".join(sorted({str(code) for code in codes if code not in question.options}))
        if wrong:
            return _invalid_option(question, wrong)
        return Reading(value=tuple(sorted(set(codes))))
    if len(runs) > 1:
        return _read_separated_codes(question, runs)
    splits = _splits(runs[0], question)
    if not splits:
        return _invalid_option(question, runs[0])
    if len(splits) > 1:
        # Either split could be what was meant: say to separate the codes, suggest neither.
        return Reading(error=ErrorCode.AMBIGUOUS_VALUE, found=runs[0], params={"separate": 1})
    return Reading(value=tuple(sorted(set(splits[0]))))


def _read_separated_codes(question: Question, runs: list[str]) -> Reading:
    codes = [_number(run, 999) for run in runs]
    wrong = [run for run, code in zip(runs, codes, strict=True) if code not in question.options]
    if wrong:
        return _invalid_option(question, " ".join(wrong))
    return Reading(value=tuple(sorted({code for code in codes if code is not None})))


def _splits(run: str, question: Question) -> list[tuple[int, ...]]:
    """Up to two ways of cutting ``run`` into valid option codes (two is enough to know)."""
    if len(run) > _MAX_SPLIT_DIGITS:
        return []
    widths = sorted({len(str(code)) for code in question.options})
    # ways[i]: up to two splits of run[i:]; filled from the end so each suffix is solved once.
    ways: list[list[tuple[int, ...]]] = [[] for _ in range(len(run))] + [[()]]
    for start in range(len(run) - 1, -1, -1):
        for width in widths:
            piece = run[start : start + width]
            if len(piece) < width or piece[0] == "0" or int(piece) not in question.options:
                continue
            ways[start].extend((int(piece), *rest) for rest in ways[start + width])
            del ways[start][2:]
    return ways[0]


def _describe_codes(question: Question) -> str:
    """``1-4`` for a contiguous set of codes, else ``1,2,5``."""
    codes = sorted(question.options)
    if len(codes) > 2 and codes == list(range(codes[0], codes[-1] + 1)):
        return f"{codes[0]}-{codes[-1]}"
    return ",".join(str(code) for code in codes)
