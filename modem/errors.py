"""Everything ``modem`` raises, as one tree::

    ModemError                      base: something went wrong talking to a modem
    ├── ModemConnectionError        the port cannot be opened, or vanished (USB unplugged)
    ├── ATTimeout                   no final result code in time (also a ``TimeoutError``)
    ├── ATCommandError              the modem answered ERROR (``.command``, ``.final``)
    │   ├── CMEError                +CME ERROR: n: equipment/SIM problem (``.code``)
    │   │   └── SIMError            the SIM needs a PUK, or the PIN was refused: never retried,
    │   │                           since retries lock SIMs
    │   └── CMSError                +CMS ERROR: n: SMS service problem (``.code``,
    │                               ``.retryable``: whether trying again can help)
    └── PDUError                    a PDU that cannot be decoded or built (``.pdu_hex`` kept)

Foreign exceptions (``serial.SerialException``, ``OSError``, ``gammu.GSMError``) are translated
once, where they enter this package, with ``raise ... from exc``.
"""

from __future__ import annotations

__all__ = [
    "ATCommandError",
    "ATTimeout",
    "CMEError",
    "CMSError",
    "ModemConnectionError",
    "ModemError",
    "PDUError",
    "SIMError",
]

# 3GPP TS 27.005 §3.2.5: codes where the network or the modem may well accept the same
# request a little later (congestion, temporary failures, memory that frees up, SIM busy).
_RETRYABLE_CMS = frozenset({
    1, 17, 22, 38, 41, 42, 47, 98, 111, 127,  # network side: busy, congestion, temporary
    300, 302, 314, 320, 322, 331, 332, 500,   # ME failure, SIM busy, memory full, no network
})  # fmt: skip


class ModemError(Exception):
    """Base of every error talking to a modem."""


class ModemConnectionError(ModemError):
    """The serial port cannot be opened, or it went away (USB unplugged, ENODEV, EOF)."""


class ATTimeout(ModemError, TimeoutError):  # noqa: N818  # the agreed name
    """The modem gave no final result code to ``command`` within ``timeout_s`` seconds."""

    def __init__(self, command: str, timeout_s: float) -> None:
        self.command = command
        self.timeout_s = timeout_s
        super().__init__(f"{command}: no answer within {timeout_s:g} s")


class ATCommandError(ModemError):
    """The modem answered ``command`` with an error result code (``final``)."""

    def __init__(self, command: str, final: str) -> None:
        self.command = command
        self.final = final
        super().__init__(f"{command}: {final}")


class CMEError(ATCommandError):
    """``+CME ERROR: code``: a mobile equipment or SIM error (3GPP TS 27.007 §9.2)."""

    def __init__(self, command: str, final: str, code: int) -> None:
        self.code = code
        super().__init__(command, final)


class SIMError(CMEError):
    """The SIM refused the PIN, or wants a PUK: stop, never retry (retries lock SIMs)."""


class CMSError(ATCommandError):
    """``+CMS ERROR: code``: an SMS service error (3GPP TS 27.005 §3.2.5)."""

    def __init__(self, command: str, final: str, code: int) -> None:
        self.code = code
        super().__init__(command, final)

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later (network busy, SIM busy, memory full)."""
        return self.code in _RETRYABLE_CMS


class PDUError(ModemError):
    """A PDU that cannot be decoded (or built); ``pdu_hex`` keeps the raw data for audit."""

    def __init__(self, message: str, pdu_hex: str) -> None:
        self.pdu_hex = pdu_hex
        super().__init__(f"{message}: {pdu_hex[:80]}{'...' if len(pdu_hex) > 80 else ''}")
