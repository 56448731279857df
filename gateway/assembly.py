"""Reassembling stored parts into messages. Pure: rows in, groups out.

A part without concatenation info is a message by itself. Parts of a concatenated SMS are
grouped by modem, sender, reference and part count; a group is ready when every part arrived,
or, after ``incomplete_after``, with what arrived (status ``incomplete``). Parts that could not be
decoded are messages by themselves (status ``undecodable``), kept for audit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.models import InboundPartRow

__all__ = ["Assembled", "assemble"]


@dataclass(frozen=True, slots=True)
class Assembled:
    """Parts that make one message, in order, and whether any is missing.

    ``rows`` are every stored row of the group, repeats of a part included, so that all of
    them are linked to the message and none is picked up again.
    """

    parts: tuple[InboundPartRow, ...]
    complete: bool
    rows: tuple[InboundPartRow, ...]

    @property
    def text(self) -> str:
        """The message text: the parts' texts in order (missing ones left out)."""
        return "".join(part.text for part in self.parts)

    @property
    def first(self) -> InboundPartRow:
        """The first part present (sender, modem and times come from it)."""
        return self.parts[0]


def assemble(
    rows: Sequence[InboundPartRow], now: datetime, incomplete_after: timedelta
) -> list[Assembled]:
    """The messages ready among ``rows``: single parts, complete groups, and stale groups."""
    ready: list[Assembled] = []
    groups: dict[tuple[str, str, int, int], list[InboundPartRow]] = defaultdict(list)
    for row in rows:
        if row.decode_error is not None or row.concat_total is None or row.concat_total <= 1:
            ready.append(Assembled((row,), True, (row,)))
        else:
            key = (row.modem_imsi, row.sender, row.concat_ref or 0, row.concat_total)
            groups[key].append(row)
    for (_, _, _, total), parts in groups.items():
        by_number: dict[int | None, InboundPartRow] = {}
        for part in sorted(parts, key=lambda p: p.id):
            by_number.setdefault(part.concat_part, part)  # a repeated part: the first counts
        ordered = tuple(by_number[number] for number in sorted(n for n in by_number if n))
        complete = len(ordered) == total and set(by_number) == set(range(1, total + 1))
        oldest = min(part.received_at for part in parts)
        if complete or now - oldest >= incomplete_after:
            ready.append(Assembled(ordered or tuple(parts), complete, tuple(parts)))
    return sorted(ready, key=lambda message: message.first.id)
