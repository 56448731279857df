"""Splitting a normalised SMS into words, numbers and the rest.

Tokens (over ``NormalizedText.text``)::

    LETTERS    = latin-letter { latin-letter }      a word of Latin letters or Latin lookalikes
    DIGITS     = digit { digit }
    OTHER      = letter { letter }                  a word with a letter that is not Latin-like
    separator  = any run of other characters        whitespace, punctuation, symbols

Separators are not tokens; each token records whether it is ``joined`` to the previous one
(no separator between them), which the grammar needs: ``B25O`` is not ``B 25 O``.

A word is read as Latin when every letter in it is Latin or a Cyrillic/Greek lookalike of a Latin
letter (``ОР`` typed on a Russian keyboard is ``OP``); otherwise the whole word is ``OTHER``, so a
Russian word is reported as unexpected text rather than half-read as codes.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

from parser.text import NormalizedText

__all__ = ["Kind", "Token", "to_latin", "tokenize"]

# Case is kept so that the grammar can tell ``l`` (looks like 1) from ``L``.
_LOOKALIKES = {
    # Cyrillic (Russian, Kyrgyz, Kazakh, Ukrainian, Serbian)
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ү": "Y", "Һ": "H", "Ӏ": "I",
    "Ԛ": "Q", "Ԝ": "W",
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ү": "y", "һ": "h", "ӏ": "l",
    "ԛ": "q", "ԝ": "w",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "α": "a", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "υ": "u", "χ": "x",
}  # fmt: skip
_TO_LATIN = str.maketrans(_LOOKALIKES)

# Separators are matched too, so that the pieces cover the text and offsets are running sums:
# ``findall`` is several times faster than building a match object per token.
_PIECES_RE = re.compile(r"([^\W\d_]+)|(\d+)|([\W_]+)")


def to_latin(text: str) -> str:
    """``text`` with every Cyrillic or Greek lookalike replaced by its Latin letter."""
    return text.translate(_TO_LATIN)


class Kind(Enum):
    """What a token is."""

    LETTERS = "letters"
    DIGITS = "digits"
    OTHER = "other"


class Token(NamedTuple):
    """A token over the normalised text.

    ``value`` is upper-case Latin for LETTERS, ASCII digits for DIGITS and the text as normalised
    for OTHER; ``typed`` is the Latin reading before upper-casing (``l`` vs ``L``).
    """

    kind: Kind
    start: int
    end: int
    value: str
    typed: str
    joined: bool


def tokenize(text: NormalizedText, end: int | None = None) -> list[Token]:
    """Tokens of ``text.text[:end]``, in order."""
    tokens: list[Token] = []
    start = 0
    joined = False
    for word, digits, separator in _PIECES_RE.findall(
        text.text, 0, len(text.text) if end is None else end
    ):
        if separator:
            start += len(separator)
            joined = False
            continue
        if digits:
            tokens.append(Token(Kind.DIGITS, start, start + len(digits), digits, digits, joined))
            start += len(digits)
        else:
            tokens.append(_word(word, start, joined))
            start += len(word)
        joined = True
    return tokens


def _word(word: str, start: int, joined: bool) -> Token:
    latin = word if word.isascii() else to_latin(word)
    if latin.isascii():
        return Token(Kind.LETTERS, start, start + len(word), latin.upper(), latin, joined)
    return Token(Kind.OTHER, start, start + len(word), word, word, joined)
