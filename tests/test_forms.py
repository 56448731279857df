"""The forms file: what loads, what it means, and how every mistake is reported."""

from __future__ import annotations

import pytest

from parser import Deployment, FormsError, load_forms, text_in
from tests.conftest import DEMO_FORMS, PRESIDENTIAL_FORMS

MINIMAL = """\
deployment: test
languages: [en]
forms:
  - code: op
    kind: checklist
    name: Opening
    questions:
      - tag: a
        type: choice
        label: Opened?
        options: {1: Yes, 2: No}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(FormsError) as caught:
        load_forms(text)
    return [str(problem) for problem in caught.value.problems]


def test_the_issue_example_loads_unchanged(demo: Deployment) -> None:
    assert demo.deployment == "demo-election"
    assert demo.languages == ["ky", "ru", "en"]
    assert demo.default_language == "ky"
    assert [form.code for form in demo.forms] == ["OP", "IN"]
    opening = demo.form("OP")
    assert opening is not None
    assert [question.tag for question in opening.questions] == ["A", "B", "C", "D"]
    assert opening.checks[0].expr.tags == ("D", "B")


def test_yes_and_no_labels_stay_text(demo: Deployment) -> None:
    question = demo.forms[0].questions[0]
    assert {code: text_in(label, "en") for code, label in question.options.items()} == {
        1: "Yes",
        2: "No",
    }


def test_labels_come_out_exactly_as_written() -> None:
    text = MINIMAL.replace("label: Opened?", "label: 10:30").replace(
        "{1: Yes, 2: No}", "{1: On, 2: Off, 3: 2027-03-01, 4: 0x1F, 5: 1e3}"
    )
    question = load_forms(text).forms[0].questions[0]
    assert text_in(question.label, "en") == "10:30"
    assert [text_in(label, "en") for label in question.options.values()] == [
        "On", "Off", "2027-03-01", "0x1F", "1e3",
    ]  # fmt: skip


def test_codes_and_tags_are_case_insensitive_and_stored_upper_case() -> None:
    deployment = load_forms(MINIMAL)
    assert deployment.form("OP") is not None
    assert deployment.forms[0].question("A") is not None


def test_the_presidential_example_has_five_forms_in_three_languages(
    presidential: Deployment,
) -> None:
    assert [form.code for form in presidential.forms] == ["OP", "VP", "CL", "RS", "IN"]
    for form in presidential.forms:
        assert set(form.name) == {"ky", "ru", "en"}
        for question in form.questions:
            assert set(question.label) == {"ky", "ru", "en"}


def test_a_mistake_is_reported_with_location_line_and_sentence() -> None:
    text = MINIMAL.replace("type: choice", "type: choise")
    assert problems_of(text) == [
        "forms[0].questions[0].type (line 9): should be one of 'choice', 'multi' or "
        "'integer', not 'choise'"
    ]


def test_every_mistake_is_reported_not_just_the_first() -> None:
    text = MINIMAL.replace("kind: checklist", "kind: list").replace("tag: a", "tag: a1")
    found = problems_of(text)
    assert len(found) == 2
    assert found[0].startswith("forms[0].kind (line 5): should be one of")
    assert found[1].startswith("forms[0].questions[0].tag (line 8): should be Latin letters")


def test_an_unknown_field_names_the_fields_that_exist() -> None:
    text = MINIMAL.replace("        label: Opened?", "        label: Opened?\n        colour: red")
    assert problems_of(text) == [
        "forms[0].questions[0].colour (line 11): unknown field; the fields here are: "
        "tag, type, label, options, required, min, max"
    ]


def test_a_check_naming_a_tag_the_form_lacks_is_a_mistake() -> None:
    text = MINIMAL + "    checks:\n      - expr: A <= Z\n        message: nope\n"
    assert problems_of(text) == [
        "forms[0].checks[0].expr (line 13): uses Z, which form OP does not have (its tags: A)"
    ]


def test_a_check_that_does_not_parse_says_where() -> None:
    text = MINIMAL + "    checks:\n      - expr: A <= (1 +\n        message: nope\n"
    assert problems_of(text) == [
        "forms[0].checks[0].expr (line 13): 'A <= (1 +': expected a tag, a number or '(' "
        "but found the end of the check (at character 10)"
    ]


def test_duplicate_form_codes_tags_and_option_codes_are_mistakes() -> None:
    form = MINIMAL[MINIMAL.index("  - code") :]
    text = MINIMAL + form.replace("code: op", "code: OP")
    assert problems_of(text) == ["forms[1].code (line 12): OP is already the code of forms[0]"]
    text = MINIMAL.replace("{1: Yes, 2: No}", "{1: Yes, 01: No}")
    assert problems_of(text) == [
        "forms[0].questions[0].options (line 11): option code 1 is listed twice"
    ]


def test_duplicate_yaml_keys_are_mistakes_not_silently_overwritten() -> None:
    text = MINIMAL.replace("        label: Opened?", "        label: Opened?\n        label: Again")
    assert problems_of(text) == [
        "forms[0].questions[0].label (line 11): 'label' is given twice (first on line 10)"
    ]


def test_type_specific_fields_are_checked() -> None:
    text = MINIMAL.replace("options: {1: Yes, 2: No}", "min: 3")
    assert problems_of(text) == [
        "forms[0].questions[0].options (line 8): a choice question needs options, "
        "like {1: Yes, 2: No}",
        "forms[0].questions[0].min (line 11): only integer questions have min; this is a choice",
    ]
    text = MINIMAL.replace("type: choice", "type: integer").replace(
        "options: {1: Yes, 2: No}", "min: 10\n        max: 5"
    )
    assert problems_of(text) == ["forms[0].questions[0].min (line 11): 10 is larger than max (5)"]


def test_invalid_yaml_is_reported_with_its_line() -> None:
    found = problems_of(MINIMAL.replace("name: Opening", "name: [Opening"))
    assert len(found) == 1
    assert found[0].startswith("(line 7): not valid YAML") or "not valid YAML" in found[0]


def test_a_file_that_is_not_a_mapping_is_a_mistake() -> None:
    assert problems_of("- just\n- a list\n") == ["should be a mapping starting with 'deployment:'"]


def test_a_bad_option_label_points_at_its_option_code() -> None:
    assert problems_of(MINIMAL.replace("2: No}", "2: {de: Nein}}")) == [
        "forms[0].questions[0].options.2 (line 11): unknown language de; use ky, ru, en"
    ]


def test_unknown_reply_languages_are_mistakes() -> None:
    assert problems_of(MINIMAL.replace("[en]", "[en, de]")) == [
        "languages[1] (line 2): should be one of 'ky', 'ru' or 'en', not 'de'"
    ]


def test_the_content_hash_ignores_comments_and_formatting() -> None:
    reformatted = "# a comment\n" + MINIMAL.replace(
        "{1: Yes, 2: No}", "\n          1: Yes\n          2: No"
    )
    assert load_forms(MINIMAL).content_hash == load_forms(reformatted).content_hash
    assert load_forms(MINIMAL).content_hash != load_forms(MINIMAL.replace("Yes", "Ja")).content_hash


def test_example_files_exist() -> None:
    assert DEMO_FORMS.is_file()
    assert PRESIDENTIAL_FORMS.is_file()


DEMO_TEXT = DEMO_FORMS.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("mistake", "fixed", "line", "hint"),
    [
        ("    kind checklist", "    kind: checklist", 6, "a key needs ':'"),
        ('label: "Ballots issued by 10:00', 'label: "Ballots issued by 10:00"', 25, "a quote is"),
        ("         type: integer", "        type: integer", 15, "check the indentation"),
        ("\ttype: integer", "        type: integer", 15, "not tabs"),
        ("      label: Ballots received", "        label: Ballots received", 16, "indentation"),
        ("options: {1: Yes, 2: No ", "options: {1: Yes, 2: No} ", 12, "'{' is not closed"),
    ],
)
def test_a_yaml_mistake_points_at_its_own_line_and_shows_it(
    mistake: str, fixed: str, line: int, hint: str
) -> None:
    assert fixed in DEMO_TEXT
    [found] = problems_of(DEMO_TEXT.replace(fixed, mistake, 1))
    first, shown = found.split("\n")
    assert first.startswith(f"(line {line}): not valid YAML: ")
    assert hint in first
    assert shown == f"    {line:>4} | {DEMO_TEXT.replace(fixed, mistake, 1).splitlines()[line - 1]}"
