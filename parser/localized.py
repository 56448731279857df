"""Texts written in several languages: a forms file's labels and check messages.

A text is a mapping from language (``ky``, ``ru``, ``en``) to text; a text written once for all
languages is stored under ``*``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ANY_LANGUAGE", "text_in"]

ANY_LANGUAGE = "*"


def text_in(texts: Mapping[str, str], language: str) -> str:
    """The text for ``language``: its own, else the one written for all, else English, else any."""
    for key in (language, ANY_LANGUAGE, "en"):
        if key in texts:
            return texts[key]
    return next(iter(texts.values()), "")
