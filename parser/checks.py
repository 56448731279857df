"""Cross-field checks: a small expression language over a form's question tags.

A check such as ``D <= B`` or ``V == G + H and not (A = 2 and B > 0)`` is compiled once when the
forms file loads, then evaluated against each message's answers. Values: an ``integer`` question
is its number, a ``choice`` question its option code, a ``multi`` question the number of options
chosen. Comparisons and ``and``/``or``/``not`` give booleans; a check passes when its value is
true (a bare number is true when non-zero). Keywords are case-insensitive, as are tags.

The grammar (each ``_parse_x`` method's docstring holds its rule)::

    check      = or_expr END
    or_expr    = and_expr { "or" and_expr }
    and_expr   = not_expr { "and" not_expr }
    not_expr   = "not" not_expr | comparison
    comparison = sum [ compare_op sum ]
    compare_op = "<" | "<=" | ">" | ">=" | "=" | "==" | "!=" | "<>"
    sum        = product { ( "+" | "-" ) product }
    product    = unary { "*" unary }
    unary      = "-" unary | atom
    atom       = INTEGER | TAG | "(" or_expr ")"
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from parser.errors import CheckSyntaxError

__all__ = ["KEYWORDS", "Expression", "compile_check"]

KEYWORDS = frozenset({"AND", "OR", "NOT"})
_MAX_LENGTH = 500
_MAX_NESTING = 30  # parentheses, 'not' and '-': keeps recursion far from Python's limit

Value = int | bool
Answers = Mapping[str, int | tuple[int, ...]]

_TOKEN_RE = re.compile(r"\s*(?:(?P<int>\d+)|(?P<name>[A-Za-z]+)|(?P<op><=|>=|==|!=|<>|[-+*()<>=]))")
_COMPARE: dict[str, Callable[[Value, Value], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "=": operator.eq, "==": operator.eq, "!=": operator.ne, "<>": operator.ne,
}  # fmt: skip
_ARITHMETIC: dict[str, Callable[[int, int], int]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled check: its source, the tags it reads (in order of first use), and its tree."""

    source: str
    tags: tuple[str, ...]
    tag_set: frozenset[str]
    _root: _Node

    def holds(self, answers: Answers) -> bool:
        """Whether the check passes for ``answers``, which must hold every tag in ``tags``."""
        return bool(self._root.evaluate(answers))


def compile_check(source: str) -> Expression:
    """Compile a check expression; raise ``CheckSyntaxError`` saying what is wrong and where."""
    if len(source) > _MAX_LENGTH:
        raise CheckSyntaxError(f"is longer than {_MAX_LENGTH} characters", 0)
    parser = _Parser(source)
    root = parser.parse()
    tags = tuple(dict.fromkeys(parser.tags))
    return Expression(source, tags, frozenset(tags), root)


class _Node:
    def evaluate(self, answers: Answers) -> Value:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Number(_Node):
    value: int

    def evaluate(self, answers: Answers) -> Value:
        return self.value


@dataclass(frozen=True, slots=True)
class _Tag(_Node):
    tag: str

    def evaluate(self, answers: Answers) -> Value:
        value = answers[self.tag]
        return len(value) if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True)
class _Negate(_Node):
    operand: _Node

    def evaluate(self, answers: Answers) -> Value:
        return -int(self.operand.evaluate(answers))


@dataclass(frozen=True, slots=True)
class _Not(_Node):
    operand: _Node

    def evaluate(self, answers: Answers) -> Value:
        return not self.operand.evaluate(answers)


@dataclass(frozen=True, slots=True)
class _Binary(_Node):
    """Arithmetic or a comparison: ``op`` is a key of ``_ARITHMETIC`` or ``_COMPARE``."""

    op: str
    left: _Node
    right: _Node

    def evaluate(self, answers: Answers) -> Value:
        left, right = self.left.evaluate(answers), self.right.evaluate(answers)
        if self.op in _COMPARE:
            return _COMPARE[self.op](left, right)
        return _ARITHMETIC[self.op](int(left), int(right))


@dataclass(frozen=True, slots=True)
class _Logic(_Node):
    op: str  # "AND" or "OR"
    left: _Node
    right: _Node

    def evaluate(self, answers: Answers) -> Value:
        left = bool(self.left.evaluate(answers))
        if self.op == "AND":
            return left and bool(self.right.evaluate(answers))
        return left or bool(self.right.evaluate(answers))


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # "int", "name", "op" or "end"
    text: str
    position: int


