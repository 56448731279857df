"""Every text an observer gets back, in Kyrgyz, Russian and English, in one place.

A reply is read on a basic phone, often at night after a long day at the station: it says first
whether the report counted, then what to fix, in the observer's words (``B: 9000 is above 5000``,
``unknown question ZZ``), and it never echoes the whole message back. It fits one SMS segment
(160 GSM-7 characters, 70 for Cyrillic): problems are added while they fit, the rest counted.
"""

from __future__ import annotations

from parser.errors import ErrorCode, ParseError
from parser.forms import Deployment, Form, text_in
from parser.result import ParseResult
from parser.segments import fits_one_segment, is_gsm7

__all__ = ["describe_error", "render_incomplete", "render_reply"]

_FOUND_MAX = 12

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "ok": "OK: {form} {observer} received ({count} answered). Thank you!",
        "rejected": "{who} NOT saved: ",
        "rejected_anonymous": "NOT saved: ",
        "more": " (+{count} more)",
        "fix": " Please fix and send again.",
        "EMPTY_MESSAGE": "empty SMS. Example: {example}",
        "UNKNOWN_FORM": "unknown form {found}; forms: {codes}",
        "UNKNOWN_FORM:start": "start with a form code: {codes}",
        "MISSING_OBSERVER_ID": "add your observer ID after {form}",
        "INVALID_OBSERVER_ID": "ID {found} must have {digits} digits",
        "UNKNOWN_QUESTION": "unknown question {found}",
        "MISSING_VALUE": "{tag}: answer missing",
        "INVALID_OPTION": "{tag}: no option {found} (use {options})",
        "OUT_OF_RANGE:max": "{tag}: {found} is above {max}",
        "OUT_OF_RANGE:min": "{tag}: {found} is below {min}",
        "DUPLICATE_QUESTION": "{tag} sent twice with different answers",
        "MISSING_REQUIRED": "{tag} is required",
        "UNEXPECTED_TEXT": "not understood: {found}",
        "AMBIGUOUS_VALUE:hint": "{tag}: unclear, write {hint}",
        "AMBIGUOUS_VALUE": "{tag}: {found} is unclear, use digits only",
        "AMBIGUOUS_VALUE:id": "ID {found} is unclear, use digits only",
        "UNKNOWN_OBSERVER": "observer ID {found} is not registered",
        "SENDER_MISMATCH": "this phone is not registered for ID {found}",
        "duplicate": "Already received: {form} {observer}. Thank you!",
    },
    "ru": {
        "ok": "Принято: {form} {observer}, ответов: {count}. Спасибо!",
        "rejected": "{who} НЕ принято: ",
        "rejected_anonymous": "НЕ принято: ",
        "more": " (+ещё {count})",
        "fix": " Исправьте и отправьте снова.",
        "EMPTY_MESSAGE": "пустое SMS. Пример: {example}",
        "UNKNOWN_FORM": "нет формы {found}; формы: {codes}",
        "UNKNOWN_FORM:start": "начните с кода формы: {codes}",
        "MISSING_OBSERVER_ID": "после {form} укажите свой номер",
        "INVALID_OBSERVER_ID": "в номере {found} должно быть {digits} цифр",
        "UNKNOWN_QUESTION": "нет вопроса {found}",
        "MISSING_VALUE": "{tag}: нет ответа",
        "INVALID_OPTION": "{tag}: нет варианта {found} (есть {options})",
        "OUT_OF_RANGE:max": "{tag}: {found} больше {max}",
        "OUT_OF_RANGE:min": "{tag}: {found} меньше {min}",
        "DUPLICATE_QUESTION": "{tag} дважды с разными ответами",
        "MISSING_REQUIRED": "нужен ответ на {tag}",
        "UNEXPECTED_TEXT": "непонятно: {found}",
        "AMBIGUOUS_VALUE:hint": "{tag}: неясно, пишите {hint}",
        "AMBIGUOUS_VALUE": "{tag}: {found} неясно, пишите только цифры",
        "AMBIGUOUS_VALUE:id": "номер {found} неясен, пишите только цифры",
        "UNKNOWN_OBSERVER": "наблюдатель {found} не зарегистрирован",
        "SENDER_MISMATCH": "этот телефон не записан за номером {found}",
        "duplicate": "Уже получено: {form} {observer}. Спасибо!",
    },
    "ky": {
        "ok": "Кабыл алынды: {form} {observer}, {count} жооп. Рахмат!",
        "rejected": "{who} кабыл алынбады: ",
        "rejected_anonymous": "Кабыл алынбады: ",
        "more": " (+дагы {count})",
        "fix": " Оңдоп, кайра жөнөтүңүз.",
        "EMPTY_MESSAGE": "SMS бош. Мисал: {example}",
        "UNKNOWN_FORM": "{found} деген форма жок; формалар: {codes}",
        "UNKNOWN_FORM:start": "форманын кодунан баштаңыз: {codes}",
        "MISSING_OBSERVER_ID": "{form} кодунан кийин өз номериңизди жазыңыз",
        "INVALID_OBSERVER_ID": "{found} номеринде {digits} цифра болушу керек",
        "UNKNOWN_QUESTION": "{found} деген суроо жок",
        "MISSING_VALUE": "{tag}: жооп жок",
        "INVALID_OPTION": "{tag}: {found} деген вариант жок ({options})",
        "OUT_OF_RANGE:max": "{tag}: {found} өтө көп (эң көбү {max})",
        "OUT_OF_RANGE:min": "{tag}: {found} өтө аз (эң азы {min})",
        "DUPLICATE_QUESTION": "{tag} эки жолу ар башка жазылды",
        "MISSING_REQUIRED": "{tag} суроосуна жооп керек",
        "UNEXPECTED_TEXT": "түшүнүксүз: {found}",
        "AMBIGUOUS_VALUE:hint": "{tag}: так эмес, {hint} деп жазыңыз",
        "AMBIGUOUS_VALUE": "{tag}: {found} так эмес, цифра менен гана жазыңыз",
        "AMBIGUOUS_VALUE:id": "{found} номери так эмес, цифра менен гана жазыңыз",
        "UNKNOWN_OBSERVER": "{found} номерлүү байкоочу катталган эмес",
        "SENDER_MISMATCH": "бул телефон {found} номерине катталган эмес",
        "duplicate": "Мурда эле алынган: {form} {observer}. Рахмат!",
    },
}


