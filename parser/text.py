"""Normalising what an observer's phone produced, keeping a map back to the original characters.

Phones switch keyboards, auto-correct and insert full-width or Arabic-Indic digits. Before the
grammar sees a message, each character cluster (a base character and its combining marks) is
NFKC-normalised and every decimal digit of any script becomes its ASCII digit. Normalising can
change lengths (``ﬁ`` becomes ``fi``), so every normalised character remembers the original
span it came from: errors point at what the observer typed, not at our rewriting.

Reading Cyrillic lookalikes as Latin letters is a *word*-level decision and lives in
``parser.tokens``: ``Привет`` is unexpected text, not ``P``, ``BET`` and some noise.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["NormalizedText", "normalize"]

_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")


@dataclass(slots=True)  # not frozen: built for every SMS, and frozen dataclasses build slowly
class NormalizedText:
    """``text`` after NFKC and digit folding; ``starts``/``ends`` map each character back.

    Both maps are ``None`` when normalising changed nothing and every index maps to itself:
    the usual case, since most phones send ASCII or already-normalised Cyrillic.
    """

    source: str
    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of normalised characters ``start`` to ``end`` (exclusive)."""
        if self.starts is None or self.ends is None:
            return (start, end)
        if start >= end:  # zero-width: the position just before normalised char ``start``
            at = self.starts[start] if start < len(self.starts) else len(self.source)
            return (at, at)
        return (self.starts[start], self.ends[end - 1])

    def original(self, start: int, end: int) -> str:
        """The text the observer typed for normalised characters ``start`` to ``end``."""
        first, last = self.span(start, end)
        return self.source[first:last]


def normalize(source: str) -> NormalizedText:
    """NFKC-normalise ``source`` cluster by cluster and fold decimal digits to ASCII."""
    if source.isascii() or (
        unicodedata.is_normalized("NFKC", source) and not _NON_ASCII_DIGIT.search(source)
    ):
        return NormalizedText(source, source)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for start, end in _clusters(source):
        folded = _fold_cluster(source[start:end])
        pieces.append(folded)
        starts.extend([start] * len(folded))
        ends.extend([end] * len(folded))
    return NormalizedText(source, "".join(pieces), tuple(starts), tuple(ends))


def _clusters(source: str) -> list[tuple[int, int]]:
    """Spans of a base character followed by its combining marks."""
    spans: list[tuple[int, int]] = []
    for index, char in enumerate(source):
        if spans and unicodedata.combining(char):
            spans[-1] = (spans[-1][0], index + 1)
        else:
            spans.append((index, index + 1))
    return spans


@lru_cache(maxsize=4096)
def _fold_cluster(cluster: str) -> str:
    # Cached: a day's traffic uses a few hundred distinct characters.
    folded = unicodedata.normalize("NFKC", cluster)
    return "".join(_ascii_digit(char) for char in folded)


def _ascii_digit(char: str) -> str:
    if char.isascii():
        return char
    digit = unicodedata.decimal(char, None)
    return char if digit is None else str(digit)
