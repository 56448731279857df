"""A shortcut for the common case: a plain, valid SMS, read with two regular expressions.

Most election-day traffic is ASCII, one digit run per value, and valid (``OP 1234 A1 B250``,
``op1234a1b250``, ``OP-1234, A=1; B=250.``). ``read_plain`` reads exactly those, and gives up
(returns ``None``) at the first thing it does not handle (non-ASCII, a letter that may stand for
a digit, a value in several runs, any error at all), leaving the message to the full grammar in
``parser.grammar``. It never decides anything the grammar would decide differently: a property
test checks that both give the same result on every message this path accepts.
"""

from __future__ import annotations

import re

from parser.formcodes import form_readings
from parser.forms import Deployment, Form, Question
from parser.result import Answer, ParseResult
from parser.tokens import to_latin

__all__ = ["read_plain"]

# form, observer ID, then (tag, value) pairs; separators optional, each value a single run.
_PLAIN = re.compile(r"[\W_]*([A-Za-z]+)[\W_]*(\d+)((?:[\W_]*[A-Za-z]+[\W_]*\d+)*)[\W_]*")
_ANSWER = re.compile(r"([A-Za-z]+)[\W_]*(\d+)")
# O, o, I or l right after a digit may be a digit itself: that is the grammar's call.
_LOOKALIKE_AFTER_DIGIT = re.compile(r"\d[OoIl]")


def read_plain(
    text: str, body: str, comment: str | None, deployment: Deployment
) -> ParseResult | None:
    """The result for a plain, valid ``body``; ``None`` when the full grammar must decide."""
    typed = body
    if not body.isascii():
        # Typed on a Cyrillic keyboard: plain when every letter is a Latin lookalike.
        body = to_latin(body)
        if not body.isascii():
            return None
    if _LOOKALIKE_AFTER_DIGIT.search(body):
        return None
    match = _PLAIN.fullmatch(body)
    if match is None:
        return None
    code, observer, rest = match.groups()
    form = deployment.by_code.get(code.upper())
    # A Cyrillic form code may also be read by its sound (parser.formcodes).
    if typed is not body and form is not None:
        readings = form_readings(typed[match.start(1) : match.end(1)], deployment.by_code)
        form = form if readings == [form.code] else None
    rule = deployment.observer_id
    if form is None or not rule.min_digits <= len(observer) <= rule.max_digits:
        return None
    answers = _read_answers(form, rest)
    if answers is None or not _complete_and_consistent(form, answers):
        return None
    return ParseResult(
        text=text, form=form.code, observer=observer, answers=answers, comment=comment
    )


def _read_answers(form: Form, rest: str) -> dict[str, Answer] | None:
    answers: dict[str, Answer] = {}
    for tag, digits in _ANSWER.findall(rest.upper()):
        question = form.by_tag.get(tag)
        value = None if question is None else _read_run(question, digits)
        if value is None or answers.setdefault(tag, value) != value:
            return None
    return answers


def _read_run(question: Question, digits: str) -> Answer | None:
    if len(digits) > 9:
        return None
    if question.type == "integer":
        number = int(digits)
        return number if question.lowest <= number <= question.highest else None
    if question.type == "choice":
        code = int(digits)
        return code if code in question.options else None
    if not question.single_digit_options:
        return None
    codes = {int(digit) for digit in digits}
    return tuple(sorted(codes)) if codes <= question.options.keys() else None


def _complete_and_consistent(form: Form, answers: dict[str, Answer]) -> bool:
    answered = answers.keys()
    if not answered >= set(form.required_tags):
        return False
    return all(check.expr.holds(answers) for check in form.checks if answered >= check.expr.tag_set)
