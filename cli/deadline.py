"""A deadline for each HTTP request's line and headers, on top of uvicorn's own protocols.

uvicorn times out idle kept-alive connections but not a client that opens a connection and
sends its headers a byte at a time (slowloris): each such client would hold a socket and a
little memory forever. The deadline starts when a connection is made and again after each
response, and is lifted once a whole request head has arrived (the protocol then has a new
request cycle); past it, a connection with no request in hand is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT_S", "HeadTimedH11", "HeadTimedProtocol"]

HEADER_TIMEOUT_S = 10.0


class _HeadDeadline(asyncio.Protocol):
    """Mixed in before one of uvicorn's HTTP protocols (see ``head_timed_protocol``)."""

    header_timeout_s = HEADER_TIMEOUT_S
    _deadline: asyncio.TimerHandle | None = None
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        waiting = self.cycle
        super().data_received(data)
        if self.cycle is not waiting:  # a request's head arrived
            self._lift()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing() and (self.cycle is None or
                                                self.cycle.response_complete):  # fmt: skip
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lift()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._lift()
        self._deadline = self.loop.call_later(self.header_timeout_s, self._head_late)

    def _lift(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_late(self) -> None:
        self._deadline = None
        idle = self.cycle is None or self.cycle.response_complete
        if idle and not self.transport.is_closing():
            self.transport.close()


class HeadTimedH11(_HeadDeadline, H11Protocol):
    """uvicorn's pure-Python HTTP/1.1 protocol, with the deadline."""


# The protocol uvicorn's "auto" would choose, with the deadline.
HeadTimedProtocol: type[_HeadDeadline]
try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools (the faster parser) is not installed
    HeadTimedProtocol = HeadTimedH11
else:

    class HeadTimedHttpTools(_HeadDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol (what it picks when installed), with the deadline."""

    HeadTimedProtocol = HeadTimedHttpTools
