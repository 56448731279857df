"""The reply an observer gets for one SMS, in Kyrgyz, Russian or English.

A reply is read on a basic phone, often at night after a long day at the station. It says first
whether the report counted; if not, what to fix, in the observer's words and quoting what they
typed (``unknown form ОП``, ``not understood: Рахмат``). It never echoes the whole message back.

Problems of one kind make one item (``missing: E, F, G, H``, ``not understood: Спасибо, Айгуль``),
and items come in the order of how much they change the report: the form and the observer ID,
then missing answers, then values, checks and text that was not understood. The reply fits one SMS
segment by construction (``parser.fitting``): whole items are left out and counted, never cut.
Accepted and already-received replies are never shortened; the forms loader refuses forms whose
replies could not fit (``parser.limits``). The sentences themselves are in ``parser.wording``.
"""

from __future__ import annotations

from collections.abc import Sequence

from parser.errors import ErrorCode, ParseError
from parser.fitting import fit_items
from parser.forms import Deployment, text_in
from parser.result import ParseResult
from parser.segments import is_gsm7
from parser.tokens import to_latin
from parser.wording import (
    counted,
    duplicate_reply,
    is_counted,
    ok_reply,
    rejected_header,
    reply_language,
    shorter,
    wording,
)

__all__ = ["describe_error", "render_incomplete", "render_reply", "reply_items"]

# Long enough for any code, tag or number an observer means; longer is a sentence.
_QUOTE_MAX = 15

# How much a problem changes the report, most first.
_RANKS = {
    ErrorCode.EMPTY_MESSAGE: 0,
    ErrorCode.UNKNOWN_FORM: 0,
    ErrorCode.MISSING_OBSERVER_ID: 1,
    ErrorCode.INVALID_OBSERVER_ID: 1,
    ErrorCode.UNKNOWN_OBSERVER: 1,
    ErrorCode.SENDER_MISMATCH: 1,
    ErrorCode.MISSING_REQUIRED: 2,
    ErrorCode.MISSING_VALUE: 2,
    ErrorCode.INVALID_OPTION: 3,
    ErrorCode.OUT_OF_RANGE: 3,
    ErrorCode.AMBIGUOUS_VALUE: 3,
    ErrorCode.DUPLICATE_QUESTION: 3,
    ErrorCode.UNKNOWN_QUESTION: 3,
    ErrorCode.CHECK_FAILED: 4,
    ErrorCode.UNEXPECTED_TEXT: 5,
    ErrorCode.DUPLICATE_MESSAGE: 6,
}
# Quoted in Latin letters in English replies when they are only lookalikes: they are codes.
_CODE_QUOTES = frozenset({ErrorCode.UNKNOWN_FORM, ErrorCode.UNKNOWN_QUESTION})


def render_reply(result: ParseResult, deployment: Deployment, language: str) -> str:
    """The SMS to send back for ``result``, in ``language`` (else the deployment's default)."""
    language = reply_language(language, deployment.default_language)
    if result.ok:
        return ok_reply(language, result.form or "", result.observer or "", len(result.answers))
    if {error.code for error in result.errors} == {ErrorCode.DUPLICATE_MESSAGE}:
        return duplicate_reply(language, result.form or "", result.observer or "")
    return fit_items(
        rejected_header(language, result.form, result.observer),
        reply_items(result, deployment, language),
        lambda count: counted(language, "dropped", count).format(count=count),
        wording(language, "fix"),
    )


def render_incomplete(deployment: Deployment, language: str) -> str:
    """The SMS to send back when only some parts of a multipart SMS arrived: no report was
    stored, so the observer must hear it did not count and send it again."""
    return wording(reply_language(language, deployment.default_language), "incomplete")


def reply_items(
    result: ParseResult, deployment: Deployment, language: str
) -> list[tuple[str, ...]]:
    """The items of a rejected report's reply, in order; each as variants, most helpful first."""
    language = reply_language(language, deployment.default_language)
    groups: dict[object, list[ParseError]] = {}
    for index, error in enumerate(result.errors):
        key = error.code if is_counted(error.code.value) else index
        groups.setdefault(key, []).append(error)
    ordered = sorted(groups.values(), key=lambda group: _rank(group[0]))  # stable: SMS order
    describer = _Describer(result, deployment, language)
    return [describer.variants(group) for group in ordered]


def describe_error(
    error: ParseError, result: ParseResult, deployment: Deployment, language: str
) -> str:
    """One problem in the observer's words: what is wrong and, where we can, how to fix it."""
    language = reply_language(language, deployment.default_language)
    return _Describer(result, deployment, language).variants([error])[0]


