"""The SMS grammar, rule by rule, as the parser issue states it.

The forms are the issue's example: OP has A (choice 1-2, required), B (integer 0-5000),
C (multi 1-4), D (integer 0-5000) and the check D <= B; IN has K (multi 1-5).
"""

from __future__ import annotations

import pytest

from parser import Deployment, ErrorCode, ParseResult, load_forms, parse_message
from parser.grammar import parse_full

E = ErrorCode


def codes(result: ParseResult) -> list[str]:
    return [error.code.value for error in result.errors]


@pytest.fixture
def parse(demo: Deployment):  # type: ignore[no-untyped-def]
    return lambda text: parse_message(text, demo)


# Rule 1: case-insensitive, NFKC, Cyrillic lookalikes, any decimal digits.


@pytest.mark.parametrize(
    "text",
    [
        "OP 1234 A1 B250",
        "op 1234 a1 b250",
        "ОР 1234 А1 В250",  # Cyrillic О, Р, А, В from a Russian keyboard
        "ор 1234 а1 в250",  # the same in lower case
        "ＯＰ １２３４ Ａ１ Ｂ２５０",  # full-width, folded by NFKC
        "OP ١٢٣٤ A١ B٢٥٠",  # Arabic-Indic digits
        "OP ۱۲۳۴ A1 B۲۵۰",  # Extended Arabic-Indic digits
    ],
)
def test_case_scripts_and_digit_forms_do_not_matter(parse, text: str) -> None:
    result = parse(text)
    assert result.ok, result.errors
    assert (result.form, result.observer, dict(result.answers)) == (
        "OP",
        "1234",
        {"A": 1, "B": 250},
    )


def test_other_non_latin_letters_are_unexpected_text(parse) -> None:
    result = parse("OP 1234 A1 Жук B250")
    assert codes(result) == ["UNEXPECTED_TEXT"]
    assert result.errors[0].span == (11, 14)
    assert result.errors[0].found == "Жук"
    assert dict(result.answers) == {"A": 1, "B": 250}  # what was valid is kept


def test_a_word_mixing_lookalikes_and_other_letters_is_unexpected_as_a_whole(parse) -> None:
    result = parse("OP 1234 A1 Привет B250")
    assert codes(result) == ["UNEXPECTED_TEXT"]
    assert result.errors[0].found == "Привет"


def test_text_with_no_form_code_and_no_number_is_one_problem(parse) -> None:
    result = parse("Привет")
    assert codes(result) == ["UNKNOWN_FORM"]
    assert result.errors[0].found == ""  # no report was meant: the reply says how one starts


# Rule 2: everything after the first @ is the comment.


def test_the_comment_is_everything_after_the_first_at_sign_trimmed(parse) -> None:
    result = parse("OP 1234 A1 @  queue of 40, B9000 @ again  ")
    assert result.ok
    assert result.comment == "queue of 40, B9000 @ again"
    assert dict(result.answers) == {"A": 1}


def test_no_at_sign_means_no_comment(parse) -> None:
    assert parse("OP 1234 A1").comment is None


# Rule 3: separators are optional between tokens.


@pytest.mark.parametrize(
    "text",
    [
        "OP1234A1B250",
        "op 1234 a 1 b 250",
        "OP-1234, A=1; B=250.",
        "OP:1234/A_1*B+250",
        "OP\n1234\tA1 B250",
    ],
)
def test_separators_are_optional_and_any_punctuation_separates(parse, text: str) -> None:
    result = parse(text)
    assert result.ok
    assert dict(result.answers) == {"A": 1, "B": 250}


# Rule 4: digits before the first tag are the observer ID.


def test_digits_split_by_separators_before_the_first_tag_are_one_observer_id(parse) -> None:
    assert parse("OP 12 34 A1").observer == "1234"
    assert parse("OP 12-34.5 A1").observer == "12345"


def test_observer_ids_keep_leading_zeros(parse) -> None:
    assert parse("OP 00123 A1").observer == "00123"


