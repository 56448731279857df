"""Every sentence an observer can get back, in Kyrgyz, Russian and English, in one place.

The three languages say the same thing in the same order; change one, change all three. An
observer reads "observer ID" (``байкоочу коду``, ``код наблюдателя``), never "number", which they
take for their phone number. A few texts have a shorter fallback (``key:short``) that the reply
uses when the full one does not fit one SMS; counted texts pick their plural form by CLDR rules
(``parser.plurals``).

Kyrgyz and Russian replies travel as UCS-2 (70 characters): keep each text under about 40.
English replies must stay in the GSM 7-bit alphabet (160 characters): no typographic quotes,
dashes or ellipses here.
"""

from __future__ import annotations

from collections.abc import Mapping

from parser.plurals import pluralize

__all__ = [
    "REPLY_LANGUAGES",
    "counted",
    "duplicate_reply",
    "is_counted",
    "ok_reply",
    "rejected_header",
    "reply_language",
    "shorter",
    "wording",
]

REPLY_LANGUAGES = ("ky", "ru", "en")

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "ok": "OK: {form} {observer} received ({count} answered). Thank you!",
        "duplicate": "Already received: {form} {observer}. Thank you!",
        "incomplete": "NOT saved: only part of your SMS arrived. Please send the whole SMS again.",
        "rejected": "{who} NOT saved: ",
        "rejected_anonymous": "NOT saved: ",
        "fix": " Please fix and send again.",
        "comments": "; comments go after @",
        "comments:quoted": "{list}: comments go after @",
        "comments:alone": "not understood; comments go after @",
        "EMPTY_MESSAGE": "no report in this SMS. Example: {example}",
        "UNKNOWN_FORM": "unknown form {found}; forms: {codes}",
        "UNKNOWN_FORM:start": "start with a form code: {codes}",
        "AMBIGUOUS_VALUE:forms": "{found} can be {forms}: type the form code in Latin letters",
        "MISSING_OBSERVER_ID": "add your observer ID after {form}",
        "INVALID_OBSERVER_ID": "observer ID {found} must have {digits} {digit_word}",
        "INVALID_OBSERVER_ID:short": "the observer ID must have {digits} {digit_word}",
        "INVALID_OPTION": "{tag}: no option {found} (use {options})",
        "OUT_OF_RANGE:max": "{tag}: {found} is above {max}",
        "OUT_OF_RANGE:min": "{tag}: {found} is below {min}",
        "AMBIGUOUS_VALUE:hint": "{tag}: unclear, write {hint}",
        "AMBIGUOUS_VALUE:split": "{tag}: {found} is unclear, write one number right after each tag",
        "AMBIGUOUS_VALUE:split:short": "{tag}: write one number right after each tag",
        "AMBIGUOUS_VALUE:separate": "{tag}: {found} is unclear, put a space between the options",
        "AMBIGUOUS_VALUE:separate:short": "{tag}: put a space between the options",
        "AMBIGUOUS_VALUE": "{tag}: {found} is unclear, use digits only",
        "AMBIGUOUS_VALUE:id": "observer ID {found} is unclear, use digits only",
        "UNKNOWN_OBSERVER": "observer ID {found} is not registered",
        "SENDER_MISMATCH": "this phone is not registered for observer ID {found}",
    },
    "ru": {
        "ok": "Принято: {form} {observer}, ответов: {count}. Спасибо!",
        "duplicate": "Уже получено: {form} {observer}. Спасибо!",
        "incomplete": "НЕ принято: пришла только часть SMS. Отправьте всё SMS снова.",
        "rejected": "{who} НЕ принято: ",
        "rejected_anonymous": "НЕ принято: ",
        "fix": " Исправьте и отправьте снова.",
        "comments": "; комментарий напишите после @",
        "comments:quoted": "{list}: комментарий напишите после @",
        "comments:alone": "непонятно; комментарий напишите после @",
        "EMPTY_MESSAGE": "в SMS нет отчёта. Пример: {example}",
        "UNKNOWN_FORM": "нет формы {found}; формы: {codes}",
        "UNKNOWN_FORM:start": "начните с кода формы: {codes}",
        "AMBIGUOUS_VALUE:forms": "{found}: это {forms}? Напишите латиницей",
        "MISSING_OBSERVER_ID": "после {form} напишите код наблюдателя",
        "INVALID_OBSERVER_ID": "в коде наблюдателя {found} должно быть {digits} {digit_word}",
        "INVALID_OBSERVER_ID:short": "в коде наблюдателя должно быть {digits} {digit_word}",
        "INVALID_OPTION": "{tag}: нет варианта {found} (есть {options})",
        "OUT_OF_RANGE:max": "{tag}: {found} больше максимума {max}",
        "OUT_OF_RANGE:min": "{tag}: {found} меньше минимума {min}",
        "AMBIGUOUS_VALUE:hint": "{tag}: неясно, напишите {hint}",
        "AMBIGUOUS_VALUE:split": "{tag}: {found} неясно, одно число после буквы",
        "AMBIGUOUS_VALUE:split:short": "{tag}: одно число сразу после буквы",
        "AMBIGUOUS_VALUE:separate": "{tag}: {found} неясно, разделите варианты пробелом",
        "AMBIGUOUS_VALUE:separate:short": "{tag}: разделите варианты пробелом",
        "AMBIGUOUS_VALUE": "{tag}: {found} неясно, напишите только цифры",
        "AMBIGUOUS_VALUE:id": "код наблюдателя {found} неясен, только цифры",
        "UNKNOWN_OBSERVER": "код наблюдателя {found} не зарегистрирован",
        "SENDER_MISMATCH": "этот телефон не зарегистрирован за наблюдателем {found}",
        "SENDER_MISMATCH:short": "не зарегистрирован за наблюдателем {found}",
    },
    "ky": {
        "ok": "Кабыл алынды: {form} {observer}, {count} жооп. Рахмат!",
        "duplicate": "Мурда эле алынган: {form} {observer}. Рахмат!",
        "incomplete": "Кабыл алынбады: SMS толук келген жок. Бүт SMSти кайра жөнөтүңүз.",
        "rejected": "{who} кабыл алынбады: ",
        "rejected_anonymous": "Кабыл алынбады: ",
        "fix": " Оңдоп, кайра жөнөтүңүз.",
        "comments": "; комментарийди @ кийин жазыңыз",
        "comments:quoted": "{list}: комментарийди @ кийин жазыңыз",
        "comments:alone": "түшүнүксүз; комментарийди @ кийин жазыңыз",
        "EMPTY_MESSAGE": "SMSте отчет жок. Мисал: {example}",
        "UNKNOWN_FORM": "{found} деген форма жок; формалар: {codes}",
        "UNKNOWN_FORM:start": "форманын кодунан баштаңыз: {codes}",
        "AMBIGUOUS_VALUE:forms": "{found}: {forms}? Латын тамгалары менен жазыңыз",
        "MISSING_OBSERVER_ID": "{form} кодунан кийин байкоочу кодун жазыңыз",
        "INVALID_OBSERVER_ID": "{found}: байкоочу кодунда {digits} {digit_word} болушу керек",
        "INVALID_OBSERVER_ID:short": "байкоочу кодунда {digits} {digit_word} болушу керек",
        "INVALID_OPTION": "{tag}: {found} деген вариант жок ({options})",
        "OUT_OF_RANGE:max": "{tag}: {found} өтө көп (эң көбү {max})",
        "OUT_OF_RANGE:min": "{tag}: {found} өтө аз (эң азы {min})",
        "AMBIGUOUS_VALUE:hint": "{tag}: так эмес, {hint} деп жазыңыз",
        "AMBIGUOUS_VALUE:split": "{tag}: {found} так эмес, тамгадан кийин бир сан",
        "AMBIGUOUS_VALUE:split:short": "{tag}: тамгадан кийин бир гана сан жазыңыз",
        "AMBIGUOUS_VALUE:separate": "{tag}: {found} так эмес, варианттарды бош орун менен бөлүңүз",
        "AMBIGUOUS_VALUE:separate:short": "{tag}: варианттарды бош орун менен бөлүңүз",
        "AMBIGUOUS_VALUE": "{tag}: {found} так эмес, цифра менен жазыңыз",
        "AMBIGUOUS_VALUE:id": "байкоочу коду {found} так эмес, цифра менен",
        "UNKNOWN_OBSERVER": "{found} деген байкоочу коду катталган эмес",
        "SENDER_MISMATCH": "бул телефон {found} байкоочуга катталган эмес",
    },
}

