"""What the emulated modem answers to each AT command, and the SIM and phone storages it keeps.

Pure state and text: ``CommandHandler.handle("AT+CPMS?")`` returns the response lines and the
final result code; bytes, echo and timing are ``modem.emulator``'s job. Answers follow
3GPP TS 27.007 (identity, PIN, registration, signal) and TS 27.005 (SMS storage, PDU and text
mode listing, deleting), in the shapes gammu and common Huawei/ZTE/Quectel sticks use.

SIM and network states are plain attributes, changeable at any time: ``signal`` (``+CSQ``
units), ``registration`` (the ``+CREG`` stat: 1 home, 2 searching, 3 denied, 5 roaming...) and
``sim_inserted``; the PIN state comes from the constructor (``pin``, ``puk_required``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from modem.errors import PDUError
from modem.pdu import decode_pdu

__all__ = ["CommandHandler", "Storage", "StoredSMS"]

_STATUS_TEXT = {0: "REC UNREAD", 1: "REC READ", 2: "STO UNSENT", 3: "STO SENT", 4: "ALL"}
_COMMAND_RE = re.compile(r"AT(?P<name>[+^$][A-Z]+|[A-Z&]\d?)?(?P<suffix>=\?|\?|=.*|\d+)?", re.I)
_SIM_NOT_INSERTED, _INCORRECT_PASSWORD, _SIM_PUK_REQUIRED = 10, 16, 12
_INVALID_INDEX, _NOT_ALLOWED = 321, 302
_CME_UNKNOWN = 4
_REGISTERED = (1, 5)  # +CREG stat: home, roaming
# What a modem refuses without a SIM (CME 10); the rest (identity, signal, settings) still works.
_NEED_SIM = frozenset({"+CPIN", "+CIMI", "+CPMS", "+CMGL", "+CMGR", "+CMGD"})


@dataclass(slots=True)
class StoredSMS:
    """A message in a storage: its PDU (SMSC field first) and its 27.005 status (0 unread)."""

    pdu_hex: str
    status: int = 0


@dataclass(slots=True)
class Storage:
    """One message storage (SM: the SIM, ME: the phone) with its capacity."""

    name: str
    capacity: int
    base: int
    messages: dict[int, StoredSMS] = field(default_factory=dict)

    def free_index(self) -> int | None:
        """The lowest free index, or None when full."""
        for index in range(self.base, self.base + self.capacity):
            if index not in self.messages:
                return index
        return None


Answer = tuple[str, str]  # response lines joined by CRLF, final result code


class CommandHandler:
    """The modem's command interpreter and state."""

    def __init__(
        self,
        *,
        imei: str,
        imsi: str,
        capacities: dict[str, int],
        index_base: int,
        pin: str | None,
        puk_required: bool,
    ) -> None:
        self.imei, self.imsi = imei, imsi
        self.storages = {name: Storage(name, size, index_base) for name, size in capacities.items()}
        self.pin = pin
        self.pin_state = "SIM PUK" if puk_required else ("SIM PIN" if pin else "READY")
        self.message_reference = 0
        self.signal = 20  # +CSQ units: -113 + 2 * 20 = -73 dBm
        self.registration = 1  # +CREG stat once the SIM is ready: 1 home network
        self.sim_inserted = True
        self.reset()
        self._handlers: dict[str, Callable[[str], Answer]] = {
            "": lambda _: ("", "OK"), "E": self._echo_on, "E1": self._echo_on,
            "E0": self._echo_off,
            "I": self._identify, "Z": self._reset, "&F": self._reset, "V1": lambda _: ("", "OK"),
            "+CGMI": self._constant("Emulated"), "+GMI": self._constant("Emulated"),
            "+CGMM": self._constant("shailoo E3131"), "+GMM": self._constant("shailoo E3131"),
            "+CGMR": self._constant("21.158.00.00.000"), "+GMR": self._constant("21.158.00.00.000"),
            "+CGSN": lambda _: (self.imei, "OK"), "+GSN": lambda _: (self.imei, "OK"),
            "+CIMI": lambda _: (self.imsi, "OK"),
            "+CFUN": self._cfun, "+CMEE": self._cmee, "+CPIN": self._cpin, "+CSCS": self._cscs,
            "+CSQ": lambda _: (f"+CSQ: {self.signal},99", "OK"), "+CREG": self._creg,
            "+COPS": self._cops, "+CPMS": self._cpms, "+CMGF": self._cmgf, "+CNMI": self._cnmi,
            "+CMGL": self._cmgl, "+CMGR": self._cmgr, "+CMGD": self._cmgd, "+CNMA": self._ok,
            "+CSCA": lambda _: ('+CSCA: "+996555000000",145', "OK"), "+CSMP": self._ok,
            "+CUSD": self._ok, "+CMMS": self._ok, "+CBC": lambda _: ("+CBC: 0,100", "OK"),
            "+CGREG": self._cgreg, "+CGATT": lambda _: ("+CGATT: 1", "OK"),
        }  # fmt: skip

    def reset(self) -> None:
        """Settings after power-up: echo on, PDU mode, SM storage, no new-message indications."""
        self.echo = True
        self.cmee = 0
        self.cmgf = 0
        self.charset = "GSM"
        self.cnmi = "0,0,0,0,0"
        self.creg_mode = 0
        self.cops_format = 0
        first = next(iter(self.storages))
        self.memories = [first, first, first]

    @property
    def notify_arrivals(self) -> bool:
        """Whether ``+CMTI`` is sent when a message is stored (AT+CNMI mt = 1)."""
        return self.cnmi.split(",")[1:2] == ["1"]

    def store(self, pdu_hex: str) -> tuple[str, int] | None:
        """Store an arriving PDU in the receive storage; None when it is full."""
        storage = self.storages[self.memories[2]]
        index = storage.free_index()
        if index is None:
            return None
        storage.messages[index] = StoredSMS(pdu_hex)
        return storage.name, index

    def handle(self, command: str) -> Answer:
        """Response lines and final result code for one command line."""
        match = _COMMAND_RE.fullmatch(command.strip())
        if match is None:
            return self._unknown()
        name = (match.group("name") or "").upper()
        handler = self._handlers.get(name)
        if handler is None:
            return self._unknown()
        if not self.sim_inserted and name in _NEED_SIM:
            return self._cme(_SIM_NOT_INSERTED)
        if self.pin_state != "READY" and name in {"+CMGL", "+CMGR", "+CMGD", "+CPMS", "+CIMI"}:
            return self._cme(_SIM_PUK_REQUIRED if self.pin_state == "SIM PUK" else 11)
        return handler(match.group("suffix") or "")

    def refuse(self) -> Answer:
        """The answer to a line the modem cannot parse at all (nothing on it ran)."""
        return self._unknown()

    # -- basics -----------------------------------------------------------------------------

    def _ok(self, _: str) -> Answer:
        return "", "OK"

    def _unknown(self) -> Answer:
        # Not OK: gammu takes an OK to AT+MODE=2 as a Motorola phone.
        return ("", f"+CME ERROR: {_CME_UNKNOWN}") if self.cmee else ("", "ERROR")

    def _cme(self, code: int) -> Answer:
        return ("", f"+CME ERROR: {code}") if self.cmee else ("", "ERROR")

    def _cms(self, code: int) -> Answer:
        return ("", f"+CMS ERROR: {code}") if self.cmee else ("", "ERROR")

    @staticmethod
    def _constant(text: str) -> Callable[[str], Answer]:
        return lambda _: (text, "OK")

    def _echo_on(self, _: str) -> Answer:
        self.echo = True
        return "", "OK"

    def _echo_off(self, _: str) -> Answer:
        self.echo = False
        return "", "OK"

    def _identify(self, _: str) -> Answer:
        return f"Manufacturer: Emulated\r\nModel: shailoo E3131\r\nIMEI: {self.imei}", "OK"

    def _reset(self, _: str) -> Answer:
        self.reset()
        return "", "OK"

    def _cfun(self, suffix: str) -> Answer:
        if suffix == "?":
            return "+CFUN: 1", "OK"
        return ("+CFUN: (0,1,4),(0,1)", "OK") if suffix == "=?" else ("", "OK")

    def _cmee(self, suffix: str) -> Answer:
        if suffix == "?":
            return f"+CMEE: {self.cmee}", "OK"
        if suffix == "=?":
            return "+CMEE: (0-2)", "OK"
        self.cmee = int(suffix[1:] or 0) if suffix[1:].isdigit() else self.cmee
        return "", "OK"

    def _cpin(self, suffix: str) -> Answer:
        if suffix == "?":
            return f"+CPIN: {self.pin_state}", "OK"
        if self.pin_state == "SIM PUK":
            return self._cme(_SIM_PUK_REQUIRED)
        given = suffix[1:].split(",")[0].strip('"')
        if self.pin_state == "READY" or given == self.pin:
            self.pin_state = "READY"
            return "", "OK"
        return self._cme(_INCORRECT_PASSWORD)

    def _cscs(self, suffix: str) -> Answer:
        if suffix == "?":
            return f'+CSCS: "{self.charset}"', "OK"
        if suffix == "=?":
            return '+CSCS: ("IRA","GSM","UCS2")', "OK"
        self.charset = suffix[1:].strip('"').upper() or self.charset
        return "", "OK"

    def _creg(self, suffix: str) -> Answer:
        if suffix == "?":
            extra = ',"1A2B","00C3D4E5"' if self.creg_mode == 2 else ""
            return f"+CREG: {self.creg_mode},{self._registration_stat()}{extra}", "OK"
        if suffix == "=?":
            return "+CREG: (0-2)", "OK"
        self.creg_mode = int(suffix[1:]) if suffix[1:].isdigit() else 0
        return "", "OK"

    def _registration_stat(self) -> int:
        # A modem without a usable SIM does not even search.
        return self.registration if self.sim_inserted and self.pin_state == "READY" else 0

    def _cgreg(self, suffix: str) -> Answer:
        return ("+CGREG: 0,1", "OK") if suffix == "?" else ("", "OK")

    def _cops(self, suffix: str) -> Answer:
        if suffix == "?" and self._registration_stat() not in _REGISTERED:
            return "+COPS: 0", "OK"  # no operator selected
        if suffix == "?":
            operator = '"43705"' if self.cops_format == 2 else '"Beeline KG"'
            return f"+COPS: 0,{self.cops_format},{operator},2", "OK"
        if suffix == "=?":
            return '+COPS: (2,"Beeline KG","Beeline","43705",2),,(0-4),(0-2)', "OK"
        arguments = suffix[1:].split(",")
        if len(arguments) >= 2 and arguments[1].isdigit():
            self.cops_format = int(arguments[1])
        return "", "OK"

    # -- SMS ----------------------------------------------------------------------------------

    def _cpms(self, suffix: str) -> Answer:
        names = ",".join(f'"{name}"' for name in self.storages)
        if suffix == "=?":
            return f"+CPMS: ({names}),({names}),({names})", "OK"
        if suffix == "?":
            fields = [f'"{m}",{self._used(m)},{self.storages[m].capacity}' for m in self.memories]
            return "+CPMS: " + ",".join(fields), "OK"
        chosen = [name.strip().strip('"').upper() for name in suffix[1:].split(",") if name]
        if not chosen or any(name not in self.storages for name in chosen):
            return self._cms(_NOT_ALLOWED)
        self.memories[: len(chosen)] = chosen
        counts = [f"{self._used(m)},{self.storages[m].capacity}" for m in self.memories]
        return "+CPMS: " + ",".join(counts), "OK"

    def _used(self, name: str) -> int:
        return len(self.storages[name].messages)

    def _cmgf(self, suffix: str) -> Answer:
        if suffix == "?":
            return f"+CMGF: {self.cmgf}", "OK"
        if suffix == "=?":
            return "+CMGF: (0,1)", "OK"
        if suffix[1:] not in ("0", "1"):
            return self._cms(303)
        self.cmgf = int(suffix[1:])
        return "", "OK"

    def _cnmi(self, suffix: str) -> Answer:
        if suffix == "?":
            return f"+CNMI: {self.cnmi}", "OK"
        if suffix == "=?":
            return "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", "OK"
        values = (suffix[1:].split(",") + ["0"] * 5)[:5]
        self.cnmi = ",".join(value or "0" for value in values)
        return "", "OK"

    def _read_storage(self) -> Storage:
        return self.storages[self.memories[0]]

    def _cmgl(self, suffix: str) -> Answer:
        wanted = self._list_filter(suffix[1:].strip('"').upper())
        if wanted is None:
            return self._cms(_NOT_ALLOWED)
        lines = []
        for index, sms in sorted(self._read_storage().messages.items()):
            if wanted in (4, sms.status):
                lines.append(self._listing("+CMGL", index, sms))
                sms.status = 1 if sms.status == 0 else sms.status
        return "\r\n".join(lines), "OK"

    def _list_filter(self, argument: str) -> int | None:
        if self.cmgf == 1:
            by_text = {text: code for code, text in _STATUS_TEXT.items()}
            return by_text.get(argument or "REC UNREAD")
        return (
            int(argument)
            if argument.isdigit() and int(argument) in _STATUS_TEXT
            else (0 if not argument else None)
        )

    def _listing(self, verb: str, index: int | None, sms: StoredSMS) -> str:
        prefix = f"{verb}: {index}," if index is not None else f"{verb}: "
        if self.cmgf == 0:
            tpdu_length = len(sms.pdu_hex) // 2 - 1 - int(sms.pdu_hex[:2], 16)
            return f"{prefix}{sms.status},,{tpdu_length}\r\n{sms.pdu_hex}"
        return f'{prefix}"{_STATUS_TEXT[sms.status]}","{_sender(sms.pdu_hex)}",,\r\n' + _text_of(
            sms.pdu_hex
        )

    def _cmgr(self, suffix: str) -> Answer:
        index = suffix[1:]
        sms = self._read_storage().messages.get(int(index)) if index.isdigit() else None
        if sms is None:
            return self._cms(_INVALID_INDEX)
        answer = self._listing("+CMGR", None, sms)
        sms.status = 1 if sms.status == 0 else sms.status
        return answer, "OK"

    def _cmgd(self, suffix: str) -> Answer:
        arguments = suffix[1:].split(",")
        if not arguments[0].isdigit():
            return self._cms(_INVALID_INDEX)
        index, flag = int(arguments[0]), int(arguments[1]) if len(arguments) > 1 else 0
        messages = self._read_storage().messages
        if flag == 0:
            messages.pop(index, None)
            return "", "OK"
        # 27.005 §3.5.4: 1 read, 2 read and sent, 3 read, sent and unsent, 4 all.
        doomed = {1: {1}, 2: {1, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}.get(flag)
        if doomed is None:
            return self._cms(_NOT_ALLOWED)
        for number in [n for n, sms in messages.items() if sms.status in doomed]:
            del messages[number]
        return "", "OK"


def _sender(pdu_hex: str) -> str:
    try:
        return decode_pdu(pdu_hex).number
    except PDUError:
        return ""


def _text_of(pdu_hex: str) -> str:
    try:
        return decode_pdu(pdu_hex).text
    except PDUError:
        return ""
