"""AT framing, pure: bytes in, lines, prompts, responses and unsolicited codes out. No I/O.

``LineFramer`` cuts the byte stream into lines (a modem may end them with CR, LF or both, and
sends the ``> `` prompt of ``AT+CMGS`` without any line end). ``ATChannel`` sits on top and
knows the one command in flight: each line is its echo, a line of its response, its final result
code, or an unsolicited result code (URC) that arrived in between, at any moment, also in the
middle of a response. Noise (``^RSSI``, ``^BOOT``, ``RING``, garbage bytes) is reported as such
and never breaks framing: the next line end resynchronises.

Final result codes (3GPP TS 27.007 §5.7, 27.005 §3.2.5)::

    final = "OK" | "ERROR" | "+CME ERROR: " code | "+CMS ERROR: " code
          | "NO CARRIER" | "BUSY" | "NO ANSWER" | "NO DIALTONE" | "COMMAND NOT SUPPORT"
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "MAX_LINE_BYTES",
    "ATChannel",
    "Completed",
    "Event",
    "LineFramer",
    "Noise",
    "Prompt",
    "Unsolicited",
    "is_final",
]

MAX_LINE_BYTES = 4096  # longer than any AT line (a PDU is at most 2 * 176 hex digits)
_PROMPT = b"> "
_FINAL_RE = re.compile(
    r"OK|ERROR|\+CM[ES] ERROR: ?.*|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE|COMMAND NOT SUPPORT"
)
# URCs whose next line is part of them (the PDU of a routed SMS or status report).
_TWO_LINE_URCS = ("+CMT:", "+CDS:", "+CBM:")
_URC_PREFIXES = (
    "+CMTI:", "+CDSI:", "+CBMI:", "+CMT:", "+CDS:", "+CBM:", "RING", "+CRING:", "+CLIP:",
    "+CREG:", "+CGREG:", "+CEREG:", "+CUSD:", "+CIEV:", "+PACSP", "+STIN:", "+CPIN:",
)  # fmt: skip
# Vendor noise: Huawei ^RSSI/^BOOT/^MODE/^SRVST..., ZTE +ZPASR..., Quectel +QIND...
_NOISE_RE = re.compile(r"\^[A-Z]+:?.*|\+Z[A-Z]+:.*|\+QIND:.*|\+QUSIM:.*|RDY|\+CFUN: ?\d|SMS DONE")


def is_final(line: str) -> bool:
    """Whether ``line`` is a final result code."""
    return _FINAL_RE.fullmatch(line) is not None


@dataclass(slots=True)
class LineFramer:
    """Cuts bytes into lines; yields ``"> "`` alone when the prompt waits for PDU data."""

    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[str | bytes]:
        """Complete lines (``str``) and prompts (``b"> "``) found so far, in order."""
        self.buffer += data
        out: list[str | bytes] = []
        while self.buffer:
            if self.buffer.startswith(_PROMPT):
                del self.buffer[:2]
                out.append(_PROMPT)
                continue
            cut = _line_end(self.buffer)
            if cut < 0:
                if len(self.buffer) > MAX_LINE_BYTES:  # a modem that never ends its line
                    out.append(self.buffer.decode("latin-1"))
                    self.buffer.clear()
                break
            line = bytes(self.buffer[:cut])
            del self.buffer[: cut + 1]
            if line.strip(b"\r\n\x00 "):
                out.append(_decode(line.strip(b"\r\n\x00 ")))
        return out


def _line_end(buffer: bytearray) -> int:
    ends = [index for index in (buffer.find(b"\r"), buffer.find(b"\n")) if index >= 0]
    return min(ends) if ends else -1


def _decode(line: bytes) -> str:
    try:
        return line.decode("ascii")
    except UnicodeDecodeError:
        return line.decode("latin-1")  # garbage: kept byte for byte, logged by the caller


@dataclass(frozen=True, slots=True)
class Completed:
    """The command in flight got its final result code."""

    command: str
    lines: tuple[str, ...]
    final: str

    @property
    def ok(self) -> bool:
        """Whether the final result code is ``OK``."""
        return self.final == "OK"


@dataclass(frozen=True, slots=True)
class Prompt:
    """The modem waits for PDU data (``> ``)."""


@dataclass(frozen=True, slots=True)
class Unsolicited:
    """An unsolicited result code: its line and, for ``+CMT:``/``+CDS:``, the PDU line."""

    line: str
    body: str | None = None

    @property
    def name(self) -> str:
        """``+CMTI``, ``RING``...: the part before the colon."""
        return self.line.split(":", 1)[0].strip()

    @property
    def value(self) -> str:
        """What follows the colon, stripped."""
        return self.line.split(":", 1)[1].strip() if ":" in self.line else ""


@dataclass(frozen=True, slots=True)
class Noise:
    """A line that is neither a response nor a URC we act on: kept for the debug log."""

    line: str


Event = Completed | Prompt | Unsolicited | Noise


@dataclass(slots=True)
class _Pending:
    command: str
    echoes: set[str]
    lines: list[str] = field(default_factory=list)
    on_line: Callable[[str], None] | None = None  # each response line as it arrives


@dataclass(slots=True)
class ATChannel:
    """Routes framed lines: to the command in flight, or out as URCs and noise."""

    framer: LineFramer = field(default_factory=LineFramer)
    pending: _Pending | None = None
    _urc_head: str | None = None

    def start(self, command: str, on_line: Callable[[str], None] | None = None) -> None:
        """Register ``command`` as the one in flight; call before writing it. ``on_line`` sees
        each line of its response as it arrives (a long listing can be used before its end)."""
        self.pending = _Pending(command, {command}, on_line=on_line)

    def expect_echo(self, text: str) -> None:
        """Also skip ``text`` if echoed back (PDU data sent after a prompt)."""
        if self.pending is not None:
            self.pending.echoes.update({text, text.rstrip("\x1a"), text + "\x1a"})

    def cancel(self) -> None:
        """Forget the command in flight (it timed out); late answers become noise."""
        self.pending = None

    def feed(self, data: bytes) -> list[Event]:
        """Events from ``data``, in order."""
        events: list[Event] = []
        for item in self.framer.feed(data):
            if isinstance(item, bytes):
                events.append(Prompt() if self.pending is not None else Noise("> "))
            else:
                event = self._route(item)
                if event is not None:
                    events.append(event)
        return events

    def _route(self, line: str) -> Event | None:
        if self._urc_head is not None:
            head, self._urc_head = self._urc_head, None
            return Unsolicited(head, line)
        pending = self.pending
        if pending is not None and line in pending.echoes:
            return None
        if line.startswith(_TWO_LINE_URCS):
            self._urc_head = line
            return None
        if is_final(line) and pending is not None:
            self.pending = None
            return Completed(pending.command, tuple(pending.lines), line)
        if self._is_response(line, pending):
            pending.lines.append(line)  # type: ignore[union-attr]  # _is_response checks it
            if pending.on_line is not None:  # type: ignore[union-attr]
                pending.on_line(line)  # type: ignore[union-attr]
            return None
        if line.startswith(_URC_PREFIXES):
            return Unsolicited(line)
        return Noise(line)

    @staticmethod
    def _is_response(line: str, pending: _Pending | None) -> bool:
        if pending is None or _NOISE_RE.fullmatch(line):
            return False
        if not (line.isascii() and line.isprintable()):
            return False  # line noise: answers in PDU mode are printable ASCII
        if not line.startswith(_URC_PREFIXES):
            return True
        # "+CREG: 0,1" answers AT+CREG? but is a URC at any other time.
        prefix = line.split(":", 1)[0]
        return pending.command.upper().startswith("AT" + prefix)