# Texts that name a count: CLDR plural category -> text ("other" is always there).
_COUNTED: dict[str, dict[str, Mapping[str, str]]] = {
    "en": {
        "digit": {"one": "digit", "other": "digits"},
        "dropped": {"one": "+{count} more problem", "other": "+{count} more problems"},
        "MISSING_REQUIRED": {"other": "missing: {list}"},
        "MISSING_VALUE": {"one": "no answer after {list}", "other": "no answers after {list}"},
        "UNKNOWN_QUESTION": {"one": "unknown question {list}", "other": "unknown questions {list}"},
        "DUPLICATE_QUESTION": {"other": "{list} sent twice with different answers"},
        "UNEXPECTED_TEXT": {"other": "not understood: {list}"},
    },
    "ru": {
        "digit": {"one": "цифра", "few": "цифры", "many": "цифр", "other": "цифры"},
        "dropped": {
            "one": "ещё {count} ошибка",
            "few": "ещё {count} ошибки",
            "many": "ещё {count} ошибок",
            "other": "ещё {count} ошибки",
        },
        "MISSING_REQUIRED": {"one": "нет ответа: {list}", "other": "нет ответов: {list}"},
        "MISSING_VALUE": {"one": "{list}: нет ответа", "other": "{list}: нет ответов"},
        "UNKNOWN_QUESTION": {"one": "нет вопроса {list}", "other": "нет вопросов {list}"},
        "DUPLICATE_QUESTION": {
            "one": "{list} указан дважды с разными ответами",
            "other": "{list} указаны дважды с разными ответами",
        },
        "UNEXPECTED_TEXT": {"other": "непонятно: {list}"},
    },
    "ky": {
        # Kyrgyz nouns stay singular after a number (4 цифра), but CLDR still tells 1 apart.
        "digit": {"other": "цифра"},
        "dropped": {"other": "дагы {count} ката"},
        "MISSING_REQUIRED": {"other": "жооп керек: {list}"},
        "MISSING_VALUE": {"other": "{list}: жооп жок"},
        "UNKNOWN_QUESTION": {"one": "{list} деген суроо жок", "other": "{list} деген суроолор жок"},
        "DUPLICATE_QUESTION": {
            "one": "{list} суроосуна эки башка жооп жазылды",
            "other": "{list} суроолоруна эки башка жооп жазылды",
        },
        "UNEXPECTED_TEXT": {"other": "түшүнүксүз: {list}"},
    },
}