# A multipart SMS whose other parts never came: no report is stored, so the observer must hear
# that it did not count, or they will never send it again.
_INCOMPLETE: dict[str, str] = {
    "en": "NOT saved: only part of your SMS arrived. Please send the whole SMS again.",
    "ru": "НЕ принято: пришла только часть SMS. Отправьте всё SMS снова.",
    "ky": "Кабыл алынбады: SMS толук келген жок. Бүт SMSти кайра жөнөтүңүз.",
}


def render_incomplete(deployment: Deployment, language: str) -> str:
    """The SMS to send back when only some parts of a multipart SMS arrived."""
    return (
        _INCOMPLETE.get(language)
        or _INCOMPLETE.get(deployment.default_language)
        or _INCOMPLETE["en"]
    )


def render_reply(result: ParseResult, deployment: Deployment, language: str) -> str:
    """The SMS to send back for ``result``, in ``language`` (else the deployment's default)."""
    texts = _texts(language, deployment)
    if result.ok:
        return texts["ok"].format(
            form=result.form, observer=result.observer, count=len(result.answers)
        )
    if {error.code for error in result.errors} == {ErrorCode.DUPLICATE_MESSAGE}:
        return texts["duplicate"].format(form=result.form, observer=result.observer)
    items = [describe_error(error, result, deployment, language) for error in result.errors]
    who = " ".join(part for part in (result.form, result.observer) if part)
    header = texts["rejected"].format(who=who) if who else texts["rejected_anonymous"]
    return _fit(header, items, texts)


def describe_error(
    error: ParseError, result: ParseResult, deployment: Deployment, language: str
) -> str:
    """One problem in the observer's words: what is wrong and, where we can, how to fix it."""
    texts = _texts(language, deployment)
    form = deployment.form(result.form) if result.form else None
    if error.code is ErrorCode.CHECK_FAILED and form is not None:
        check = form.checks[int(error.params["check"])]
        return text_in(check.message, language)
    found = error.found if len(error.found) <= _FOUND_MAX else error.found[: _FOUND_MAX - 3] + "..."
    fields: dict[str, object] = {
        "tag": error.tag or "",
        "found": found,
        "form": result.form or "",
        "observer": result.observer or "",
        "codes": ", ".join(f.code for f in deployment.forms),
        "example": _example(deployment),
        "digits": _digits(error),
        **error.params,
    }
    return texts[_text_key(error)].format(**fields)


def _texts(language: str, deployment: Deployment) -> dict[str, str]:
    return _TEXTS.get(language) or _TEXTS.get(deployment.default_language) or _TEXTS["en"]


def _text_key(error: ParseError) -> str:
    code = error.code
    if code is ErrorCode.DUPLICATE_MESSAGE:
        return "duplicate"
    if code is ErrorCode.UNKNOWN_FORM and not error.found:
        return "UNKNOWN_FORM:start"
    if code is ErrorCode.OUT_OF_RANGE:
        return "OUT_OF_RANGE:max" if "max" in error.params else "OUT_OF_RANGE:min"
    if code is ErrorCode.AMBIGUOUS_VALUE:
        if "hint" in error.params:
            return "AMBIGUOUS_VALUE:hint"
        return "AMBIGUOUS_VALUE" if error.tag else "AMBIGUOUS_VALUE:id"
    return code.value


def _digits(error: ParseError) -> str:
    low, high = error.params.get("min"), error.params.get("max")
    return str(low) if low == high else f"{low}-{high}"


def _example(deployment: Deployment) -> str:
    form: Form = deployment.forms[0]
    question = form.questions[0]
    value = min(question.options) if question.options else question.lowest
    observer = "1234567890"[: max(deployment.observer_id.min_digits, 3)]
    return f"{form.code} {observer} {question.tag}{value}"


def _fit(header: str, items: list[str], texts: dict[str, str]) -> str:
    """Header and as many problems as fit one segment, the rest counted, then the advice."""
    shown = 1
    while shown < len(items) and fits_one_segment(_join(header, items, shown + 1, texts)):
        shown += 1
    text = _join(header, items, shown, texts)
    if not fits_one_segment(text):  # even the first problem is too long: shorten it alone
        tail = _join("", items, shown, texts)[len(items[0]) :]
        text = _truncate(header + items[0], tail) + tail
    if fits_one_segment(text + texts["fix"]):
        text += texts["fix"]
    return text


def _join(header: str, items: list[str], shown: int, texts: dict[str, str]) -> str:
    left = len(items) - shown
    more = texts["more"].format(count=left) if left else ""
    return header + "; ".join(items[:shown]) + more + "."


def _truncate(text: str, tail: str) -> str:
    # "..." rather than "…": the ellipsis character alone would turn GSM-7 text into UCS-2.
    ellipsis = "..." if is_gsm7(text + tail) else "…"
    cut = len(text)
    while cut > 0 and not fits_one_segment(text[:cut] + ellipsis + tail):
        cut -= 1
    return text[:cut].rstrip() + ellipsis
