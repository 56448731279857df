"""The gateway's traffic log: one INFO line per SMS in and out, for ``journalctl -f``.

Phone numbers are masked (``+996*******56``: at most the first four characters and the last
two) unless ``SHAILOO_LOG_PHONES=full``: logs travel further than the database does.
"""

from __future__ import annotations

import logging

from parser.segments import segment_count

__all__ = ["TrafficLog", "mask_phone"]

_LOGGER = logging.getLogger("shailoo.traffic")
_SHOWN_HEAD, _SHOWN_TAIL = 4, 2


def mask_phone(phone: str) -> str:
    """``phone`` with all but its first four characters and last two hidden (short ones whole)."""
    hidden = len(phone) - _SHOWN_HEAD - _SHOWN_TAIL
    if hidden < 2:  # too short to show a part and hide the rest
        return "*" * len(phone)
    return phone[:_SHOWN_HEAD] + "*" * hidden + phone[-_SHOWN_TAIL:]


class TrafficLog:
    """Writes the per-SMS lines; ``full`` shows whole phone numbers."""

    def __init__(self, full: bool = False) -> None:
        self.full = full

    def phone(self, phone: str) -> str:
        """``phone`` as the log shows it."""
        return phone if self.full else mask_phone(phone)

    def received(
        self,
        sender: str,
        form: str | None,
        observer: str | None,
        status: str,
        errors: list[str],
        reply: str | None,
    ) -> None:
        """An SMS in: who, which form and observer, what became of it, the reply's size."""
        _LOGGER.info(
            "SMS in from %s: form %s, observer %s, %s%s, reply %s",
            self.phone(sender), form or "-", observer or "-", status,
            f" ({', '.join(errors)})" if errors else "",
            f"{segment_count(reply)} segment(s)" if reply else "none",
        )  # fmt: skip

    def sent(self, recipient: str, status: str, parts: int, error: str | None = None) -> None:
        """An SMS out: to whom, sent or failed, in how many parts."""
        _LOGGER.info(
            "SMS out to %s: %s, %d part(s)%s",
            self.phone(recipient), status, parts, f" ({error})" if error else "",
        )  # fmt: skip