def reply_language(language: str, default: str) -> str:
    """``language`` if replies exist in it, else ``default``, else English."""
    for candidate in (language, default):
        if candidate in _TEXTS:
            return candidate
    return "en"


def wording(language: str, key: str) -> str:
    """The text ``key`` in ``language`` (one of ``REPLY_LANGUAGES``), with its fields unfilled."""
    return _TEXTS[language][key]


def shorter(language: str, key: str) -> str | None:
    """The shorter fallback of ``key``, if it has one."""
    return _TEXTS[language].get(f"{key}:short")


def is_counted(key: str) -> bool:
    """Whether ``key`` names a list of things and takes a count (see ``counted``)."""
    return key in _COUNTED["en"]


def counted(language: str, key: str, count: int) -> str:
    """The text ``key`` in ``language`` in the plural form ``count`` takes, fields unfilled."""
    return pluralize(language, count, _COUNTED[language][key])


def ok_reply(language: str, form: str, observer: str, count: int) -> str:
    """The reply to an accepted report."""
    return wording(language, "ok").format(form=form, observer=observer, count=count)


def duplicate_reply(language: str, form: str, observer: str) -> str:
    """The reply to a report that was already received."""
    return wording(language, "duplicate").format(form=form, observer=observer)


def rejected_header(language: str, form: str | None, observer: str | None) -> str:
    """The start of a reply to a rejected report: what was not saved."""
    who = " ".join(part for part in (form, observer) if part)
    if not who:
        return wording(language, "rejected_anonymous")
    return wording(language, "rejected").format(who=who)
