"""What is wrong with a file that is not UTF-8: Windows programs in a Russian or Kyrgyz locale
save text as cp1251 ("ANSI") unless told otherwise, and a tired tech person needs to hear that
first, then how to save it as UTF-8 (each caller says how, for its kind of file)."""

from __future__ import annotations

__all__ = ["SAVE_CSV_AS_UTF8", "SAVE_TEXT_AS_UTF8", "not_utf8"]

SAVE_CSV_AS_UTF8 = (
    "Save it as UTF-8: in Excel, File > Save As > 'CSV UTF-8 (Comma delimited)'; in LibreOffice, "
    "File > Save As > Text CSV, tick 'Edit filter settings', Character set 'Unicode (UTF-8)'"
)
SAVE_TEXT_AS_UTF8 = (
    "Save it as UTF-8: in Notepad, File > Save As, Encoding 'UTF-8'; in Notepad++, "
    "Encoding > Convert to UTF-8"
)
_CYRILLIC = ("\u0400", "\u04ff")


def not_utf8(raw: bytes, exc: UnicodeDecodeError) -> str:
    """``the file is saved in ... (cp1251)``, or ``not UTF-8 text (line N)`` for anything else."""
    try:
        looks_cyrillic = any(_CYRILLIC[0] <= char <= _CYRILLIC[1] for char in raw.decode("cp1251"))
    except UnicodeDecodeError:
        looks_cyrillic = False
    if looks_cyrillic:
        return "the file is saved in the Windows Cyrillic encoding (cp1251), not UTF-8"
    line = raw.count(b"\n", 0, exc.start) + 1
    return f"the file is not UTF-8 text (line {line})"