def test_a_missing_observer_id_is_reported_where_it_belongs(parse) -> None:
    result = parse("OP A1")
    assert codes(result) == ["MISSING_OBSERVER_ID"]
    assert result.errors[0].span == (2, 2)


def test_an_observer_id_of_the_wrong_length_is_invalid(parse) -> None:
    for text in ("OP 12 A1", "OP 1234567 A1"):
        result = parse(text)
        assert codes(result) == ["INVALID_OBSERVER_ID"]
        assert result.observer is None
        assert dict(result.errors[0].params) == {"min": 3, "max": 6}


# Rule 5: O/o and I/l next to digits are digits where no tag has that letter.


@pytest.mark.parametrize(
    ("text", "observer", "answers"),
    [
        ("OP 123O A1", "1230", {"A": 1}),
        ("OP 12O4 A1", "1204", {"A": 1}),
        ("OP 123о A1", "1230", {"A": 1}),  # Cyrillic о
        ("OP 1234 A1 B25O", "1234", {"A": 1, "B": 250}),
        ("OP 1234 A1 B25OD3", "1234", {"A": 1, "B": 250, "D": 3}),
        ("OP 1234 A1 B2l", "1234", {"A": 1, "B": 21}),
        ("OP 1234 A1 B2I", "1234", {"A": 1, "B": 21}),
    ],
)
def test_lookalike_letters_after_digits_are_read_as_digits(
    parse, text: str, observer: str, answers: dict[str, int]
) -> None:
    result = parse(text)
    assert result.ok, result.errors
    assert (result.observer, dict(result.answers)) == (observer, answers)


def test_lookalikes_before_digits_or_after_a_separator_stay_letters(parse) -> None:
    result = parse("OP 1234 A1 B 25 O")
    assert codes(result) == ["UNKNOWN_QUESTION"]
    assert result.errors[0].tag == "O"


def test_a_lookalike_letter_that_is_a_tag_of_the_form_is_a_tag() -> None:
    forms = load_forms(
        "deployment: t\nlanguages: [en]\nforms:\n  - code: OP\n    kind: checklist\n"
        "    name: O\n    questions:\n"
        "      - {tag: B, type: integer, label: B}\n      - {tag: O, type: integer, label: O}\n"
    )
    result = parse_message("OP 1234 B25O3", forms)
    assert result.ok
    assert dict(result.answers) == {"B": 25, "O": 3}


def test_a_lookalike_reading_that_is_not_unique_is_ambiguous_never_a_guess() -> None:
    forms = load_forms(
        "deployment: t\nlanguages: [en]\nforms:\n  - code: OP\n    kind: checklist\n"
        "    name: O\n    questions:\n"
        "      - {tag: B, type: integer, label: B}\n      - {tag: C, type: integer, label: C}\n"
        "      - {tag: OC, type: integer, label: OC}\n"
    )
    # B=10 then C=2, or B=1 then OC=2: both readings are valid.
    result = parse_message("OP 1234 B1OC2", forms)
    assert codes(result) == ["AMBIGUOUS_VALUE"]
    assert result.errors[0].tag == "B"
    assert result.errors[0].span == (8, 13)


# Rule 6: multi values.


@pytest.mark.parametrize("value", ["134", "1,3,4", "1 3 4", "431", "1 34", "1134", "4.3.1"])
def test_multi_answers_accept_joined_or_separated_one_digit_codes(parse, value: str) -> None:
    result = parse(f"OP 1234 A1 C{value}")
    assert result.ok
    assert result.answers["C"] == (1, 3, 4)


def test_a_multi_answer_with_an_unknown_code_is_an_invalid_option(parse) -> None:
    result = parse("OP 1234 A1 C159")
    assert codes(result) == ["INVALID_OPTION"]
    assert result.errors[0].found == "59"
    assert "C" not in result.answers


