"""The console's languages: ky, ru and en, from gettext catalogs read with Babel.

The ``.po`` files ship in the package and are compiled in memory at first use, so there is no
build step and no binary file in the tree. English is the source language: its catalog may be
empty, and any message missing from a catalog shows in English.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "chosen_language", "translations"]

LANGUAGES: Final = ("ky", "ru", "en")
DEFAULT_LANGUAGE: Final = "ky"
DOMAIN: Final = "console"


@cache
def translations(language: str) -> Translations:
    """The catalog of ``language`` (one of ``LANGUAGES``), compiled once per process."""
    po = resources.files("api.console") / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def chosen_language(cookie: str | None) -> str:
    """The language a cookie asks for, or the default for anything else."""
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE
