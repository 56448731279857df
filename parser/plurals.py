"""Which plural form a count takes in a reply language, by the CLDR rules that Babel ships.

Russian has four forms (``1 цифра``, ``4 цифры``, ``5 цифр``, ``21 цифра``), English two and
Kyrgyz two that read the same after a number. Hand-written endings get this wrong (``4 цифр``), so
every counted word in a reply picks its form here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from babel import Locale

__all__ = ["plural_category", "pluralize"]


@lru_cache(maxsize=8)
def _locale(language: str) -> Locale:
    # Cached: parsing a locale reads Babel's data files, and replies are made for every SMS.
    return Locale.parse(language)


def plural_category(language: str, count: int) -> str:
    """The CLDR plural category of ``count`` in ``language``: ``one``, ``few``, ``many``..."""
    return str(_locale(language).plural_form(count))


def pluralize(language: str, count: int, forms: Mapping[str, str]) -> str:
    """The text of ``forms`` for ``count``'s category, else its ``other`` form."""
    return forms.get(plural_category(language, count), forms["other"])