TWO_DIGIT = (
    "deployment: t\nlanguages: [en]\nforms:\n  - code: IN\n    kind: incident\n"
    "    name: I\n    questions:\n      - tag: K\n        type: multi\n        label: K\n"
    "        options: {1: a, 2: b, 3: c, 12: d, 15: e}\n"
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3 12", (3, 12)), ("15", (15,)), ("153", (3, 15)), ("1 2", (1, 2)), ("12,15", (12, 15))],
)
def test_two_digit_codes_are_read_when_only_one_split_is_valid(
    value: str, expected: tuple[int, ...]
) -> None:
    result = parse_message(f"IN 1234 K{value}", load_forms(TWO_DIGIT))
    assert result.ok, result.errors
    assert result.answers["K"] == expected


def test_two_digit_codes_joined_in_more_than_one_way_are_ambiguous() -> None:
    result = parse_message("IN 1234 K123", load_forms(TWO_DIGIT))  # 1,2,3 or 12,3
    assert codes(result) == ["AMBIGUOUS_VALUE"]


@pytest.mark.parametrize("text", ["OP 1234 A1 B 1 200", "OP 1234 A1 B1 200", "OP 1234 A 1 2"])
def test_integer_and_choice_values_never_join_digits_across_separators(parse, text: str) -> None:
    result = parse(text)
    assert codes(result) == ["AMBIGUOUS_VALUE"]


def test_the_ambiguous_integer_reply_says_how_to_write_it(parse) -> None:
    result = parse("OP 1234 A1 B 1 200")
    assert result.errors[0].params["hint"] == "B1200"


def test_repeated_multi_options_collapse(parse) -> None:
    assert parse("OP 1234 A1 C1131").answers["C"] == (1, 3)


# Rule 7: the same tag twice.


def test_the_same_tag_twice_with_the_same_value_counts_once(parse) -> None:
    result = parse("OP 1234 A1 B250 B250 C13 C31")
    assert result.ok
    assert dict(result.answers) == {"A": 1, "B": 250, "C": (1, 3)}


def test_the_same_tag_twice_with_different_values_is_a_duplicate_question(parse) -> None:
    result = parse("OP 1234 A1 B250 B260")
    assert codes(result) == ["DUPLICATE_QUESTION"]
    assert result.errors[0].tag == "B"
    assert result.errors[0].span == (16, 20)
    assert "B" not in result.answers  # which one is right is the observer's call


# Rule 8: required questions and checks.


def test_a_required_question_must_be_in_the_sms(parse) -> None:
    result = parse("OP 1234 B250")
    assert codes(result) == ["MISSING_REQUIRED"]
    assert result.errors[0].tag == "A"


def test_a_required_question_with_a_bad_value_is_reported_once(parse) -> None:
    assert codes(parse("OP 1234 A7")) == ["INVALID_OPTION"]


def test_a_check_runs_when_all_its_tags_are_present(parse) -> None:
    result = parse("OP 1234 A1 B100 D200")
    assert codes(result) == ["CHECK_FAILED"]
    assert result.errors[0].tag == "D"
    assert result.errors[0].span == (11, 20)
    assert parse("OP 1234 A1 B200 D200").ok
    assert parse("OP 1234 A1 D200").ok  # B is not in the SMS: the check waits


def test_a_check_skips_tags_whose_value_was_invalid(parse) -> None:
    assert codes(parse("OP 1234 A1 B9000 D200")) == ["OUT_OF_RANGE"]


# Rule 9: every problem, with code, tag and span.


def test_every_problem_is_reported_with_code_tag_and_span(parse) -> None:
    text = "OP 1234 A3 B9000 ZZ1 D C9"
    result = parse(text)
    assert [(e.code.value, e.tag, text[e.span[0] : e.span[1]]) for e in result.errors] == [
        ("INVALID_OPTION", "A", "A3"),
        ("OUT_OF_RANGE", "B", "B9000"),
        ("UNKNOWN_QUESTION", "ZZ", "ZZ1"),
        ("MISSING_VALUE", "D", "D"),
        ("INVALID_OPTION", "C", "C9"),
    ]


