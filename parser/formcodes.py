"""Reading the form code: the one word where a Cyrillic letter may stand for its sound.

Everywhere else a Cyrillic letter that looks like a Latin one is read as that letter (``ОР`` is
``OP``). A form code is also said aloud in training, so an observer may type ``ВС`` for ``VS``:
``В`` looks like ``B`` but sounds like ``V``. For the form code only, each of ``В Р Н С У Х``
may be read by its look or by its sound (``V R N S U H``). The word names a form when exactly one
reading is a known code; two known readings are ambiguous, and we never guess between them.
"""

from __future__ import annotations

import itertools
from collections.abc import Container

from parser.tokens import to_latin

__all__ = ["form_readings"]

_BY_SOUND = {"В": "V", "Р": "R", "Н": "N", "С": "S", "У": "U", "Х": "H"}
_BY_SOUND.update({cyrillic.lower(): latin for cyrillic, latin in list(_BY_SOUND.items())})
# 2**8 readings at most: a form code is a few letters, and a long word is no code anyway.
_MAX_SOUNDED = 8


def form_readings(word: str, codes: Container[str]) -> list[str]:
    """The known form ``codes`` that ``word`` (Latin letters and lookalikes) can be read as.

    The reading by look comes first when it is a code. One reading: that form. More than one:
    the word is ambiguous. None: no form.
    """
    by_look = to_latin(word).upper()
    sounded = [char for char in word if char in _BY_SOUND]
    if not sounded or len(sounded) > _MAX_SOUNDED:
        return [by_look] if by_look in codes else []
    letters = [
        (look, _BY_SOUND[char]) if char in _BY_SOUND else (look,)
        for char, look in zip(word, by_look, strict=True)
    ]
    readings = dict.fromkeys("".join(reading) for reading in itertools.product(*letters))
    return [reading for reading in readings if reading in codes]
