"""Replies: every problem in every language, short enough for one SMS segment."""

from __future__ import annotations

import pytest

from parser import Deployment, ErrorCode, ParseError, ParseResult, parse_message, render_reply
from parser.segments import fits_one_segment, is_gsm7, length_in_segment

# One message per error code, against the demo forms.
EXAMPLES = {
    ErrorCode.EMPTY_MESSAGE: "",
    ErrorCode.UNKNOWN_FORM: "XY 1234 A1",
    ErrorCode.MISSING_OBSERVER_ID: "OP A1",
    ErrorCode.INVALID_OBSERVER_ID: "OP 12 A1",
    ErrorCode.UNKNOWN_QUESTION: "OP 1234 A1 ZZ5",
    ErrorCode.MISSING_VALUE: "OP 1234 A1 B",
    ErrorCode.INVALID_OPTION: "OP 1234 A7",
    ErrorCode.OUT_OF_RANGE: "OP 1234 A1 B9000",
    ErrorCode.DUPLICATE_QUESTION: "OP 1234 A1 A2",
    ErrorCode.MISSING_REQUIRED: "OP 1234 B250",
    ErrorCode.CHECK_FAILED: "OP 1234 A1 B10 D20",
    ErrorCode.UNEXPECTED_TEXT: "OP 1234 A1 Жук",
    ErrorCode.AMBIGUOUS_VALUE: "OP 1234 A1 B 1 200",
}


GATEWAY_CODES = {ErrorCode.UNKNOWN_OBSERVER, ErrorCode.SENDER_MISMATCH, ErrorCode.DUPLICATE_MESSAGE}


def test_every_parser_error_code_has_an_example() -> None:
    assert set(EXAMPLES) == set(ErrorCode) - GATEWAY_CODES


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
@pytest.mark.parametrize("code", sorted(GATEWAY_CODES))
def test_the_gateways_own_codes_have_replies_that_fit(
    demo: Deployment, code: ErrorCode, language: str
) -> None:
    result = parse_message("OP 1234 A1", demo)
    flagged = ParseResult(
        text=result.text,
        form="OP",
        observer="1234",
        answers=result.answers,
        errors=(ParseError(code, (3, 7), found="1234"),),
    )
    reply = render_reply(flagged, demo, language)
    assert fits_one_segment(reply)
    assert "{" not in reply
    assert "1234" in reply


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
@pytest.mark.parametrize("code", sorted(set(ErrorCode) - GATEWAY_CODES))
def test_every_error_has_a_reply_in_every_language_that_fits_one_sms(
    demo: Deployment, code: ErrorCode, language: str
) -> None:
    result = parse_message(EXAMPLES[code], demo)
    assert code in [error.code for error in result.errors]
    reply = render_reply(result, demo, language)
    assert fits_one_segment(reply), (reply, length_in_segment(reply))
    assert "{" not in reply  # no template field left unfilled


def test_english_replies_name_what_to_fix(demo: Deployment) -> None:
    result = parse_message("OP 1234 A1 B9000 ZZ1", demo)
    assert render_reply(result, demo, "en") == (
        "OP 1234 NOT saved: B: 9000 is above 5000; unknown question ZZ. Please fix and send again."
    )


def test_russian_and_kyrgyz_replies(demo: Deployment) -> None:
    result = parse_message("OP 1234 A1 B9000", demo)
    assert render_reply(result, demo, "ru") == (
        "OP 1234 НЕ принято: B: 9000 больше 5000. Исправьте и отправьте снова."
    )
    # The advice to resend is added only when it still fits one UCS-2 segment (70 characters).
    assert (
        render_reply(result, demo, "ky")
        == "OP 1234 кабыл алынбады: B: 9000 өтө көп (эң көбү 5000)."
    )


def test_a_success_reply_confirms_form_and_observer(demo: Deployment) -> None:
    result = parse_message("OP 1234 A1 B250", demo)
    assert render_reply(result, demo, "en") == "OK: OP 1234 received (2 answered). Thank you!"
    assert render_reply(result, demo, "ky") == "Кабыл алынды: OP 1234, 2 жооп. Рахмат!"
    assert render_reply(result, demo, "ru") == "Принято: OP 1234, ответов: 2. Спасибо!"


def test_the_check_message_comes_from_the_forms_file(demo: Deployment) -> None:
    result = parse_message("OP 1234 A1 B10 D20", demo)
    assert "More ballots issued than received" in render_reply(result, demo, "en")


def test_problems_that_do_not_fit_are_counted(demo: Deployment) -> None:
    text = "OP 1234 A7 B9000 C9 D9000 ZZ1 YY2 XX3 WW4"
    result = parse_message(text, demo)
    for language in ("ky", "ru", "en"):
        reply = render_reply(result, demo, language)
        assert fits_one_segment(reply)
        assert "+" in reply  # "(+N more)"


def test_the_reply_never_echoes_the_whole_message(demo: Deployment) -> None:
    text = "OP 1234 A1 B250 C1 D100 Жук-жук-жук-жук-жук-жук-жук"
    reply = render_reply(parse_message(text, demo), demo, "en")
    assert text not in reply
    assert fits_one_segment(reply)


def test_an_unknown_language_falls_back_to_the_deployment_default(demo: Deployment) -> None:
    result = parse_message("OP 1234 A1", demo)
    assert render_reply(result, demo, "de") == render_reply(result, demo, "ky")


def test_a_very_long_single_problem_is_shortened_to_fit(demo: Deployment) -> None:
    result = ParseResult(
        text="x",
        form="OP",
        observer="1234",
        errors=(ParseError(ErrorCode.UNEXPECTED_TEXT, (0, 1), found="x" * 200),),
    )
    reply = render_reply(result, demo, "en")
    assert fits_one_segment(reply)


def test_gsm7_and_ucs2_segment_lengths() -> None:
    assert is_gsm7("OK: OP 1234 received")
    assert not is_gsm7("Принято")
    assert length_in_segment("a{b") == (4, 160)  # an extension character takes two septets
    assert length_in_segment("Принято") == (7, 70)
    assert fits_one_segment("x" * 160)
    assert not fits_one_segment("x" * 161)
    assert fits_one_segment("ж" * 70)
    assert not fits_one_segment("ж" * 71)