def test_out_of_range_says_which_limit(parse) -> None:
    result = parse("OP 1234 A1 B9000")
    assert dict(result.errors[0].params) == {"max": 5000}


def test_spans_point_into_the_original_text_even_when_normalising_changes_length(parse) -> None:
    text = "ＯＰ 1234 A1 ﬁ2 B9000"  # the ligature is one character that normalises to two
    result = parse(text)
    assert [(e.code.value, text[e.span[0] : e.span[1]]) for e in result.errors] == [
        ("UNKNOWN_QUESTION", "ﬁ2"),
        ("OUT_OF_RANGE", "B9000"),
    ]


def test_nothing_but_separators_is_an_empty_message(parse) -> None:
    for text in ("", "   ", ".,;", "@ only a comment"):
        assert codes(parse(text)) == ["EMPTY_MESSAGE"]


def test_an_unknown_form_stops_the_parse(parse) -> None:
    result = parse("XY 1234 A1")
    assert codes(result) == ["UNKNOWN_FORM"]
    assert result.errors[0].found == "XY"
    assert codes(parse("1234 A1")) == ["UNKNOWN_FORM"]


def test_huge_numbers_are_out_of_range_not_a_crash(parse) -> None:
    result = parse("OP 1234 A1 B" + "9" * 5000)
    assert codes(result) == ["OUT_OF_RANGE"]
    assert codes(parse("OP 1234 A" + "1" * 5000)) == ["INVALID_OPTION"]


def test_a_message_with_only_valid_answers_is_accepted_with_every_answer(parse) -> None:
    result = parse("OP 1234 A1 B250 C24 D100")
    assert result.ok
    assert dict(result.answers) == {"A": 1, "B": 250, "C": (2, 4), "D": 100}


def test_an_incident_form_parses_like_any_other(parse) -> None:
    result = parse("IN 555 K15 @ carousel bus at school 12")
    assert result.ok
    assert (result.form, result.answers["K"], result.comment) == (
        "IN",
        (1, 5),
        "carousel bus at school 12",
    )


# Form codes typed in Cyrillic: В looks like B but sounds like V.


def _forms(*codes: str):  # type: ignore[no-untyped-def]
    forms = "".join(
        f"  - code: {code}\n    kind: checklist\n    name: {code}\n    questions:\n"
        "      - {tag: A, type: choice, label: A, options: {1: Yes, 2: No}}\n"
        "      - {tag: B, type: integer, label: B}\n"
        for code in codes
    )
    return load_forms(f"deployment: t\nlanguages: [en]\nforms:\n{forms}")


def test_a_cyrillic_form_code_with_no_lookalike_form_is_read_by_its_sound() -> None:
    forms = _forms("VS", "OP")
    for parse in (parse_message, parse_full):
        result = parse("ВС 1234 А1 В250", forms)
        assert result.ok, result.errors
        assert (result.form, dict(result.answers)) == ("VS", {"A": 1, "B": 250})


def test_look_and_sound_can_mix_within_a_form_code(presidential: Deployment) -> None:
    result = parse_message("ВР 1234 A1 B1", presidential)  # В by sound, Р by look: VP
    assert result.form == "VP"


def test_a_form_code_that_reads_as_two_forms_is_ambiguous() -> None:
    forms = _forms("VS", "BC")
    for parse in (parse_message, parse_full):
        result = parse("ВС 1234 А1 В250", forms)
        assert codes(result) == ["AMBIGUOUS_VALUE"]
        assert result.errors[0].params["forms"] == "BC/VS"
        assert result.form is None
    assert parse_message("BC 1234 A1", forms).form == "BC"  # typed in Latin: no question


def test_tags_are_read_by_look_only() -> None:
    forms = _forms("VS")
    assert dict(parse_message("ВС 1234 А1 В250", forms).answers)["B"] == 250