def _rank(error: ParseError) -> int:
    if error.code is ErrorCode.AMBIGUOUS_VALUE and error.tag is None:
        return 0 if "forms" in error.params else 1  # the form code or the observer ID
    return _RANKS[error.code]


class _Describer:
    """Writes the items of one result in one language."""

    def __init__(self, result: ParseResult, deployment: Deployment, language: str) -> None:
        self.result = result
        self.deployment = deployment
        self.language = language

    def variants(self, errors: Sequence[ParseError]) -> tuple[str, ...]:
        """One item for ``errors`` (several only of a counted kind), most helpful variant first."""
        first = errors[0]
        if first.code is ErrorCode.CHECK_FAILED:
            return (self._check_message(first),)
        if is_counted(first.code.value):
            return self._list_item(errors)
        key = _text_key(first)
        fields = self._fields(first)
        texts = [wording(self.language, key).format(**fields)]
        short = shorter(self.language, key)
        if short is not None:
            texts.append(short.format(**fields))
        return tuple(texts)

    def _check_message(self, error: ParseError) -> str:
        form = self.deployment.form(self.result.form or "")
        if form is None:  # a hand-made result; the parser sets the form with every check
            return error.code.value
        return text_in(form.checks[int(error.params["check"])].message, self.language)

    def _list_item(self, errors: Sequence[ParseError]) -> tuple[str, ...]:
        code = errors[0].code
        if code in (ErrorCode.UNKNOWN_QUESTION, ErrorCode.UNEXPECTED_TEXT):
            names = [self._quote(error.found, code) for error in errors]
        else:
            names = [error.tag or "" for error in errors]
        lists = [joiner.join(dict.fromkeys(names)) for joiner in (", ", ",")]
        template = counted(self.language, code.value, len(set(names)))
        texts = [template.format(list=names) for names in lists]
        if code is ErrorCode.UNEXPECTED_TEXT and errors[-1].params.get("trailing"):
            # A signature or a greeting: where comments go is the fix, what was typed a detail.
            comments = wording(self.language, "comments")
            quoted = wording(self.language, "comments:quoted")
            texts = [
                *(text + comments for text in texts),
                *(quoted.format(list=names) for names in lists),
                wording(self.language, "comments:alone"),
                *texts,
            ]
        return tuple(dict.fromkeys(texts))

    def _fields(self, error: ParseError) -> dict[str, object]:
        high = int(error.params.get("max", 0))
        return {
            "tag": error.tag or "",
            "form": self.result.form or "",
            "observer": self.result.observer or "",
            "codes": ", ".join(form.code for form in self.deployment.forms),
            "example": self._example(),
            "digits": _digits(error),
            "digit_word": counted(self.language, "digit", high),
            **error.params,
            "found": self._quote(error.found, error.code),
        }

    def _quote(self, found: str, code: ErrorCode) -> str:
        """What the observer typed, as typed; Latin in English when it is a code of lookalikes."""
        if self.language == "en" and code in _CODE_QUOTES and not is_gsm7(found):
            latin = to_latin(found)
            if is_gsm7(latin):
                found = latin.upper()
        if len(found) <= _QUOTE_MAX:
            return found
        # A sentence: its first words, whole where they fit.
        cut = found.rfind(" ", 0, _QUOTE_MAX)
        ellipsis = "..." if is_gsm7(found) else "…"
        return found[: cut if cut > 0 else _QUOTE_MAX].rstrip(" ,.;:") + ellipsis

    def _example(self) -> str:
        form = self.deployment.forms[0]
        question = form.questions[0]
        value = min(question.options) if question.options else question.lowest
        observer = "1234567890"[: max(self.deployment.observer_id.min_digits, 3)]
        return f"{form.code} {observer} {question.tag}{value}"


def _text_key(error: ParseError) -> str:
    code = error.code
    if code is ErrorCode.DUPLICATE_MESSAGE:
        return "duplicate"
    if code is ErrorCode.UNKNOWN_FORM and not error.found:
        return "UNKNOWN_FORM:start"
    if code is ErrorCode.OUT_OF_RANGE:
        return "OUT_OF_RANGE:max" if "max" in error.params else "OUT_OF_RANGE:min"
    if code is ErrorCode.AMBIGUOUS_VALUE:
        for detail in ("hint", "split", "separate", "forms"):
            if detail in error.params:
                return f"AMBIGUOUS_VALUE:{detail}"
        return "AMBIGUOUS_VALUE" if error.tag else "AMBIGUOUS_VALUE:id"
    return code.value


def _digits(error: ParseError) -> str:
    low, high = error.params.get("min"), error.params.get("max")
    return str(low) if low == high else f"{low}-{high}"
