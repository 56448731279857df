"""A virtual GSM modem on a pseudo-terminal, for tests, ``make demo`` and users' dry runs.

The driver under test (or ``gammu``) opens a real serial device path; on the other end this
emulator speaks the 3GPP TS 27.005/27.007 subset that SMS gateways use, the way real USB sticks
do: echo, verbose result codes, ``> `` prompts, ``+CMTI`` on arrival, SM and ME storages with
capacities, PDU and text mode. Incoming SMS are built by ``modem.network`` as an SMSC builds
them (multipart, UCS-2). Faults are injected through ``Faults``: a response delay, bytes paced
at a baud rate, a per-command latency (SIM writes slower than reads), no V.250 concatenation,
dropped responses, garbage and Huawei noise, ``+CMS ERROR`` on chosen commands, storage full
(arrivals wait at the "network" until space frees), index numbering from 0 or 1, hang, and
unplug (the pty closes; ``replug`` opens a new one behind the same symlink).

Usage::

    emulator = ModemEmulator(link="/tmp/modem0")
    await emulator.start()
    emulator.deliver("+996555123456", "OP 1234 A1 B250")
    ...
    await emulator.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import termios
import time
import tty
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from modem.emulator_commands import CommandHandler, StoredSMS
from modem.network import deliver_pdus

__all__ = ["DEFAULT_BAUD", "SIM_WRITE_FACTOR", "Faults", "ModemEmulator", "SentSMS", "StoredSMS"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_BAUD = 115_200
_BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit
_CHUNK_BYTES = 64
_SLEEP_GRANULARITY_S = 0.001  # shorter asyncio sleeps overshoot more than they wait
_ESC, _CTRL_Z = 0x1B, 0x1A
_BISHKEK = timezone(timedelta(hours=6))
# Writing a SIM record (EF_SMS) takes longer than reading the modem's copy of it: real sticks
# answer AT+CMGD in tens of milliseconds where AT+CMGR takes a few.
SIM_WRITE_FACTOR = 2.0
_SIM_WRITES = ("AT+CMGD", "AT+CMGW")


@dataclass
class Faults:
    """What the emulated modem does wrong; change fields at any time.

    ``baud`` paces every byte in both directions (None: as fast as the pty goes).
    ``cms_errors`` maps a command prefix (``"AT+CMGD"``) to the ``+CMS ERROR`` code it gets.
    ``full`` makes storage refuse arrivals: they wait at the network until space frees.
    ``latency_ms`` is how long each command takes to run, ``SIM_WRITE_FACTOR`` times longer
    for SIM writes (``AT+CMGD``); each command of a concatenated line takes its own.
    ``no_concat`` refuses every line with more than one command (``AT+CMGD=1;+CMGD=2``) with
    ``ERROR`` and runs none of it, as modems without V.250 concatenation do.
    """

    delay_s: float = 0.0
    baud: int | None = None
    latency_ms: float = 0.0
    no_concat: bool = False
    drop_responses: int = 0
    cms_errors: dict[str, int] = field(default_factory=dict)
    hang: bool = False
    noise_every_s: float | None = None
    urc_inside_responses: bool = False


@dataclass(frozen=True, slots=True)
class SentSMS:
    """One ``AT+CMGS`` the emulator accepted: the PDU, its reference, and when."""

    pdu_hex: str
    reference: int
    at: float


class ModemEmulator:
    """A GSM modem on a pty; see the module docstring."""

    def __init__(
        self,
        *,
        link: str | None = None,
        imei: str = "356938035643809",
        imsi: str = "437051234567890",
        capacities: dict[str, int] | None = None,
        index_base: int = 1,
        pin: str | None = None,
        puk_required: bool = False,
        faults: Faults | None = None,
        no_concat: bool = False,
        latency_ms: float = 0.0,
    ) -> None:
        self.link = link
        self.faults = faults or Faults()
        # Shorthands for the two faults ``shailoo modem emulate`` offers as flags.
        self.faults.no_concat = self.faults.no_concat or no_concat
        self.faults.latency_ms = self.faults.latency_ms or latency_ms
        self.sent: list[SentSMS] = []
        self.on_sent: Callable[[SentSMS], None] | None = None  # told of each AT+CMGS accepted
        self.received_commands: list[str] = []
        self.received_at: list[float] = []  # time.monotonic() of each received command
        self.commands = CommandHandler(
            imei=imei,
            imsi=imsi,
            capacities=capacities or {"SM": 30, "ME": 100},
            index_base=index_base,
            pin=pin,
            puk_required=puk_required,
        )
        self._master: int | None = None
        self._slave: int | None = None
        self._device: str | None = None
        self._input = bytearray()
        self._pdu_for: int | None = None  # TPDU length announced by AT+CMGS, awaiting data
        self._output: deque[bytes] = deque()
        self._output_ready = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._line_clock = 0.0
        self._line_busy = False
        self._waiting: deque[tuple[str, str]] = deque()  # arrivals held while storage is full
        self._reference = 0
        self._running = asyncio.Lock()  # the command line running (with a latency)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def device(self) -> str:
        """The path to open: the symlink if one was asked for, else the pty's slave name."""
        if self.link is not None:
            return self.link
        if self._device is None:
            raise RuntimeError("the emulator is not started")
        return self._device

    @property
    def pty_path(self) -> str | None:
        """The pseudo-terminal's own path (``/dev/pts/N``) while plugged in."""
        return self._device if self._master is not None else None

    async def start(self) -> None:
        """Open the pty and start answering."""
        self._open_pty()
        self._spawn(self._write_loop())
        self._spawn(self._noise_loop())

    async def stop(self) -> None:
        """Stop answering and close the pty."""
        self._close_pty()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link)

    def unplug(self) -> None:
        """Vanish like a USB stick pulled out: the client's next read or write fails."""
        self._close_pty()

    def replug(self) -> None:
        """Come back on a new pty behind the same symlink, after a restart (echo on again)."""
        self._close_pty()
        self.commands.reset()
        self._open_pty()

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave, termios.TCSANOW)  # no line discipline: bytes pass as a UART's would
        os.set_blocking(master, False)
        self._master, self._slave, self._device = master, slave, os.ttyname(slave)
        if self.link is not None:
            temporary = f"{self.link}.{os.getpid()}.tmp"
            os.symlink(self._device, temporary)
            os.replace(temporary, self.link)  # atomic: a reader never sees no link
        asyncio.get_running_loop().add_reader(master, self._readable)
        self._input.clear()
        self._output.clear()
        self._pdu_for = None

    def _close_pty(self) -> None:
        if self._master is None:
            return
        asyncio.get_running_loop().remove_reader(self._master)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the network side --------------------------------------------------------------------

    def deliver(self, sender: str, text: str, *, timestamp: datetime | None = None) -> list[str]:
        """An SMS from ``sender`` arrives: its PDUs (one per part), stored or held if full."""
        moment = timestamp or datetime.now(_BISHKEK).replace(microsecond=0)
        self._reference = (self._reference + 1) % 256
        pdus = deliver_pdus(sender, text, timestamp=moment, reference=self._reference)
        for pdu in pdus:
            self._waiting.append((pdu, sender))
        self._flush_waiting()
        return pdus

    def deliver_pdu(self, pdu_hex: str) -> None:
        """Store a ready-made PDU (SMSC field first) as if it had just arrived."""
        self._waiting.append((pdu_hex, ""))
        self._flush_waiting()

    def _flush_waiting(self) -> None:
        # A real SMSC retries while the SIM is full; arrivals keep their order.
        while self._waiting:
            stored = self.commands.store(self._waiting[0][0])
            if stored is None:
                return
            self._waiting.popleft()
            storage, index = stored
            if self.commands.notify_arrivals:
                self._send(f'\r\n+CMTI: "{storage}",{index}\r\n'.encode())

    @property
    def waiting_at_network(self) -> int:
        """Arrivals held back because the storage is full."""
        return len(self._waiting)

    def stored(self, storage: str = "SM") -> dict[int, StoredSMS]:
        """The messages in ``storage`` by index."""
        return dict(self.commands.storages[storage].messages)

    def inject(self, data: bytes) -> None:
        """Send raw bytes to the client as they are (garbage, noise, a URC)."""
        self._send(data)

    # -- bytes in ----------------------------------------------------------------------------

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 4096) if self._master is not None else b""
        except OSError:  # EIO: no client has the slave open right now
            data = b""
        if not data or self.faults.hang:
            return
        for byte in data:
            self._byte_received(byte)

    def _byte_received(self, byte: int) -> None:
        if self.commands.echo:
            self._send(bytes([byte]))
        if self._pdu_for is not None:
            self._pdu_byte(byte)
            return
        if byte == _ESC:
            self._input.clear()
        elif byte in (0x0D, 0x0A):
            if self._input:
                line = self._input.decode("latin-1")
                self._input.clear()
                self._command(line)
        else:
            self._input.append(byte)

    def _pdu_byte(self, byte: int) -> None:
        if byte == _ESC:  # abort sending
            self._input.clear()
            self._pdu_for = None
            self._respond("", "OK")
        elif byte == _CTRL_Z:
            pdu = self._input.decode("latin-1").strip()
            self._input.clear()
            self._pdu_for = None
            self._submit(pdu)
        else:
            self._input.append(byte)

    def _command(self, line: str) -> None:
        command = line.strip()
        if not command.upper().startswith("AT"):
            return  # line noise before a command: real modems ignore it
        self.received_commands.append(command)
        self.received_at.append(time.monotonic())
        if (code := self._cms_fault(command)) is not None:
            self._respond("", f"+CMS ERROR: {code}", self._latency_s(command))
            return
        if match := re.fullmatch(r"AT\+CMGS=(\d+)", command, re.IGNORECASE):
            self._pdu_for = int(match.group(1))
            self._send(b"\r\n> ", self._latency_s(command))
            return
        if self.faults.no_concat and ";" in command:
            self._respond(*self.commands.refuse(), self._latency_s(command))
            return
        if self.faults.latency_ms > 0:
            self._spawn(self._run_slowly(command))
            return
        bodies: list[str] = []
        final = "OK"
        # V.250: extended commands may be concatenated with ";" (AT+CMGD=1;+CMGD=2); they run in
        # order and the first error ends the line.
        for single in _commands_of(command):
            final = self._run(single, bodies)
            if final != "OK":
                break
        self._finish(command, bodies, final)

    async def _run_slowly(self, command: str) -> None:
        # Each command takes effect when it has run, and a modem runs one line at a time.
        async with self._running:
            bodies: list[str] = []
            final = "OK"
            for single in _commands_of(command):
                await asyncio.sleep(self._latency_s(single))
                final = self._run(single, bodies)
                if final != "OK":
                    break
            self._finish(command, bodies, final)

    def _run(self, single: str, bodies: list[str]) -> str:
        """Run one command of a line, adding its response to ``bodies``; its final code."""
        fault = self._cms_fault(single)
        body, final = (
            ("", f"+CMS ERROR: {fault}") if fault is not None else self.commands.handle(single)
        )
        bodies += [body] if body else []
        return final

    def _finish(self, command: str, bodies: list[str], final: str) -> None:
        self._respond("\r\n".join(bodies), final)
        if command.upper().startswith("AT+CMGD"):
            self._flush_waiting()

    def _latency_s(self, command: str) -> float:
        latency_s = self.faults.latency_ms / 1000
        writes = command.upper().startswith(_SIM_WRITES)
        return latency_s * SIM_WRITE_FACTOR if writes else latency_s

    def _cms_fault(self, command: str) -> int | None:
        for prefix, code in self.faults.cms_errors.items():
            if command.upper().startswith(prefix.upper()):
                return code
        return None

    def _submit(self, pdu: str) -> None:
        self.commands.message_reference = (self.commands.message_reference + 1) % 256
        reference = self.commands.message_reference
        sent = SentSMS(pdu, reference, time.monotonic())
        self.sent.append(sent)
        if self.on_sent is not None:
            self.on_sent(sent)
        self._respond(f"+CMGS: {reference}", "OK")

    # -- bytes out ---------------------------------------------------------------------------

    def _respond(self, body: str, final: str, took_s: float = 0.0) -> None:
        if self.faults.drop_responses > 0:
            self.faults.drop_responses -= 1
            return
        if self.faults.urc_inside_responses and "\r\n" in body:
            # Noise and a URC between two lines of one response, as busy modems do.
            first, rest = body.split("\r\n", 1)
            body = f"{first}\r\n^RSSI:15\r\n+CREG: 1\r\n{rest}"
        text = f"\r\n{body}\r\n" if body else ""
        self._send(
            f"{text}\r\n{final}\r\n".encode("latin-1", errors="replace"),
            delay_s=self.faults.delay_s + took_s,
        )

    def _send(self, data: bytes, delay_s: float = 0.0) -> None:
        if delay_s > 0:
            asyncio.get_running_loop().call_later(delay_s, self._send, data)
            return
        self._output.append(data)
        self._output_ready.set()

    async def _write_loop(self) -> None:
        while True:
            self._line_busy = False
            await self._output_ready.wait()
            self._output_ready.clear()
            while self._output:
                await self._write_all(self._output.popleft())

    async def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self._master is not None:
            chunk = view[:_CHUNK_BYTES]
            if self.faults.baud:  # the bytes leave no faster than the line carries them
                now = time.monotonic()
                # A UART sends back to back while its FIFO has data: within a burst the clock
                # carries on from the last byte even when our sleep woke a little late.
                start = self._line_clock if self._line_busy else now
                self._line_busy = True
                self._line_clock = start + self._line_time(len(chunk))
                if self._line_clock - now > _SLEEP_GRANULARITY_S:
                    await asyncio.sleep(self._line_clock - now)
                # else: a few bytes on an idle line; sleeping would overshoot by a millisecond
                # per answer, far more than the line time itself, so they go out now.
            try:
                written = os.write(self._master, chunk) if self._master is not None else 0
            except BlockingIOError:  # the client is not reading yet: wait as a UART's FIFO
                await asyncio.sleep(0.005)
                continue
            except OSError as exc:
                _LOGGER.debug("emulator write failed: %s", exc)
                return
            view = view[written:]

    def _line_time(self, count: int) -> float:
        return count * _BITS_PER_BYTE / self.faults.baud if self.faults.baud else 0.0

    async def _noise_loop(self) -> None:
        while True:
            interval = self.faults.noise_every_s
            await asyncio.sleep(interval or 0.5)
            if interval:
                self._send(b"\r\n^RSSI:17\r\n\r\n^MODE:5,4\r\n")


def _commands_of(line: str) -> list[str]:
    """``AT+CMGD=1;+CMGD=2`` → ``["AT+CMGD=1", "AT+CMGD=2"]``."""
    return [part if number == 0 else "AT" + part for number, part in enumerate(line.split(";"))]
