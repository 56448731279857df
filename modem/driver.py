"""``ATDriver``: one AT command at a time, with a timeout, over ``modem.transport``.

A command registers itself with the channel (the waiter) before its bytes are written, so a fast
answer can never arrive unclaimed; then it waits for its final result code under a timeout. One
command is in flight at a time (a lock): modems answer strictly in order and interleaving two
commands' bytes confuses every one of them. Unsolicited result codes arriving meanwhile go to
``on_urc``; the link going down wakes the waiter at once with ``ModemConnectionError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modem.at import ATChannel, Completed, Event, Noise, Prompt, Unsolicited
from modem.errors import (
    ATCommandError,
    ATTimeout,
    CMEError,
    CMSError,
    ModemConnectionError,
)
from modem.transport import ATProtocol, open_port

__all__ = ["ATDriver", "Timeouts"]

_LOGGER = logging.getLogger(__name__)
_CTRL_Z = "\x1a"
_ERROR_CODE = re.compile(r"\+CM([ES]) ERROR: ?(\d+)")
# Lines modems send all the time; anything else (RDY, +CPIN: READY, +CFUN: 1...) may mean the
# modem restarted and lost its settings.
_ROUTINE = re.compile(r"\+CMTI:|\+CDSI:|RING|\+CREG:|\+CGREG:|\^(RSSI|HCSQ|MODE|DSFLOWRPT|BOOT)")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long to wait, in seconds. Defaults suit USB sticks; override per modem in settings."""

    command_s: float = 5.0  # most commands answer within milliseconds
    list_s: float = 30.0  # AT+CMGL over a full SIM at a slow line
    prompt_s: float = 5.0  # "> " after AT+CMGS
    send_s: float = 60.0  # AT+CMGS: the network may take this long to accept
    close_s: float = 2.0  # the port closing
    open_s: float = 10.0  # the port opening (a wedged USB device can block open())