class _Parser:
    """Recursive descent over the lexemes of one expression."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lexemes = _lex(source)
        self.index = 0
        self.nesting = 0
        self.tags: list[str] = []

    def parse(self) -> _Node:
        """check = or_expr END"""
        node = self._parse_or()
        self._expect("end", "an operator or the end of the check")
        return node

    def _parse_or(self) -> _Node:
        """or_expr = and_expr { "or" and_expr }"""
        node = self._parse_and()
        while self._accept_keyword("OR"):
            node = _Logic("OR", node, self._parse_and())
        return node

    def _parse_and(self) -> _Node:
        """and_expr = not_expr { "and" not_expr }"""
        node = self._parse_not()
        while self._accept_keyword("AND"):
            node = _Logic("AND", node, self._parse_not())
        return node

    def _parse_not(self) -> _Node:
        """not_expr = "not" not_expr | comparison"""
        if self._accept_keyword("NOT"):
            self._nest()
            return _Not(self._parse_not())
        return self._parse_comparison()

    def _parse_comparison(self) -> _Node:
        """comparison = sum [ compare_op sum ]"""
        node = self._parse_sum()
        lexeme = self._peek()
        if lexeme.kind == "op" and lexeme.text in _COMPARE:
            self.index += 1
            node = _Binary(lexeme.text, node, self._parse_sum())
        return node

    def _parse_sum(self) -> _Node:
        """sum = product { ( "+" | "-" ) product }"""
        node = self._parse_product()
        while (lexeme := self._peek()).kind == "op" and lexeme.text in "+-":
            self.index += 1
            node = _Binary(lexeme.text, node, self._parse_product())
        return node

    def _parse_product(self) -> _Node:
        """product = unary { "*" unary }"""
        node = self._parse_unary()
        while (lexeme := self._peek()).kind == "op" and lexeme.text == "*":
            self.index += 1
            node = _Binary("*", node, self._parse_unary())
        return node

    def _parse_unary(self) -> _Node:
        """unary = "-" unary | atom"""
        lexeme = self._peek()
        if lexeme.kind == "op" and lexeme.text == "-":
            self.index += 1
            self._nest()
            return _Negate(self._parse_unary())
        return self._parse_atom()

    def _parse_atom(self) -> _Node:
        """atom = INTEGER | TAG | "(" or_expr ")\""""
        lexeme = self._peek()
        self.index += 1
        if lexeme.kind == "int":
            return _Number(int(lexeme.text))
        if lexeme.kind == "name" and lexeme.text.upper() not in KEYWORDS:
            self.tags.append(lexeme.text.upper())
            return _Tag(lexeme.text.upper())
        if lexeme.kind == "op" and lexeme.text == "(":
            self._nest()
            node = self._parse_or()
            self._expect("op", "a closing ')'", text=")")
            return node
        self.index -= 1
        raise CheckSyntaxError(
            f"expected a tag, a number or '(' but found {_describe(lexeme)}", lexeme.position
        )

    def _nest(self) -> None:
        # Counted, never released: a check is short, and this bounds the recursion outright.
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            raise CheckSyntaxError("is nested too deeply", self._peek().position)

    def _peek(self) -> _Lexeme:
        return self.lexemes[self.index]

    def _accept_keyword(self, keyword: str) -> bool:
        lexeme = self._peek()
        if lexeme.kind == "name" and lexeme.text.upper() == keyword:
            self.index += 1
            return True
        return False

    def _expect(self, kind: str, expected: str, text: str | None = None) -> None:
        lexeme = self._peek()
        if lexeme.kind != kind or (text is not None and lexeme.text != text):
            raise CheckSyntaxError(
                f"expected {expected} but found {_describe(lexeme)}", lexeme.position
            )
        self.index += 1


def _lex(source: str) -> list[_Lexeme]:
    lexemes: list[_Lexeme] = []
    position = 0
    while position < len(source.rstrip()):
        match = _TOKEN_RE.match(source, position)
        if match is None:
            at = len(source) - len(source[position:].lstrip())
            raise CheckSyntaxError(f"unexpected character {source[at]!r}", at)
        kind = match.lastgroup or "op"
        lexemes.append(_Lexeme(kind, match.group(kind), match.start(kind)))
        position = match.end()
    lexemes.append(_Lexeme("end", "", len(source)))
    return lexemes


def _describe(lexeme: _Lexeme) -> str:
    return "the end of the check" if lexeme.kind == "end" else repr(lexeme.text)
