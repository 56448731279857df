"""Bounded slots for long requests (CSV exports, event streams): a few per token, a few more in
all, so that no caller and no crowd can take every database connection or all the memory.

A slot is taken before the response starts, so a refusal is an ordinary error answer (429
``RATE_LIMITED`` when this token has all of its own, 503 ``BUSY`` when everyone together has all
there are, both with ``Retry-After``), and given back when the response ends however it ends.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.errors import Busy, RateLimited

__all__ = ["Slot", "Slots", "SlottedStream"]


@dataclass
class Slots:
    """At most ``per_token`` held by one token and ``total`` by all of them."""

    what: str
    per_token: int
    total: int
    retry_after_s: float = 5.0
    _held: Counter[int] = field(default_factory=Counter)

    def take(self, token_id: int) -> Slot:
        """A slot for ``token_id``; ``RateLimited`` or ``Busy`` when none is free."""
        if self._held[token_id] >= self.per_token:
            raise RateLimited(
                f"this token has {self.per_token} {self.what} open already; finish one first",
                retry_after_s=self.retry_after_s,
            )
        if sum(self._held.values()) >= self.total:
            raise Busy(
                f"{self.total} {self.what} are open already; retry shortly",
                retry_after_s=self.retry_after_s,
            )
        self._held[token_id] += 1
        return Slot(self, token_id)

    def held(self, token_id: int | None = None) -> int:
        """How many are held (by ``token_id``, or by all)."""
        return sum(self._held.values()) if token_id is None else self._held[token_id]

    def _give_back(self, token_id: int) -> None:
        self._held[token_id] -= 1
        if self._held[token_id] <= 0:
            del self._held[token_id]


@dataclass
class Slot:
    """One taken slot; ``release`` gives it back (once, however often it is called)."""

    slots: Slots
    token_id: int
    released: bool = False

    def release(self) -> None:
        """Give the slot back."""
        if not self.released:
            self.released = True
            self.slots._give_back(self.token_id)


class SlottedStream(StreamingResponse):
    """A streamed response that gives its slot back when it ends, sent or not: the body's
    own ``finally`` would not run when the client left before the first chunk."""

    slot: Slot | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.slot is not None:
                self.slot.release()
