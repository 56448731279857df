"""What a forms file must leave room for: every reply it can cause fits one SMS segment.

A reply that takes two SMS costs the observer twice and may arrive in the wrong order, so the
forms loader refuses a file where one could (``shailoo forms check`` lists these problems):

- the OK and "already received" replies, with the form's code, the longest observer ID and the
  form's every question answered, are never shortened and must fit as they are, and so must
  the shortest rejected reply (its start and a count of the problems left out);
- a check's message is one item of a rejected reply: after the longest header (the form's code
  and the longest observer ID) it must fit with its full stop. Kyrgyz and Russian travel as UCS-2
  (70 characters); with two-letter codes and 6-digit IDs that leaves 43 characters in Kyrgyz,
  47 in Russian;
- English replies travel as GSM-7 (160 characters): one character outside that alphabet (``≠``,
  ``…``, a Cyrillic letter) would turn every English reply holding it into a 70-character SMS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from parser.localized import text_in
from parser.segments import is_gsm7, length_in_segment
from parser.wording import counted, duplicate_reply, ok_reply, rejected_header

if TYPE_CHECKING:
    from parser.forms import Deployment, Form

__all__ = ["reply_problems"]


def reply_problems(deployment: Deployment) -> Iterator[tuple[str, str]]:
    """``(location, message)`` for each reply of ``deployment`` that could not fit one SMS."""
    observer = "9" * deployment.observer_id.max_digits
    for index, form in enumerate(deployment.forms):
        where = f"forms[{index}]"
        for language in deployment.languages:
            yield from _form_replies(form, where, language, observer)
            yield from _check_messages(form, where, language, observer)


def _form_replies(
    form: Form, where: str, language: str, observer: str
) -> Iterator[tuple[str, str]]:
    # A rejected reply can always be its header and a count of the problems left out.
    most = 99
    left_out = counted(language, "dropped", most).format(count=most)
    replies = (
        ok_reply(language, form.code, observer, len(form.questions)),
        duplicate_reply(language, form.code, observer),
        f"{rejected_header(language, form.code, observer)}{left_out}.",
    )
    for reply in replies:
        used, limit = length_in_segment(reply)
        if used > limit:
            yield (
                f"{where}.code",
                f"the {language} reply {reply!r} takes {used} of the {limit} characters of one "
                "SMS: use a shorter form code",
            )
            return


def _check_messages(
    form: Form, where: str, language: str, observer: str
) -> Iterator[tuple[str, str]]:
    header = rejected_header(language, form.code, observer)
    for index, check in enumerate(form.checks):
        at = f"{where}.checks[{index}].message"
        message = text_in(check.message, language)
        if language == "en" and not is_gsm7(message):
            outside = "".join(dict.fromkeys(char for char in message if not is_gsm7(char)))
            yield (
                at,
                f"the English text {message!r} has {outside!r}, outside the GSM 7-bit alphabet: "
                "every English reply with it would be a 70-character SMS; write it without",
            )
            continue
        used, limit = length_in_segment(f"{header}{message}.")
        if used > limit:
            room = len(message) - (used - limit)
            fix = f"shorten it to {room} characters or fewer" if room > 0 else "shorten the code"
            yield (
                at,
                f"the {language} text {message!r} does not fit one SMS after the reply's start "
                f"{header.strip()!r}: {fix}",
            )
