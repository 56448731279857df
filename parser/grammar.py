"""The grammar of an observer's SMS, and ``parse_message``, which never raises.

A message names a form, the observer, and answers; anything after the first ``@`` is a free
comment, kept verbatim. Case does not matter, separators (spaces, punctuation) are optional
between tokens, and Cyrillic lookalikes of Latin letters count as Latin (see ``parser.tokens``)::

    message     = form observer_id { answer } [ "@" comment ]
    form        = LETTERS                       a form code of the deployment, by look or by
                                                sound (parser.formcodes)
    observer_id = number { number }             every digit run before the first tag
    answer      = tag value
    tag         = LETTERS
    value       = number { number }             how many runs a value may have: parser.answers
    number      = DIGITS { DIGITS | lookalike } joined, without separators
    lookalike   = "O" | "o" | "I" | "l"         read as 0 or 1 directly after or inside a number,
                                                when the form has no question with that tag

A lookalike is read as a digit only when exactly one reading of the letters that follow a number
leaves valid tags; when two readings do (``B1OC2`` with tags ``C`` and ``OC``), the value is
AMBIGUOUS_VALUE rather than a guess. Each ``_parse_x`` method's docstring names the rule it reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import NamedTuple

from parser.answers import read_value
from parser.errors import ErrorCode, ParseError
from parser.fastpath import read_plain
from parser.formcodes import form_readings
from parser.forms import Deployment, Form
from parser.result import Answer, ParseResult
from parser.text import NormalizedText, normalize
from parser.tokens import Kind, Token, tokenize

__all__ = ["parse_full", "parse_message", "split_comment"]

_LOOKALIKE_DIGITS = {"O": "0", "o": "0", "I": "1", "l": "1"}
_COMMENT_MARK = re.compile("[@＠﹫]")  # and the full-width and small forms NFKC reads as "@"


def parse_message(text: str, deployment: Deployment) -> ParseResult:
    """Parse and validate one SMS against ``deployment``'s forms.

    Never raises on any text: every problem is in the result's ``errors``. Plain valid messages
    take a shortcut (``parser.fastpath``) that gives the same result as ``parse_full``.
    """
    body, comment = split_comment(text)
    plain = read_plain(text, body, comment, deployment)
    if plain is not None:
        return plain
    return _MessageParser(text, body, comment, deployment).parse()


def parse_full(text: str, deployment: Deployment) -> ParseResult:
    """``parse_message`` without the shortcut: the whole grammar, for every message."""
    body, comment = split_comment(text)
    return _MessageParser(text, body, comment, deployment).parse()


def split_comment(text: str) -> tuple[str, str | None]:
    """The message body and the comment after the first ``@`` (trimmed; ``None`` if empty)."""
    mark = _COMMENT_MARK.search(text)
    if mark is None:
        return text, None
    return text[: mark.start()], text[mark.end() :].strip() or None


@dataclass(slots=True)
class _Number:
    digits: str
    start: int
    end: int
    ambiguous: bool = False


class _Tag(NamedTuple):
    tag: str
    start: int
    end: int


_Item = _Number | _Tag


class _MessageParser:
    def __init__(self, text: str, body: str, comment: str | None, deployment: Deployment) -> None:
        self.text = text
        self.comment = comment
        self.body_end = len(body)
        self.deployment = deployment
        # Only the body is normalised: the comment is kept verbatim, and is often the longest
        # (and the only non-ASCII) part of a message.
        self.norm: NormalizedText = normalize(body)
        self.errors: list[ParseError] = []
        self.answers: dict[str, Answer] = {}
        self.spans: dict[str, tuple[int, int]] = {}
        self.mentioned: set[str] = set()
        self.conflicted: set[str] = set()
        self.last_part_end = 0  # in the normalised text: where the last code or value read ends

    def parse(self) -> ParseResult:
        """message = form observer_id { answer } [ "@" comment ]"""
        tokens = tokenize(self.norm)
        form = self._parse_form(tokens)
        observer = None
        if form is not None:
            items = self._numbers_and_tags(self._significant(tokens[1:]), form)
            observer, rest = self._parse_observer_id(items, tokens[0])
            self._parse_answers(rest, form)
            self._check_whole_form(form, (self.body_end, self.body_end))
            self._mark_trailing_text()
        return ParseResult(
            text=self.text,
            form=None if form is None else form.code,
            observer=observer,
            answers=self.answers,
            comment=self.comment,
            errors=tuple(self.errors),
        )

    def _significant(self, tokens: list[Token]) -> list[Token]:
        """Report OTHER words as unexpected text; they separate what is around them.

        Digits joined to such a word are its own (``Д9``: a tag typed with a letter we do not
        read), not more digits of the answer before it.
        """
        kept: list[Token] = []
        unexpected: list[int] | None = None  # [start, end] of the word being reported
        for token in tokens:
            if unexpected is not None and token.joined and token.kind is Kind.DIGITS:
                unexpected[1] = token.end
                continue
            after_other = unexpected is not None
            if unexpected is not None:
                self._unexpected(*unexpected)
            unexpected = [token.start, token.end] if token.kind is Kind.OTHER else None
            if unexpected is None:
                kept.append(token._replace(joined=False) if after_other else token)
        if unexpected is not None:
            self._unexpected(*unexpected)
        return kept

    def _unexpected(self, start: int, end: int) -> None:
        self._error(ErrorCode.UNEXPECTED_TEXT, start, end, found=self.norm.original(start, end))

    def _parse_form(self, tokens: list[Token]) -> Form | None:
        """form = LETTERS

        A message that does not start with a form is one problem, whatever follows: the rest
        cannot be read without the form.
        """
        if not tokens:
            self._error(ErrorCode.EMPTY_MESSAGE, 0, len(self.norm.text))
            return None
        first = tokens[0]
        typed = self.norm.text[first.start : first.end]
        codes = form_readings(typed, self.deployment.by_code) if first.kind is Kind.LETTERS else []
        if len(codes) == 1:
            self.last_part_end = first.end
            return self.deployment.by_code[codes[0]]
        found = self.norm.original(first.start, first.end)
        if len(codes) > 1:
            params: dict[str, int | str] = {"forms": "/".join(codes)}
            self._error(
                ErrorCode.AMBIGUOUS_VALUE, first.start, first.end, found=found, params=params
            )
        elif first.kind is Kind.DIGITS or all(token.kind is not Kind.DIGITS for token in tokens):
            # Digits first, or text with no number at all (a greeting, a sentence): no report
            # was meant, so name no "unknown form" but say how a report starts.
            self._error(ErrorCode.UNKNOWN_FORM, first.start, first.end)
        else:
            self._error(ErrorCode.UNKNOWN_FORM, first.start, first.end, found=found)
        return None

    def _numbers_and_tags(self, tokens: list[Token], form: Form) -> list[_Item]:
        """number = DIGITS { DIGITS | lookalike }; everything else is a tag."""
        items: list[_Item] = []
        for token in tokens:
            last = items[-1] if items else None
            if not (isinstance(last, _Number) and token.joined):
                items.append(
                    _Number(token.value, token.start, token.end)
                    if token.kind is Kind.DIGITS
                    else _Tag(token.value, token.start, token.end)
                )
            elif token.kind is Kind.DIGITS:
                last.digits += token.value
                last.end = token.end
            else:
                items.extend(_read_lookalikes(last, token, form.tags))
        return items

    def _parse_observer_id(
        self, items: list[_Item], form_token: Token
    ) -> tuple[str | None, list[_Item]]:
        """observer_id = number { number }"""
        numbers: list[_Number] = []
        for item in items:
            if not isinstance(item, _Number):
                break
            numbers.append(item)
        rest = items[len(numbers) :]
        if not numbers:
            self._error(ErrorCode.MISSING_OBSERVER_ID, form_token.end, form_token.end)
            return None, rest
        start, end = numbers[0].start, numbers[-1].end
        self.last_part_end = end
        if any(number.ambiguous for number in numbers):
            self._error(ErrorCode.AMBIGUOUS_VALUE, start, end, found=self.norm.original(start, end))
            return None, rest
        digits = "".join(number.digits for number in numbers)
        rule = self.deployment.observer_id
        if not rule.min_digits <= len(digits) <= rule.max_digits:
            self._error(
                ErrorCode.INVALID_OBSERVER_ID,
                start,
                end,
                found=digits,
                params={"min": rule.min_digits, "max": rule.max_digits},
            )
            return None, rest
        return digits, rest

    def _parse_answers(self, items: list[_Item], form: Form) -> None:
        """{ answer }, answer = tag value"""
        tag: _Tag | None = None
        runs: list[_Number] = []
        for item in items:
            if isinstance(item, _Number):
                runs.append(item)
                continue
            if tag is not None:
                self._parse_answer(tag, runs, form)
            tag, runs = item, []
        if tag is not None:
            self._parse_answer(tag, runs, form)

    def _parse_answer(self, tag: _Tag, runs: list[_Number], form: Form) -> None:
        """answer = tag value; value = number { number }"""
        end = runs[-1].end if runs else tag.end
        question = form.by_tag.get(tag.tag)
        if question is None and not runs and len(tag.tag) > form.longest_tag:
            # A word with no value, longer than any tag, is text, not a code (a signature,
            # "Рахмат"): quoted as typed.
            self._unexpected(tag.start, tag.end)
            return
        self.last_part_end = end
        if question is None:
            typed = self.norm.original(tag.start, tag.end)
            self._error(ErrorCode.UNKNOWN_QUESTION, tag.start, end, tag=tag.tag, found=typed)
            return
        self.mentioned.add(question.tag)
        if not runs:
            self._error(ErrorCode.MISSING_VALUE, tag.start, tag.end, tag=question.tag)
            return
        if len(runs) == 1:
            if runs[0].ambiguous:
                self._ambiguous(tag, runs, end, question.tag)
                return
            reading = read_value(question, [runs[0].digits])
        elif any(run.ambiguous for run in runs):
            self._ambiguous(tag, runs, end, question.tag)
            return
        else:
            reading = read_value(question, [run.digits for run in runs])
        if reading.error is not None:
            self._error(
                reading.error,
                tag.start,
                end,
                tag=question.tag,
                found=reading.found,
                params=reading.params or {},
            )
        elif reading.value is not None:
            self._record(question.tag, reading.value, tag.start, end)

    def _ambiguous(self, tag: _Tag, runs: list[_Number], end: int, question_tag: str) -> None:
        self._error(
            ErrorCode.AMBIGUOUS_VALUE,
            tag.start,
            end,
            tag=question_tag,
            found=self.norm.original(runs[0].start, end),
        )

    def _record(self, tag: str, value: Answer, start: int, end: int) -> None:
        if tag in self.conflicted or self.answers.get(tag, value) != value:
            self._error(
                ErrorCode.DUPLICATE_QUESTION,
                start,
                end,
                tag=tag,
                found=self.norm.original(start, end),
            )
            self.conflicted.add(tag)
            self.answers.pop(tag, None)
            self.spans.pop(tag, None)
            return
        self.answers.setdefault(tag, value)
        self.spans.setdefault(tag, self.norm.span(start, end))

    def _check_whole_form(self, form: Form, at_end: tuple[int, int]) -> None:
        """Required questions present; every check whose tags are all answered holds."""
        for tag in form.required_tags:
            if tag not in self.mentioned:
                self.errors.append(ParseError(ErrorCode.MISSING_REQUIRED, at_end, tag))
        answered = self.answers.keys()
        for index, check in enumerate(form.checks):
            tags = check.expr.tags
            if not answered >= check.expr.tag_set or check.expr.holds(self.answers):
                continue
            spans = [self.spans[tag] for tag in tags] or [at_end]
            span = (min(s for s, _ in spans), max(e for _, e in spans))
            self.errors.append(
                ParseError(
                    ErrorCode.CHECK_FAILED, span, tags[0] if tags else None, params={"check": index}
                )
            )

    def _mark_trailing_text(self) -> None:
        """Flag unexpected text after the last code or value: a comment written without ``@``."""
        last_part_end = self.norm.span(self.last_part_end, self.last_part_end)[0]
        self.errors = [
            replace(error, params={"trailing": 1})
            if error.code is ErrorCode.UNEXPECTED_TEXT and error.span[0] >= last_part_end
            else error
            for error in self.errors
        ]

    def _error(
        self,
        code: ErrorCode,
        start: int,
        end: int,
        *,
        tag: str | None = None,
        found: str = "",
        params: dict[str, int | str] | None = None,
    ) -> None:
        self.errors.append(ParseError(code, self.norm.span(start, end), tag, found, params or {}))


def _read_lookalikes(number: _Number, token: Token, tags: frozenset[str]) -> list[_Item]:
    """Letters directly after a number: digits that look like letters, then maybe a tag."""
    readings = _lookalike_readings(token, tags)
    if len(readings) > 1:
        number.ambiguous = True
        number.end = token.end
        return []
    if not readings:
        return [_Tag(token.value, token.start, token.end)]
    count = readings[0]
    number.digits += "".join(_LOOKALIKE_DIGITS[char] for char in token.typed[:count])
    number.end = token.start + count
    if count == len(token.value):
        return []
    return [_Tag(token.value[count:], token.start + count, token.end)]


def _lookalike_readings(token: Token, tags: frozenset[str]) -> list[int]:
    """How many leading letters may be digits, for each reading that leaves a valid tag."""
    longest = 0
    for char in token.typed:
        if char not in _LOOKALIKE_DIGITS or char.upper() in tags:
            break
        longest += 1
    return [
        count
        for count in range(longest + 1)
        if count == len(token.value) or token.value[count:] in tags
    ]
