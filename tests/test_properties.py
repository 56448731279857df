"""Properties of the parser over generated messages (hypothesis).

1. Any text gives a result and never an exception; spans lie inside the text; a result is ok
   exactly when it has no error; every result has a reply that fits one SMS.
2. Valid answers written in any accepted spelling (case, Cyrillic lookalikes, any separators or
   none, split observer IDs, O/l for 0/1 after digits, joined or separated multi options, a
   comment) parse back to the same answers.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parser import Deployment, load_forms, parse_message, render_reply, to_json
from parser.fastpath import read_plain
from parser.grammar import parse_full, split_comment
from parser.segments import fits_one_segment
from tests.conftest import DEMO_FORMS

DEMO: Deployment = load_forms(DEMO_FORMS.read_text(encoding="utf-8"))

SEPARATORS = [
    "",
    " ",
    "  ",
    ",",
    ", ",
    "-",
    ".",
    ";",
    ":",
    "=",
    "_",
    "/",
    "+",
    "*",
    "\n",
    "\t",
    "!",
]
NONEMPTY_SEPARATORS = [separator for separator in SEPARATORS if separator]
CYRILLIC = {"A": "Аа", "B": "В", "C": "Сс", "K": "Кк", "O": "Оо", "P": "Рр", "E": "Ее"}
LOOKALIKE_DIGITS = {"0": "OoОо", "1": "Il"}

MESSAGE_ALPHABET = "OPINKABCDopinkabcd0123456789 ,.-=@ОРАВСКоравск١٢Жж\u0301ﬁ\n"


@given(st.text())
def test_any_text_gives_a_result_never_an_exception(text: str) -> None:
    assert_well_formed(text)


@given(st.text(alphabet=MESSAGE_ALPHABET, max_size=80))
def test_any_message_like_text_gives_a_result_never_an_exception(text: str) -> None:
    assert_well_formed(text)


def assert_well_formed(text: str) -> None:
    result = parse_message(text, DEMO)
    assert result.ok == (not result.errors)
    for error in result.errors:
        start, end = error.span
        assert 0 <= start <= end <= len(text)
    for language in ("ky", "ru", "en"):
        assert fits_one_segment(render_reply(result, DEMO, language))
    json.dumps(to_json(result, DEMO, "en"), ensure_ascii=False)


@st.composite
def letter(draw: st.DrawFn, char: str) -> str:
    """A Latin letter as a phone may type it: either case, or a Cyrillic lookalike."""
    spellings = [char, char.lower(), *CYRILLIC.get(char, "")]
    return draw(st.sampled_from(spellings))


@st.composite
def digits(draw: st.DrawFn, number: str) -> str:
    """``number`` with some 0s and 1s after its first digit typed as O, o, I or l."""
    out = number[0]
    for char in number[1:]:
        if char in LOOKALIKE_DIGITS and draw(st.booleans()):
            out += draw(st.sampled_from(LOOKALIKE_DIGITS[char]))
        else:
            out += char
    return out


@st.composite
def separator(draw: st.DrawFn, required: bool = False) -> str:
    return draw(st.sampled_from(NONEMPTY_SEPARATORS if required else SEPARATORS))


@st.composite
def observer_id(draw: st.DrawFn) -> tuple[str, str]:
    """An ID and its spelling, possibly split into chunks by separators."""
    value = draw(st.text(alphabet="0123456789", min_size=3, max_size=6))
    cuts = (
        sorted(draw(st.sets(st.integers(1, len(value) - 1), max_size=2))) if len(value) > 1 else []
    )
    chunks = [value[a:b] for a, b in zip([0, *cuts], [*cuts, len(value)], strict=True)]
    spelled = [draw(digits(chunk)) for chunk in chunks]
    return value, "".join(part + draw(separator(required=True)) for part in spelled[:-1]) + spelled[
        -1
    ]


@st.composite
def multi_value(draw: st.DrawFn, codes: list[int]) -> str:
    written = [str(code) for code in codes]
    written += draw(st.lists(st.sampled_from(written), max_size=2))  # repeats collapse
    written = draw(st.permutations(written))
    if draw(st.booleans()):
        return "".join(written)
    return "".join(code + draw(separator(required=True)) for code in written[:-1]) + written[-1]


@st.composite
def opening_report(draw: st.DrawFn) -> tuple[str, str, dict[str, object]]:
    """A valid OP report, its expected observer and answers, and one spelling of it."""
    answers: dict[str, object] = {"A": draw(st.integers(1, 2))}
    if draw(st.booleans()):
        answers["B"] = draw(st.integers(0, 5000))
    if draw(st.booleans()):
        answers["C"] = tuple(sorted(draw(st.sets(st.integers(1, 4), min_size=1))))
    if draw(st.booleans()):
        answers["D"] = draw(st.integers(0, 5000))
    observer, spelled_id = draw(observer_id())
    text = "".join(draw(letter(char)) for char in "OP") + draw(separator()) + spelled_id
    order = draw(st.permutations(list(answers)))
    for tag in order:
        value = answers[tag]
        if isinstance(value, tuple):
            written = draw(multi_value(list(value)))
        else:
            written = draw(digits(str(value)))
        # a separator is required after an ID that may end in a lookalike letter only when the
        # tag is itself a lookalike: none of A-D is, so any separator (or none) will do
        text += draw(separator()) + draw(letter(tag)) + draw(separator()) + written
    if draw(st.booleans()):
        text += draw(separator()) + "@" + draw(st.text(max_size=20))
    return text, observer, answers


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(opening_report())
def test_valid_answers_in_any_accepted_spelling_parse_back_the_same(
    report: tuple[str, str, dict[str, object]],
) -> None:
    text, observer, answers = report
    result = parse_message(text, DEMO)
    assert (result.form, result.observer, dict(result.answers)) == ("OP", observer, answers), (
        text,
        result.errors,
    )
    check_holds = not ("B" in answers and "D" in answers) or answers["D"] <= answers["B"]  # type: ignore[operator]
    assert result.ok == check_holds, (text, result.errors)


def assert_shortcut_agrees(text: str) -> None:
    body, comment = split_comment(text)
    plain = read_plain(text, body, comment, DEMO)
    if plain is not None:
        assert plain == parse_full(text, DEMO)


@given(st.text(alphabet=MESSAGE_ALPHABET, max_size=60))
def test_the_plain_message_shortcut_agrees_with_the_full_grammar(text: str) -> None:
    assert_shortcut_agrees(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(opening_report())
def test_the_shortcut_agrees_on_every_spelling_of_valid_reports(
    report: tuple[str, str, dict[str, object]],
) -> None:
    assert_shortcut_agrees(report[0])
