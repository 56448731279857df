"""Replies: the right fix, in the observer's words, in Kyrgyz, Russian and English, in one SMS.

Segment counts come from the gateway's own PDU encoder (``modem.pdu.submit_pdus``, GSM 03.38
through libgammu), not from string lengths.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modem.pdu import submit_pdus
from parser import (
    Deployment,
    ErrorCode,
    ParseError,
    ParseResult,
    load_forms,
    parse_message,
    render_reply,
)
from parser.replies import reply_items
from parser.segments import fits_one_segment, is_gsm7, length_in_segment
from parser.wording import counted, rejected_header, wording
from tests.conftest import DEMO_FORMS

LANGUAGES = ("ky", "ru", "en")

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

# Messages observers sent, or could: each reply must be one SMS in every language.
CORPUS = [
    *EXAMPLES.values(),
    "OP 123456 A1 B 1 9",
    "ОР 123456 А1 В1 Д9",
    "ОП 123456 А1 В1",
    "OP 123456 A1 Спасибо, Айгуль Токтогулова",
    "Шайлоочулар келбей жатат",
    "🗳️🙏",
    "OP 123456 A7 B9000 C9 D9000 ZZ1 YY2 XX3 WW4 VV5 UU6",
    "OP 123456 A1 Жук-жук-жук-жук-жук-жук-жук-жук-жук-жук-жук",
    "OP 996555123456 A1",
    "OP A1 B2 C3 D4 Рахмат",
    "OP 123456 A1 A2 B1 B2 C1 C2 D1 D2",
]
PRESIDENTIAL_CORPUS = [
    "CL 3310 A1 B1 Рахмат",
    "RS 123456",
    "RS 123456 A1850 B1900 C1020 D880 E1018 F12 G1006 H310 J1 K1 M1 N1 P1 Q1",
    "ВР 123456 A1",
    "OP 123456 A9 B9 C99 D9 E99999 F9 G9 H9 J9 Спасибо",
]


def sms_parts(text: str) -> int:
    """How many SMS the gateway would send for ``text``."""
    return len(submit_pdus("+996555000000", text))


def reply(text: str, deployment: Deployment, language: str) -> str:
    return render_reply(parse_message(text, deployment), deployment, language)


def codes(result: ParseResult) -> list[ErrorCode]:
    return [error.code for error in result.errors]


def forms_file(questions: str, checks: str = "", code: str = "OP") -> str:
    return (
        f"deployment: t\nlanguages: [ky, ru, en]\nforms:\n  - code: {code}\n"
        f"    kind: checklist\n    name: Opening\n    questions:\n{questions}{checks}"
    )


def test_every_parser_error_code_has_an_example() -> None:
    assert set(EXAMPLES) == set(ErrorCode) - GATEWAY_CODES


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", sorted(set(ErrorCode) - GATEWAY_CODES))
def test_every_error_has_a_reply_in_every_language_that_is_one_sms(
    demo: Deployment, code: ErrorCode, language: str
) -> None:
    result = parse_message(EXAMPLES[code], demo)
    assert code in codes(result)
    text = render_reply(result, demo, language)
    assert sms_parts(text) == 1, text
    assert "{" not in text  # no template field left unfilled


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", sorted(GATEWAY_CODES))
def test_the_gateways_own_codes_have_replies_that_are_one_sms(
    demo: Deployment, code: ErrorCode, language: str
) -> None:
    flagged = ParseResult(
        text="OP 123456 A1",
        form="OP",
        observer="123456",
        answers={"A": 1},
        errors=(ParseError(code, (3, 9), found="123456"),),
    )
    text = render_reply(flagged, demo, language)
    assert sms_parts(text) == 1, text
    assert "{" not in text
    assert "123456" in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("text", CORPUS)
def test_replies_to_the_demo_corpus_are_one_sms(demo: Deployment, text: str, language: str) -> None:
    assert sms_parts(reply(text, demo, language)) == 1


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("text", PRESIDENTIAL_CORPUS)
def test_replies_to_the_presidential_corpus_are_one_sms(
    presidential: Deployment, text: str, language: str
) -> None:
    assert sms_parts(reply(text, presidential, language)) == 1


@given(st.text(alphabet="OPAB CDZЖукРахмат@🙂0123456789,-ОРВД", max_size=80))
def test_any_sms_gets_a_one_segment_reply_in_every_language(text: str) -> None:
    deployment = _demo()
    for language in LANGUAGES:
        answer = reply(text, deployment, language)
        assert sms_parts(answer) == 1, answer
        assert not answer.endswith(("…", "...")), answer  # nothing cut at the end


# Item 1: a suggested fix is a valid one.

AMBIGUOUS = [
    "OP 1234 A 1 9",  # choice 1-2: neither A19 nor anything joined is an option
    "OP 1234 A 1 5 1 2 0",
    "OP 1234 A1 B 1 200",  # B1200 is a valid number
    "OP 1234 A1 B 9 9999",  # B99999 is above 5000
    "OP 1234 A1 B 0 0",
    "OP 1234 A1 D 12 3",
]


def _apply_every_hint(text: str, result: ParseResult) -> str:
    for error in sorted(result.errors, key=lambda error: -error.span[0]):
        if "hint" in error.params:
            start, end = error.span
            text = text[:start] + str(error.params["hint"]) + text[end:]
    return text


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_every_suggested_fix_leaves_its_question_free_of_errors(
    demo: Deployment, text: str
) -> None:
    result = parse_message(text, demo)
    fixed = parse_message(_apply_every_hint(text, result), demo)
    hinted = {error.tag for error in result.errors if "hint" in error.params}
    assert not [error for error in fixed.errors if error.tag in hinted]


@given(
    tag=st.sampled_from("ABCD"),
    runs=st.lists(st.from_regex(r"[0-9]{1,4}", fullmatch=True), min_size=2, max_size=3),
)
def test_any_suggested_fix_is_valid_for_its_question(tag: str, runs: list[str]) -> None:
    deployment = _demo()
    text = f"OP 1234 A1 {tag} {' '.join(runs)}" if tag != "A" else f"OP 1234 A {' '.join(runs)}"
    result = parse_message(text, deployment)
    fixed = parse_message(_apply_every_hint(text, result), deployment)
    hinted = {error.tag for error in result.errors if "hint" in error.params}
    assert not [error for error in fixed.errors if error.tag in hinted]


def test_a_joined_value_is_suggested_only_when_the_question_accepts_it(demo: Deployment) -> None:
    assert reply("OP 1234 A1 B 1 200", demo, "en").startswith(
        "OP 1234 NOT saved: B: unclear, write B1200."
    )
    choice = parse_message("OP 1234 A 1 9", demo)
    assert "hint" not in choice.errors[0].params
    assert "A19" not in render_reply(choice, demo, "en")
    assert "A: 1 9 is unclear, write one number right after each tag" in render_reply(
        choice, demo, "en"
    )
    assert "одно число после буквы" in render_reply(choice, demo, "ru")
    assert "тамгадан кийин бир сан" in render_reply(choice, demo, "ky")


def test_a_number_above_the_maximum_is_not_suggested() -> None:
    forms = load_forms(forms_file("      - {tag: D, type: integer, label: D, max: 15}\n"))
    result = parse_message("OP 1234 D9 1234", forms)
    for language in LANGUAGES:
        assert "D91234" not in render_reply(result, forms, language)


def test_two_readings_of_two_digit_options_suggest_neither() -> None:
    options = "{1: a, 2: b, 11: c, 12: d}"
    question = f"      - {{tag: C, type: multi, label: C, options: {options}}}\n"
    forms = load_forms(forms_file(question))
    result = parse_message("OP 1234 C112", forms)
    assert codes(result) == [ErrorCode.AMBIGUOUS_VALUE]
    assert "hint" not in result.errors[0].params
    assert "put a space between the options" in render_reply(result, forms, "en")


# Item 2: quote what the observer typed.


def test_a_word_that_is_not_a_code_is_quoted_as_typed(presidential: Deployment) -> None:
    result = parse_message("CL 3310 A1 B1 Рахмат", presidential)
    assert ErrorCode.UNKNOWN_QUESTION not in codes(result)
    unexpected = [error for error in result.errors if error.code is ErrorCode.UNEXPECTED_TEXT]
    assert [error.found for error in unexpected] == ["Рахмат"]
    for language in LANGUAGES:
        text = render_reply(result, presidential, language)
        assert "PAXMAT" not in text
        assert "Рахмат" in text


def test_digits_joined_to_an_unread_letter_belong_to_it(demo: Deployment) -> None:
    result = parse_message("ОР 1234 А1 В1 Д9", demo)
    assert codes(result) == [ErrorCode.UNEXPECTED_TEXT]
    assert result.errors[0].found == "Д9"
    assert dict(result.answers) == {"A": 1, "B": 1}
    assert reply("ОР 1234 А1 В1 Д9", demo, "en").startswith(
        "OP 1234 NOT saved: not understood: Д9; comments go after @."
    )


def test_an_unknown_question_is_quoted_as_typed(demo: Deployment) -> None:
    result = parse_message("OP 1234 A1 zz5", demo)
    assert result.errors[0].found == "zz"
    assert "unknown question zz" in render_reply(result, demo, "en")


def test_english_replies_quote_lookalike_codes_in_latin_letters(demo: Deployment) -> None:
    result = parse_message("ОР 1234 А1 ХХ5", demo)
    english = render_reply(result, demo, "en")
    assert "unknown question XX" in english
    assert is_gsm7(english)  # 160 characters, not 70
    assert "ХХ деген суроо жок" in render_reply(result, demo, "ky")


# Item 3: one mistake, one item.


def test_an_unknown_form_typed_in_cyrillic_is_one_problem_named_as_typed(
    demo: Deployment,
) -> None:
    result = parse_message("ОП 1234 А1 В1", demo)
    assert codes(result) == [ErrorCode.UNKNOWN_FORM]
    assert result.errors[0].found == "ОП"
    assert reply("ОП 1234 А1 В1", demo, "en") == (
        "NOT saved: unknown form ОП; forms: OP, IN. Please fix and send again."
    )
    assert reply("ОП 1234 А1 В1", demo, "ru").startswith("НЕ принято: нет формы ОП; формы: OP, IN.")
    assert reply("ОП 1234 А1 В1", demo, "ky").startswith(
        "Кабыл алынбады: ОП деген форма жок; формалар: OP, IN."
    )


# Item 4: items grouped by kind, ordered by what changes the report most, never cut.

SIX_MISSING = forms_file(
    "".join(
        f"      - {{tag: {tag}, type: integer, label: {tag}, required: true}}\n"
        for tag in "ABCDEFGHKT"
    )
)


@pytest.mark.parametrize(
    ("language", "item"),
    [
        ("ky", "жооп керек: E, F, G, H, K, T"),
        ("ru", "нет ответов: E, F, G, H, K, T"),
        ("en", "missing: E, F, G, H, K, T"),
    ],
)
def test_missing_answers_are_one_item_naming_every_tag(language: str, item: str) -> None:
    forms = load_forms(SIX_MISSING)
    text = reply("OP 123456 A1 B2 C3 D4", forms, language)
    assert item in text
    assert not [note for note in ("more problem", "дагы", "ещё") if note in text]
    assert sms_parts(text) == 1


def test_the_form_and_the_observer_id_come_first_then_missing_answers_then_values(
    demo: Deployment,
) -> None:
    text = reply("OP 12 B9000 Жук", demo, "en")
    assert text.index("observer ID 12") < text.index("missing: A") < text.index("B: 9000")
    assert text.index("B: 9000") < text.index("not understood")


@pytest.mark.parametrize("language", LANGUAGES)
def test_items_that_do_not_fit_are_left_out_whole_and_counted(
    presidential: Deployment, language: str
) -> None:
    result = parse_message("OP 123456 A9 B9 C99 D9 E99999 F9 G9 H9 J9 ZZ1", presidential)
    items = reply_items(result, presidential, language)
    text = render_reply(result, presidential, language)
    assert sms_parts(text) == 1
    header = rejected_header(language, "OP", "123456")
    body = text.removeprefix(header).removesuffix(wording(language, "fix")).removesuffix(".")
    *shown, note = body.split("; ")
    variants = {variant for item in items for variant in item}
    assert shown
    assert all(part in variants for part in shown)  # whole items, never a piece of one
    left_out = len(items) - len(shown)
    assert left_out > 0
    assert note == counted(language, "dropped", left_out).format(count=left_out)


def test_left_out_items_are_counted_with_the_right_russian_plural() -> None:
    assert [counted("ru", "dropped", n).format(count=n) for n in (1, 2, 5, 21)] == [
        "ещё 1 ошибка",
        "ещё 2 ошибки",
        "ещё 5 ошибок",
        "ещё 21 ошибка",
    ]
    assert counted("en", "dropped", 1).format(count=1) == "+1 more problem"


# Item 5: greetings, signatures and free text.


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "OP 1234 NOT saved: not understood: Спасибо; comments go after @."),
        ("ru", "OP 1234 НЕ принято: непонятно: Спасибо; комментарий напишите после @."),
        ("ky", "OP 1234 кабыл алынбады: Спасибо: комментарийди @ кийин жазыңыз."),
    ],
)
def test_a_signature_at_the_end_is_told_that_comments_go_after_the_at_sign(
    demo: Deployment, language: str, expected: str
) -> None:
    assert reply("OP 1234 A1 Спасибо", demo, language) == expected


def test_unexpected_text_in_the_middle_is_not_a_comment(demo: Deployment) -> None:
    text = reply("OP 1234 A1 Жук B250", demo, "en")
    assert "not understood: Жук" in text
    assert "@" not in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "NOT saved: start with a form code: OP, IN. Please fix and send again."),
        ("ru", "НЕ принято: начните с кода формы: OP, IN. Исправьте и отправьте снова."),
        ("ky", "Кабыл алынбады: форманын кодунан баштаңыз: OP, IN."),
    ],
)
def test_free_text_without_a_form_code_is_one_item(
    demo: Deployment, language: str, expected: str
) -> None:
    result = parse_message("Шайлоочулар келбей жатат", demo)
    assert codes(result) == [ErrorCode.UNKNOWN_FORM]
    assert render_reply(result, demo, language) == expected


# Item 6: wording.


def test_no_reply_text_says_number_for_the_observer_id() -> None:
    texts = [
        wording(language, key)
        for language in LANGUAGES
        for key in (
            "MISSING_OBSERVER_ID",
            "INVALID_OBSERVER_ID",
            "AMBIGUOUS_VALUE:id",
            "UNKNOWN_OBSERVER",
            "SENDER_MISMATCH",
            "EMPTY_MESSAGE",
        )
    ]
    assert not [text for text in texts if "номер" in text or "number" in text.split("{")[0]]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "add your observer ID after OP"),
        ("ru", "после OP напишите код наблюдателя"),
        ("ky", "OP кодунан кийин байкоочу кодун жазыңыз"),
    ],
)
def test_a_missing_observer_id_is_asked_for_as_such(
    demo: Deployment, language: str, expected: str
) -> None:
    assert expected in reply("OP A1", demo, language)


@pytest.mark.parametrize(
    ("digits", "language", "expected"),
    [
        (4, "ru", "должно быть 4 цифры"),
        (5, "ru", "должно быть 5 цифр"),
        (1, "ru", "должно быть 1 цифра"),
        (4, "en", "must have 4 digits"),
        (1, "en", "must have 1 digit"),
        (4, "ky", "4 цифра болушу керек"),
    ],
)
def test_counted_words_take_the_cldr_plural_form(digits: int, language: str, expected: str) -> None:
    forms = load_forms(
        forms_file("      - {tag: A, type: integer, label: A}\n").replace(
            "forms:\n", f"observer_id: {{min_digits: {digits}, max_digits: {digits}}}\nforms:\n"
        )
    )
    assert expected in reply("OP 1234567 A1", forms, language)


def test_russian_and_kyrgyz_wording(demo: Deployment) -> None:
    # The advice to resend is added only when it still fits one UCS-2 segment (70 characters).
    assert reply("OP 1234 A1 B9000", demo, "ru") == (
        "OP 1234 НЕ принято: B: 9000 больше максимума 5000."
    )
    assert "B указан дважды с разными ответами" in reply("OP 1234 A1 B1 B2", demo, "ru")
    assert "B суроосуна эки башка жооп жазылды" in reply("OP 1234 A1 B1 B2", demo, "ky")
    assert "B sent twice with different answers" in reply("OP 1234 A1 B1 B2", demo, "en")
    assert reply("OP 1234 A1 B9000", demo, "ky") == (
        "OP 1234 кабыл алынбады: B: 9000 өтө көп (эң көбү 5000)."
    )


def test_a_phone_not_registered_for_the_observer_is_said_so(demo: Deployment) -> None:
    flagged = ParseResult(
        text="OP 20417 A1",
        form="OP",
        observer="20417",
        answers={"A": 1},
        errors=(ParseError(ErrorCode.SENDER_MISMATCH, (3, 8), found="20417"),),
    )
    assert "не зарегистрирован за наблюдателем 20417" in render_reply(flagged, demo, "ru")
    assert "not registered for observer ID 20417" in render_reply(flagged, demo, "en")
    assert "20417 байкоочуга катталган эмес" in render_reply(flagged, demo, "ky")


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "no report"), ("ru", "нет отчёта"), ("ky", "отчет жок")]
)
def test_an_sms_of_emoji_has_no_report_in_it(
    demo: Deployment, language: str, expected: str
) -> None:
    result = parse_message("🗳️🙏👍", demo)
    assert codes(result) == [ErrorCode.EMPTY_MESSAGE]
    assert expected in render_reply(result, demo, language)


# Item 7: one segment by construction; the forms file leaves room for it.


def test_accepted_and_already_received_replies_are_never_shortened(demo: Deployment) -> None:
    result = parse_message("OP 1234 A1 B250", demo)
    assert render_reply(result, demo, "en") == "OK: OP 1234 received (2 answered). Thank you!"
    assert render_reply(result, demo, "ky") == "Кабыл алынды: OP 1234, 2 жооп. Рахмат!"
    assert render_reply(result, demo, "ru") == "Принято: OP 1234, ответов: 2. Спасибо!"
    again = ParseResult(
        text=result.text,
        form="OP",
        observer="1234",
        answers=result.answers,
        errors=(ParseError(ErrorCode.DUPLICATE_MESSAGE, (0, 0)),),
    )
    assert render_reply(again, demo, "en") == "Already received: OP 1234. Thank you!"


def test_the_check_message_comes_from_the_forms_file(demo: Deployment) -> None:
    assert "More ballots issued than received" in reply("OP 1234 A1 B10 D20", demo, "en")


def test_an_unknown_language_falls_back_to_the_deployment_default(demo: Deployment) -> None:
    assert reply("OP 1234 A1", demo, "de") == reply("OP 1234 A1", demo, "ky")


def test_a_very_long_unexpected_word_is_quoted_by_its_start(demo: Deployment) -> None:
    result = ParseResult(
        text="x",
        form="OP",
        observer="1234",
        errors=(ParseError(ErrorCode.UNEXPECTED_TEXT, (0, 1), found="x" * 200),),
    )
    for language in LANGUAGES:
        assert sms_parts(render_reply(result, demo, language)) == 1


def test_gsm7_and_ucs2_segment_lengths_agree_with_the_encoder() -> None:
    assert is_gsm7("OK: OP 1234 received")
    assert not is_gsm7("Принято")
    assert length_in_segment("a{b") == (4, 160)  # an extension character takes two septets
    assert length_in_segment("Принято") == (7, 70)
    for text in ("x" * 160, "x" * 161, "ж" * 70, "ж" * 71, "{" * 80, "{" * 81):
        assert fits_one_segment(text) == (sms_parts(text) == 1), text


@functools.cache
def _demo() -> Deployment:
    # Hypothesis tests cannot take function-scoped fixtures; the demo forms are read once.
    return load_forms(DEMO_FORMS.read_text(encoding="utf-8"))


# Item 8: a form code that reads as two forms.


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "NOT saved: ВС can be BC/VS: type the form code in Latin letters."),
        ("ru", "НЕ принято: ВС: это BC/VS? Напишите латиницей."),
        ("ky", "Кабыл алынбады: ВС: BC/VS? Латын тамгалары менен жазыңыз."),
    ],
)
def test_an_ambiguous_form_code_asks_for_latin_letters(language: str, expected: str) -> None:
    forms = load_forms(
        "deployment: t\nlanguages: [ky, ru, en]\nforms:\n"
        + "".join(
            f"  - code: {code}\n    kind: checklist\n    name: {code}\n    questions:\n"
            "      - {tag: A, type: integer, label: A}\n"
            for code in ("BC", "VS")
        )
    )
    text = reply("ВС 1234 А1", forms, language)
    assert text.startswith(expected)
    assert sms_parts(text) == 1