class ATDriver:
    """Talks AT to one modem device; ``open`` first, ``close`` last."""

    def __init__(
        self,
        device: str,
        *,
        baud: int = 115_200,
        timeouts: Timeouts | None = None,
        on_urc: Callable[[Unsolicited], None] | None = None,
    ) -> None:
        self.device = device
        self.baud = baud
        self.timeouts = timeouts or Timeouts()
        self.on_urc = on_urc
        self._channel = ATChannel()
        self._transport: asyncio.Transport | None = None
        self._protocol: ATProtocol | None = None
        self._lock = asyncio.Lock()
        self.out_of_band = 0  # unusual lines seen (a reboot banner?): callers re-check state
        self._waiter: asyncio.Future[Completed] | None = None
        self._prompt: asyncio.Future[None] | None = None

    @property
    def is_open(self) -> bool:
        """Whether the port is open and has not gone away."""
        return self._protocol is not None and not self._protocol.lost.done()

    async def open(self) -> None:
        """Open the port; raises ``ModemConnectionError`` with what to do when it cannot."""
        self._channel = ATChannel()
        try:
            async with asyncio.timeout(self.timeouts.open_s):
                self._transport, self._protocol = await open_port(
                    self.device, self.baud, self._channel, self._events_received
                )
        except TimeoutError:
            raise ModemConnectionError(
                f"{self.device}: opening took over {self.timeouts.open_s:g} s; "
                "unplug the modem and plug it in again"
            ) from None
        self._protocol.lost.add_done_callback(self._link_lost)

    async def close(self) -> None:
        """Close the port and wait until it is closed."""
        transport, protocol = self._transport, self._protocol
        self._transport = self._protocol = None
        if transport is None or protocol is None:
            return
        transport.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeouts.close_s):
                await protocol.lost
        await asyncio.sleep(0)  # let the transport's closing task finish

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once when the port goes away or is closed."""
        if self._protocol is not None:
            self._protocol.lost.add_done_callback(lambda _: callback())

    def abort_input(self) -> None:
        """Send ESC: cancels a half-typed command or a PDU prompt a previous user left."""
        if self._transport is not None and self.is_open:
            self._write("\x1b\r")

    async def command(
        self,
        command: str,
        *,
        timeout_s: float | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> Completed:
        """Send ``command``; its response, or ``ATCommandError``/``ATTimeout``. ``on_line`` is
        called with each response line as it arrives (it must not block)."""
        async with self._lock:
            waiter = self._register(command, on_line)
            try:
                self._write(command + "\r")
                return await self._finish(command, waiter, timeout_s or self.timeouts.command_s)
            finally:
                self._release(waiter)

    async def command_with_data(
        self, command: str, data: str, *, timeout_s: float | None = None
    ) -> Completed:
        """``AT+CMGS=<n>``: send ``command``, wait for ``> ``, send ``data`` and Ctrl-Z."""
        async with self._lock:
            waiter = self._register(command)
            try:
                return await self._with_data(command, waiter, data, timeout_s)
            finally:
                self._release(waiter)

    async def _with_data(
        self, command: str, waiter: asyncio.Future[Completed], data: str, timeout_s: float | None
    ) -> Completed:
        loop = asyncio.get_running_loop()
        self._prompt = prompt = loop.create_future()
        self._write(command + "\r")
        try:
            async with asyncio.timeout(self.timeouts.prompt_s):
                await asyncio.wait({prompt, waiter}, return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            self._abandon(waiter)
            raise ATTimeout(command, self.timeouts.prompt_s) from None
        if prompt.done() and (lost := prompt.exception()) is not None:
            raise lost
        if waiter.done():  # an error instead of the prompt
            return self._result(command, waiter.result())
        self._channel.expect_echo(data)
        self._write(data + _CTRL_Z)
        return await self._finish(command, waiter, timeout_s or self.timeouts.send_s)

    def _register(
        self, command: str, on_line: Callable[[str], None] | None = None
    ) -> asyncio.Future[Completed]:
        if not self.is_open:
            raise ModemConnectionError(f"{self.device}: not open")
        self._channel.start(command, on_line)
        self._waiter = asyncio.get_running_loop().create_future()
        return self._waiter

    def _write(self, text: str) -> None:
        _LOGGER.debug("-> %r", text)
        assert self._transport is not None  # noqa: S101  # _register checked is_open
        self._transport.write(text.encode("latin-1"))

    async def _finish(
        self, command: str, waiter: asyncio.Future[Completed], timeout_s: float
    ) -> Completed:
        try:
            async with asyncio.timeout(timeout_s):
                completed = await waiter
        except TimeoutError:
            self._abandon(waiter)
            raise ATTimeout(command, timeout_s) from None
        return self._result(command, completed)

    def _release(self, waiter: asyncio.Future[Completed]) -> None:
        """Abandon ``waiter`` if it is still outstanding, however its command ended: an outer
        cancellation (a caller's own timeout) skips every ``except``."""
        if self._waiter is waiter:
            self._abandon(waiter)

    def _abandon(self, waiter: asyncio.Future[Completed]) -> None:
        # A late answer must not be taken for the next command's.
        self._channel.cancel()
        waiter.cancel()
        self._waiter = self._prompt = None

    @staticmethod
    def _result(command: str, completed: Completed) -> Completed:
        if completed.ok:
            return completed
        match = _ERROR_CODE.fullmatch(completed.final)
        if match is None:
            raise ATCommandError(command, completed.final)
        kind, code = match.group(1), int(match.group(2))
        error = CMEError if kind == "E" else CMSError
        raise error(command, completed.final, code)

    def _events_received(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Completed):
                self._complete(event)
            elif isinstance(event, Prompt):
                if self._prompt is not None and not self._prompt.done():
                    self._prompt.set_result(None)
            elif isinstance(event, Unsolicited):
                self._count_unusual(event.line)
                self._unsolicited(event)
            elif isinstance(event, Noise):
                self._count_unusual(event.line)
                _LOGGER.debug("%s: ignoring %r", self.device, event.line)

    def _count_unusual(self, line: str) -> None:
        if not _ROUTINE.match(line):
            self.out_of_band += 1

    def _complete(self, event: Completed) -> None:
        waiter, self._waiter, self._prompt = self._waiter, None, None
        if waiter is not None and not waiter.done():
            waiter.set_result(event)

    def _unsolicited(self, event: Unsolicited) -> None:
        if self.on_urc is None:
            return
        try:
            self.on_urc(event)
        except Exception:  # a handler's bug must not stop the reader
            _LOGGER.exception("%s: handling %r failed", self.device, event.line)

    def _link_lost(self, lost: asyncio.Future[Exception | None]) -> None:
        reason = None if lost.cancelled() else lost.result()
        error = ModemConnectionError(f"{self.device}: the port went away ({reason or 'closed'})")
        for future in (self._waiter, self._prompt):
            if future is not None and not future.done():
                future.set_exception(error)
                # Whoever awaits it gets the error; if nobody does, it is not worth a warning.
                future.add_done_callback(_retrieve)
        self._waiter = self._prompt = None


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
