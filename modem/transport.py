"""Bytes to and from the serial port: pyserial under asyncio, feeding ``modem.at``.

``ATProtocol`` never awaits: it hands each chunk to the pure ``ATChannel`` and passes the events
up; an exception from the layer above is logged there and goes no further, so the reader never
dies. ``open_port`` is the one place where pyserial's and the OS's exceptions enter shailoo; they
leave as ``ModemConnectionError``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable

import serial
import serial_asyncio_fast

from modem.at import ATChannel, Event
from modem.errors import ModemConnectionError

__all__ = ["ATProtocol", "open_port"]

_LOGGER = logging.getLogger(__name__)


class ATProtocol(asyncio.Protocol):
    """Feeds received bytes to an ``ATChannel``; reports events and the end of the link."""

    def __init__(self, channel: ATChannel, on_events: Callable[[list[Event]], None]) -> None:
        self.channel = channel
        self.on_events = on_events
        self.lost: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        _LOGGER.debug("<- %r", data)
        try:
            self.on_events(self.channel.feed(data))
        except Exception:  # the reader must outlive any bug above it
            _LOGGER.exception("handling modem data %r failed; carrying on", data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)


async def open_port(
    device: str, baud: int, channel: ATChannel, on_events: Callable[[list[Event]], None]
) -> tuple[asyncio.Transport, ATProtocol]:
    """Open ``device`` (8N1, no flow control) and start feeding ``channel``."""
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await serial_asyncio_fast.create_serial_connection(
            loop, lambda: ATProtocol(channel, on_events), device, baudrate=baud,
            bytesize=serial.EIGHTBITS, parity=serial.PARITY_NONE, stopbits=serial.STOPBITS_ONE,
            rtscts=False, xonxoff=False, exclusive=True,
        )  # fmt: skip
    except (serial.SerialException, OSError) as exc:
        raise ModemConnectionError(_explain(device, exc)) from exc
    assert isinstance(protocol, ATProtocol)  # noqa: S101  # we passed the factory
    return transport, protocol


def _explain(device: str, exc: Exception) -> str:
    number = getattr(exc, "errno", None)
    text = str(exc)
    if number == errno.EACCES or "Permission denied" in text:
        return (
            f"{device}: permission denied. Add this user to the 'dialout' group "
            "(sudo usermod -aG dialout $USER, then log in again)."
        )
    if number == errno.ENOENT or "No such file" in text:
        return f"{device}: no such device. Is the modem plugged in? Try 'ls /dev/serial/by-id/'."
    if number == errno.EBUSY or "busy" in text.lower() or "lock" in text.lower():
        return f"{device}: in use by another program (ModemManager? gammu-smsd?). Stop it first."
    return f"{device}: cannot open ({text})"
