"""How much text fits in one SMS segment (3GPP TS 23.038).

A text made only of GSM 7-bit default alphabet characters travels as GSM-7: 160 septets, the
extension characters (``{ } [ ] ~ \\ ^ | €`` and form feed) taking two each. Anything else, one
Cyrillic letter included, makes the whole message UCS-2: 70 UTF-16 code units.
"""

from __future__ import annotations

__all__ = [
    "GSM7_SEPTETS",
    "UCS2_UNITS",
    "fits_one_segment",
    "is_gsm7",
    "length_in_segment",
    "segment_count",
]

GSM7_SEPTETS = 160
UCS2_UNITS = 70

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can travel in the GSM 7-bit alphabet."""
    return all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text)


def length_in_segment(text: str) -> tuple[int, int]:
    """``(used, limit)``: septets of 160 for GSM-7 text, UTF-16 units of 70 otherwise."""
    if is_gsm7(text):
        return len(text) + sum(char in _GSM7_EXTENSION for char in text), GSM7_SEPTETS
    return len(text.encode("utf-16-le")) // 2, UCS2_UNITS


def fits_one_segment(text: str) -> bool:
    """Whether ``text`` goes out as a single SMS."""
    used, limit = length_in_segment(text)
    return used <= limit


_HEADER_UNITS = {GSM7_SEPTETS: 7, UCS2_UNITS: 3}  # a multipart segment's header takes these


def segment_count(text: str) -> int:
    """How many SMS ``text`` goes out as (multipart segments carry a 6-byte header)."""
    used, limit = length_in_segment(text)
    if used <= limit:
        return 1
    per_part = limit - _HEADER_UNITS[limit]
    return -(-used // per_part)
