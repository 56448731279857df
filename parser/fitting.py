"""Fitting a rejected report's reply into one SMS segment without cutting anything in half.

A reply is a header, whole items separated by ``; `` and a full stop, then the advice to resend
when it still fits. Each item comes as variants, the most helpful first (``missing: E, F, G``,
then ``missing: E,F,G``). Items are taken in order, each in the first variant that leaves room
for a note counting every item not yet shown; an item with no variant that fits is left out and
counted (``+2 more problems``). Words and numbers are never cut.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from parser.segments import fits_one_segment

__all__ = ["fit_items"]


def fit_items(
    header: str,
    items: Sequence[Sequence[str]],
    dropped_note: Callable[[int], str],
    closing: str,
) -> str:
    """``header`` and as many whole ``items`` as fit one segment, the rest counted by a note.

    ``dropped_note(n)`` says that ``n`` items were left out. Nothing is ever cut: the result
    fits one segment whenever the header and the note alone do.
    """
    shown: list[str] = []
    for index, variants in enumerate(items):
        # Room for the worst case: every item after this one left out too.
        unseen = len(items) - index - 1
        left_out = index - len(shown) + unseen
        for variant in variants:
            if fits_one_segment(_compose(header, [*shown, variant], dropped_note, left_out)):
                shown.append(variant)
                break
    text = _compose(header, shown, dropped_note, len(items) - len(shown))
    # A smaller count can take a longer word (Russian "ещё 1 ошибка" vs "ещё 2 ошибки").
    while not fits_one_segment(text) and shown:
        shown.pop()
        text = _compose(header, shown, dropped_note, len(items) - len(shown))
    return text + closing if fits_one_segment(text + closing) else text


def _compose(
    header: str, shown: list[str], dropped_note: Callable[[int], str], left_out: int
) -> str:
    parts = [*shown, dropped_note(left_out)] if left_out else shown
    return header + "; ".join(parts) + "."
