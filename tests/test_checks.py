"""Check expressions: the small language forms use for cross-field checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parser import CheckSyntaxError, compile_check


@pytest.mark.parametrize(
    ("expr", "answers", "holds"),
    [
        ("D <= B", {"D": 3, "B": 5}, True),
        ("D <= B", {"D": 6, "B": 5}, False),
        ("F + G == E", {"F": 2, "G": 8, "E": 10}, True),
        ("F + G = E", {"F": 2, "G": 8, "E": 11}, False),
        ("A * 2 - 1 > B", {"A": 3, "B": 4}, True),
        ("-A + 5 >= 0", {"A": 5}, True),
        ("a != 2 or b > 0", {"A": 2, "B": 0}, False),
        ("A <> 2 OR B > 0", {"A": 1, "B": 0}, True),
        ("not (A = 2 and B > 0)", {"A": 2, "B": 1}, False),
        ("A = 1 and B", {"A": 1, "B": 0}, False),
        ("C >= 2", {"C": (1, 3)}, True),  # a multi answer counts its options
        ("2 * (A + B) < 10", {"A": 2, "B": 2}, True),
    ],
)
def test_checks_evaluate_like_arithmetic_and_logic(expr, answers, holds) -> None:
    assert compile_check(expr).holds(answers) is holds


def test_a_check_lists_the_tags_it_reads_in_order_of_first_use() -> None:
    assert compile_check("h + j + k == g and h >= 0").tags == ("H", "J", "K", "G")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("D <=", "expected a tag, a number or '(' but found the end of the check (at character 5)"),
        ("D <= B B", "expected an operator or the end of the check but found 'B' (at character 8)"),
        ("(A + 1", "expected a closing ')' but found the end of the check (at character 7)"),
        ("A / 2", "unexpected character '/' (at character 3)"),
        ("and A", "expected a tag, a number or '(' but found 'and' (at character 1)"),
    ],
)
def test_syntax_errors_say_what_was_expected_and_where(expr: str, message: str) -> None:
    with pytest.raises(CheckSyntaxError) as caught:
        compile_check(expr)
    assert str(caught.value) == message


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    for expr in ("(" * 200 + "A" + ")" * 200, "-" * 400 + "A", "not " * 100 + "A"):
        with pytest.raises(CheckSyntaxError):
            compile_check(expr)


@given(st.text(alphabet="ABab012 ()+-*<>=!notandr", max_size=60))
def test_any_expression_text_compiles_or_raises_a_syntax_error(expr: str) -> None:
    try:
        compiled = compile_check(expr)
    except CheckSyntaxError:
        return
    assert compiled.holds(dict.fromkeys(compiled.tags, 1)) in (True, False)
