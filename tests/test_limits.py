"""The forms file leaves room for every reply: ``load_forms`` (so ``shailoo forms check``) refuses
forms whose replies could take two SMS. Segment counts come from the gateway's PDU encoder."""

from __future__ import annotations

import pytest

from modem.pdu import submit_pdus
from parser import Deployment, FormsError, load_forms, parse_message, render_reply
from parser.wording import rejected_header


def sms_parts(text: str) -> int:
    return len(submit_pdus("+996555000000", text))


def forms_file(code: str = "OP", message: str = "{en: B is over, ru: B, ky: B}") -> str:
    return (
        "deployment: t\nlanguages: [ky, ru, en]\nobserver_id: {min_digits: 3, max_digits: 6}\n"
        f"forms:\n  - code: {code}\n    kind: checklist\n    name: Opening\n    questions:\n"
        "      - {tag: A, type: integer, label: A, required: true}\n"
        "      - {tag: B, type: integer, label: B}\n"
        f"    checks:\n      - expr: B <= A\n        message: {message}\n"
    )


def problems(text: str) -> list[str]:
    with pytest.raises(FormsError) as raised:
        load_forms(text)
    return [str(problem) for problem in raised.value.problems]


@pytest.mark.parametrize("deployment", ["demo", "presidential"])
def test_the_example_forms_leave_room_for_every_reply(
    deployment: str, request: pytest.FixtureRequest
) -> None:
    forms: Deployment = request.getfixturevalue(deployment)
    assert forms.forms  # loading them raised nothing


def test_a_form_code_too_long_for_the_ok_reply_is_refused() -> None:
    found = problems(forms_file(code="OPENINGOFTHEPOLLINGSTATIONMORNING"))
    assert any(problem.startswith("forms[0].code") and "ky" in problem for problem in found)


def test_the_longest_accepted_form_code_still_gets_a_one_sms_ok_reply() -> None:
    code = "OP"
    while True:  # grow the code until the forms file is refused
        try:
            load_forms(forms_file(code=code + "X"))
        except FormsError:
            break
        code += "X"
    forms = load_forms(forms_file(code=code))
    for language in ("ky", "ru", "en"):
        text = render_reply(parse_message(f"{code} 123456 A1 B1", forms), forms, language)
        assert sms_parts(text) == 1, text


def test_a_check_message_is_refused_when_it_cannot_follow_the_longest_header() -> None:
    too_long = "ж" * 44  # ky: 70 - len("OP 999999 кабыл алынбады: ") - len(".") = 43
    found = problems(forms_file(message=f"{{en: B is over, ru: B, ky: {too_long}}}"))
    assert len(found) == 1
    assert found[0].startswith("forms[0].checks[0].message")
    assert "43 characters" in found[0]


@pytest.mark.parametrize(("language", "room"), [("ky", 43), ("ru", 47)])
def test_a_check_message_of_the_stated_room_fits_one_sms(language: str, room: int) -> None:
    texts = {"ky": "B", "ru": "B", "en": "B is over"} | {language: "ж" * room}
    message = "{" + ", ".join(f"{key}: {text}" for key, text in texts.items()) + "}"
    forms = load_forms(forms_file(message=message))
    text = render_reply(parse_message("OP 123456 A1 B2", forms), forms, language)
    assert text == rejected_header(language, "OP", "123456") + "ж" * room + "."
    assert sms_parts(text) == 1


def test_an_english_message_outside_gsm7_is_refused() -> None:
    found = problems(forms_file(message="{en: B ≠ A, ru: B, ky: B}"))
    assert len(found) == 1
    assert "GSM 7-bit" in found[0]
    assert "≠" in found[0]


def test_an_english_reply_with_a_check_message_stays_gsm7() -> None:
    forms = load_forms(forms_file())
    text = render_reply(parse_message("OP 123456 A1 B2", forms), forms, "en")
    assert text.isascii()
    assert sms_parts(text) == 1


def test_english_limits_apply_only_when_replies_go_out_in_english() -> None:
    text = forms_file(message="{ru: B ≠ A, ky: B ≠ A}").replace("[ky, ru, en]", "[ky, ru]")
    assert load_forms(text).languages == ["ky", "ru"]
