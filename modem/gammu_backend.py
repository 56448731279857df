"""``GammuBackend``: one modem through python-gammu's ``StateMachine``, for phones and sticks that
only work well with gammu's drivers and quirk tables (``at``, ``at115200``, ``blueat``..., or
``none``: gammu's dummy driver, a directory of SMS backup files).

The same contract as ``ModemSupervisor`` (``modem.backend.ModemBackend``): a session initialises
the phone (unlocking the SIM with the configured PIN), then polls ``GetSMSStatus``; when messages
are stored it walks them with ``GetNextSMS``, hands them up with ``await hand_up(parts)`` and
calls ``DeleteSMS`` only after that returns. Replies go out with ``SendSMS``; health comes from
``GetSignalQuality``, ``GetNetworkInfo`` and ``GetSMSStatus``. When the phone vanishes or stops
answering the session ends and, after a capped exponential backoff, starts again; a SIM that wants
its PUK or refuses the PIN stops the backend for good (retries lock SIMs).

python-gammu blocks, so every call runs on one worker thread per session (a ``StateMachine`` is
never touched from two threads), one call at a time, each bounded by a timeout. gammu's own
timeouts can be ten minutes (``GetSMSStatus`` on a hung modem), so when ours expires the call is
stopped with ``StateMachine.Abort()`` and the session starts again on a fresh ``StateMachine``.
``gammu.GSMError`` is translated into ``modem.errors`` types on that thread, where it is raised.

gammu hands messages up decoded, never as the PDU the modem stored, so each part's PDU is rebuilt
with ``gammu.EncodePDU``: the same message read again gives the same PDU, which the database's
(IMSI, PDU hash) key needs to absorb replays. gammu drops two fields on the way, which are put
back: the time zone of the SMSC timestamp, and TP-MMS ("no more messages", which SMSCs set on
stored messages); so a plain SMS rebuilds byte for byte into what the AT backend would store.
gammu cannot encode status reports, which are built here (TS 23.040 §9.2.2.3).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import gammu

from modem.backend import HAND_UP_BATCH, HandUp, ModemState
from modem.errors import (
    ATTimeout,
    CMEError,
    ModemConnectionError,
    ModemError,
    PDUError,
    SIMError,
)
from modem.network import encode_address, is_gsm7
from modem.records import InboundPart, ModemIdentity, ModemStatus, StorageUse, StoredPDU
from modem.sms import to_part
from modem.supervision import Supervised

__all__ = [
    "GammuBackend",
    "GammuSettings",
    "GammuTimeouts",
    "modem_error",
    "part_from_gammu",
    "rebuilt_pdu",
    "reply_messages",
]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

INIT_S = 60.0  # Init alone takes ~4 s: gammu pauses 0.4 s between its first AT commands
COMMAND_S = 30.0  # status, identity, delete: a few commands each (GetSecurityStatus takes ~1 s)
LIST_S = 300.0  # the first GetNextSMS lists every storage: a full phone at a slow line
SEND_S = 60.0  # one part: the network may take this long to accept it
ABORT_S = 5.0  # after Abort(), gammu's stuck call returns within one read (~30 ms seen)
MOST_STORED = 10_000  # a walk stops here even if a driver keeps returning messages

_CONNECTION_LOST = (
    gammu.ERR_ABORTED,
    gammu.ERR_DEVICEBUSY,
    gammu.ERR_DEVICECHANGESPEEDERROR,
    gammu.ERR_DEVICEDTRRTSERROR,
    gammu.ERR_DEVICELOCKED,
    gammu.ERR_DEVICENODRIVER,
    gammu.ERR_DEVICENOPERMISSION,
    gammu.ERR_DEVICENOTEXIST,
    gammu.ERR_DEVICENOTWORK,
    gammu.ERR_DEVICEOPENERROR,
    gammu.ERR_DEVICEPARITYERROR,
    gammu.ERR_DEVICEREADERROR,
    gammu.ERR_DEVICEWRITEERROR,
    gammu.ERR_NOECHO,
    gammu.ERR_NOTCONNECTED,
    gammu.ERR_PHONEOFF,
    gammu.ERR_UNKNOWNCONNECTIONTYPESTRING,
    gammu.ERR_UNKNOWNMODELSTRING,
)
_SIM_PROBLEMS = (gammu.ERR_SECURITYERROR, gammu.ERR_NOSIM)
_NOT_SUPPORTED = (gammu.ERR_NOTSUPPORTED, gammu.ERR_NOTIMPLEMENTED)
_REGISTRATION = {"HomeNetwork": "home", "RoamingNetwork": "roaming", "NoNetwork": "not registered",
                 "RequestingNetwork": "searching", "RegistrationDenied": "denied"}  # fmt: skip
_STATUSES = {"UnRead": 0, "Read": 1, "UnSent": 2, "Sent": 3}  # as 3GPP TS 27.005 numbers them
_NO_MORE_MESSAGES = 0x04  # TP-MMS, in the first octet of an SMS-DELIVER or SMS-STATUS-REPORT
_STATUS_REPORT = 0x02  # TP-MTI of an SMS-STATUS-REPORT
# What identifies a message that gammu cannot re-encode; never where or when it was read.
_STABLE_FIELDS = ("Type", "Number", "DateTime", "Text", "Coding", "Class", "MessageReference",
                  "DeliveryStatus")  # fmt: skip


@dataclass(frozen=True, slots=True)
class GammuTimeouts:
    """How long each python-gammu call may take, in seconds; then it is aborted."""

    init_s: float = INIT_S
    command_s: float = COMMAND_S
    list_s: float = LIST_S
    send_s: float = SEND_S
    abort_s: float = ABORT_S

    @property
    def turn_s(self) -> float:
        """The longest wait for the worker: any call ends (or is aborted) within its timeout."""
        return max(self.init_s, self.command_s, self.list_s, self.send_s) + self.abort_s


@dataclass(frozen=True, slots=True)
class GammuSettings:
    """How to reach the phone through gammu, and the backend's intervals in seconds."""

    connection: str = "at"  # gammu's connection: at, at115200, blueat, none (dummy driver)...
    pin: str | None = None
    poll_interval_s: float = 2.0  # GetSMSStatus: gammu reads no +CMTI, so we look this often
    status_interval_s: float = 60.0
    backoff_first_s: float = 1.0
    backoff_max_s: float = 60.0
    hand_up_s: float = 30.0  # longer, and the messages stay on the phone for the next poll
    receiving_quiet_s: float = 0.3  # after the last hand-up, before the phone sends replies
    timeouts: GammuTimeouts = field(default_factory=GammuTimeouts)


class GammuBackend(Supervised):
    """Runs one phone through python-gammu until cancelled; see the module docstring."""

    def __init__(self, device: str, hand_up: HandUp, settings: GammuSettings | None = None) -> None:
        self.settings = settings or GammuSettings()
        super().__init__(device, self.settings.backoff_first_s, self.settings.backoff_max_s)
        self.hand_up = hand_up
        self._phone: _Phone | None = None
        self._reading = False
        self._last_hand_up = 0.0

    @property
    def receiving(self) -> bool:
        """Whether messages are being read or just were: replies wait until they are in."""
        recent = time.monotonic() - self._last_hand_up < self.settings.receiving_quiet_s
        return recent or self._reading

    async def send_sms(self, number: str, text: str) -> list[int]:
        """Send now (``SendSMS`` per part); the message reference of each part."""
        phone = self._phone
        if phone is None or not self._ready.is_set():
            raise ModemConnectionError(f"{self.device}: not ready ({self.state.value})")
        references = []
        for message in reply_messages(number, text):
            send = functools.partial(_send, message)
            references.append(await phone.call("SendSMS", self.settings.timeouts.send_s, send))
        return references

    async def _session(self) -> None:
        self.sessions += 1
        timeouts = self.settings.timeouts
        phone = _Phone(self.device, timeouts)
        try:
            start = functools.partial(
                _start, self.device, self.settings.connection, self.settings.pin
            )
            self.identity = await phone.call("Init", timeouts.init_s, start)
            self.status = await phone.call("status", timeouts.command_s, _status)
            self._phone = phone
            self.state = ModemState.READY
            self._ready.set()
            _LOGGER.info(
                "%s: ready through gammu (%s %s, IMSI %s)",
                self.device,
                self.identity.manufacturer,
                self.identity.model,
                self.identity.imsi,
            )
            await self._serve(phone)
        finally:
            self._phone = None
            await phone.close()

    async def _serve(self, phone: _Phone) -> None:
        loop = asyncio.get_running_loop()
        next_status = loop.time() + self.settings.status_interval_s
        while True:
            await self._sweep(phone)
            if loop.time() >= next_status:
                self.status = await phone.call("status", self.settings.timeouts.command_s, _status)
                next_status = loop.time() + self.settings.status_interval_s
            await asyncio.sleep(self.settings.poll_interval_s)

    async def _sweep(self, phone: _Phone) -> None:
        """Read every stored message, hand them up in batches, delete each batch handed up."""
        timeouts = self.settings.timeouts
        if not await phone.call("GetSMSStatus", timeouts.command_s, _stored_count):
            return
        self._reading = True
        try:
            stored = await phone.call("GetNextSMS", timeouts.list_s, _read_stored)
            for start in range(0, len(stored), HAND_UP_BATCH):
                batch = stored[start : start + HAND_UP_BATCH]
                if await self._deliver([part for _, part in batch]):
                    await self._delete(phone, [location for location, _ in batch])
        finally:
            self._reading = False

    async def _deliver(self, parts: list[InboundPart]) -> bool:
        try:
            async with asyncio.timeout(self.settings.hand_up_s):
                await self.hand_up(parts)
        except Exception:  # the caller did not take them (or not in time): keep them stored
            _LOGGER.exception(
                "%s: hand-up of %d part(s) failed; not deleting", self.device, len(parts)
            )
            return False
        self._last_hand_up = time.monotonic()
        return True

    async def _delete(self, phone: _Phone, locations: list[int]) -> None:
        for location in locations:
            delete = functools.partial(_delete_stored, location)
            try:
                await phone.call("DeleteSMS", self.settings.timeouts.command_s, delete)
            except (ModemConnectionError, ATTimeout):
                raise  # the session is over; what is left is handed up again next session
            except ModemError as exc:
                _LOGGER.warning(
                    "%s: deleting location %d failed (%s); handed up again next poll",
                    self.device,
                    location,
                    exc,
                )


class _Phone:
    """One ``gammu.StateMachine`` and the one thread that may touch it, one call at a time."""

    def __init__(self, device: str, timeouts: GammuTimeouts) -> None:
        self.device = device
        self.timeouts = timeouts
        self._machine = gammu.StateMachine()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gammu")
        self._turn = asyncio.Lock()
        self._running: asyncio.Future[Any] | None = None
        self._aborted = False  # Abort() was called: the StateMachine answers nothing any more
        self._closed = False

    async def call(self, what: str, timeout_s: float, operation: Callable[[Any], T]) -> T:
        """Run ``operation(machine)`` on the worker within ``timeout_s``, else abort it."""
        try:
            async with asyncio.timeout(self.timeouts.turn_s):
                await self._turn.acquire()
        except TimeoutError as exc:
            raise ATTimeout(f"{what} (waiting for the worker)", self.timeouts.turn_s) from exc
        try:
            return await self._run(what, timeout_s, operation)
        finally:
            self._turn.release()

    async def _run(self, what: str, timeout_s: float, operation: Callable[[Any], T]) -> T:
        if self._aborted or self._closed:
            raise ModemConnectionError(f"{self.device}: {what}: the session has ended")
        running = asyncio.get_running_loop().run_in_executor(
            self._worker, _translated, operation, self._machine, what, timeout_s
        )
        self._running = running
        try:
            done, _ = await asyncio.wait({running}, timeout=timeout_s)
        except asyncio.CancelledError:
            self._abort()
            raise
        if not done:
            self._abort()
            raise ATTimeout(what, timeout_s)
        return running.result()

    def _abort(self) -> None:
        # Abort() only sets a flag gammu's read loop checks (no lock): safe from this thread.
        self._aborted = True
        self._machine.Abort()

    async def close(self) -> None:
        """Let the call in flight end (aborting it), close the connection, free the thread."""
        self._closed = True
        running = self._running
        if running is not None and not running.done():
            self._abort()
            await asyncio.wait({running}, timeout=self.timeouts.abort_s)
        if running is not None and running.done() and not running.cancelled():
            running.exception()  # its caller has heard of it already, or was cancelled
        if running is None or running.done():
            closing = asyncio.get_running_loop().run_in_executor(
                self._worker, _terminate, self._machine
            )
            await asyncio.wait({closing}, timeout=self.timeouts.abort_s)
        else:
            _LOGGER.error("%s: gammu did not return after Abort(); leaving it", self.device)
        self._worker.shutdown(wait=False, cancel_futures=True)


# -- on the worker thread ------------------------------------------------------------------------


def _translated(operation: Callable[[Any], T], machine: Any, what: str, timeout_s: float) -> T:
    """``operation(machine)``, with gammu's errors translated where they are raised."""
    try:
        return operation(machine)
    except gammu.GSMError as exc:
        raise modem_error(exc, what, timeout_s) from exc


def _start(device: str, connection: str, pin: str | None, machine: Any) -> ModemIdentity:
    machine.SetConfig(0, {"Device": device, "Connection": connection})
    machine.Init()
    _unlock_sim(machine, pin)
    model = machine.GetModel()  # (gammu's name for the model, the phone's own)
    return ModemIdentity(
        manufacturer=str(machine.GetManufacturer()),
        model=str(model[1] or model[0]),
        revision=str(machine.GetFirmware()[0]),
        imei=str(machine.GetIMEI()),
        imsi=str(machine.GetSIMIMSI()),
    )


def _unlock_sim(machine: Any, pin: str | None) -> None:
    wanted = machine.GetSecurityStatus()  # None when the SIM is ready
    if wanted is None:
        return
    if wanted != "PIN":
        raise SIMError("GetSecurityStatus", f"SIM wants {wanted}", 0)
    if not pin:
        raise SIMError("GetSecurityStatus", "SIM PIN required and no PIN is configured", 0)
    try:
        machine.EnterSecurityCode("PIN", pin)
    except gammu.ERR_SECURITYERROR as exc:  # never retried: three wrong PINs lock the SIM
        raise SIMError(
            "EnterSecurityCode", f"the SIM refused the configured PIN ({_reason(exc)})", 0
        ) from exc


def _stored_count(machine: Any) -> int:
    counts = machine.GetSMSStatus()
    return int(counts["SIMUsed"]) + int(counts["PhoneUsed"])


def _read_stored(machine: Any) -> list[tuple[int, InboundPart]]:
    """Every stored message (``GetNextSMS`` over gammu's flat folder 0), by location."""
    found: dict[int, dict[str, Any]] = {}
    try:
        batch = machine.GetNextSMS(Start=True, Folder=0)
        for _ in range(MOST_STORED):  # bounded, even if a driver never says ERR_EMPTY
            found.update((int(sms["Location"]), sms) for sms in batch)
            batch = machine.GetNextSMS(Location=batch[-1]["Location"], Folder=0)
    except gammu.ERR_EMPTY:
        pass  # the end of the walk
    return [(location, part_from_gammu(sms)) for location, sms in found.items()]


def _delete_stored(location: int, machine: Any) -> None:
    machine.DeleteSMS(Folder=0, Location=location)


def _send(message: dict[str, Any], machine: Any) -> int:
    return int(machine.SendSMS(message))


def _status(machine: Any) -> ModemStatus:
    counts = machine.GetSMSStatus()
    storages = (
        StorageUse("SM", int(counts["SIMUsed"]), int(counts["SIMSize"])),
        StorageUse("ME", int(counts["PhoneUsed"]), int(counts["PhoneSize"])),
    )
    signal = _optional(machine.GetSignalQuality) or {}
    network = _optional(machine.GetNetworkInfo) or {}
    strength = int(signal.get("SignalStrength", -1))
    code = str(network.get("NetworkCode") or "")
    return ModemStatus(
        signal_dbm=None if strength == -1 else strength,
        registration=_REGISTRATION.get(str(network.get("State")), "unknown"),
        operator=str(network.get("NetworkName") or gammu.GSMNetworks.get(code, code)),
        storages=storages,
    )


def _optional(read: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """What ``read`` returns, or None on phones that cannot tell (health stays partial)."""
    try:
        return read()
    except _NOT_SUPPORTED:
        return None


def _terminate(machine: Any) -> None:
    with contextlib.suppress(gammu.GSMError):  # not connected, or the device is gone already
        machine.Terminate()


# -- translation --------------------------------------------------------------------------------


def modem_error(exc: gammu.GSMError, what: str, timeout_s: float) -> ModemError:
    """The ``modem.errors`` type for a ``gammu.GSMError`` raised by the call ``what``."""
    reason = _reason(exc)
    if isinstance(exc, gammu.ERR_TIMEOUT):
        return ATTimeout(what, timeout_s)
    if isinstance(exc, _CONNECTION_LOST):
        return ModemConnectionError(f"{what}: {reason}")
    if isinstance(exc, _SIM_PROBLEMS):  # gammu keeps no +CME code: 0, as for AT+CPIN? answers
        return CMEError(what, reason, 0)
    return ModemError(f"{what}: {reason}")


def _reason(exc: gammu.GSMError) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, dict):
        return str(detail.get("Text", detail))
    return str(detail)


# -- messages -------------------------------------------------------------------------------------


def part_from_gammu(sms: dict[str, Any]) -> InboundPart:
    """A part as ``GetNextSMS`` returned it, with its PDU rebuilt, decoded as the AT backend
    decodes; ``index`` is gammu's location, ``storage`` its memory (SM, ME)."""
    stored = StoredPDU(
        storage=str(sms.get("Memory") or ""),
        index=int(sms.get("Location", -1)),
        status=_STATUSES.get(str(sms.get("State")), 0),
        pdu_hex=rebuilt_pdu(sms),
    )
    return to_part(stored)


def rebuilt_pdu(sms: dict[str, Any]) -> str:
    """The PDU (SMSC field first) of a message gammu decoded: the same every time it is read.

    One gammu cannot encode keeps its identifying fields as hex-encoded JSON instead, which the
    decoder then reports as undecodable: stored for audit, never lost, never stored twice.
    """
    try:
        if sms.get("Type") == "Status_Report":
            return _status_report(sms).hex().upper()
        if sms.get("Type") == "Submit":
            return bytes(gammu.EncodePDU(sms, Layout="Submit")).hex().upper()
        return _deliver(sms).hex().upper()
    except (gammu.GSMError, ValueError, TypeError, KeyError, IndexError) as exc:
        _LOGGER.warning("gammu cannot re-encode a stored %s (%s)", sms.get("Type"), exc)
        stable = {name: sms.get(name) for name in _STABLE_FIELDS}
        return json.dumps(stable, sort_keys=True, default=str).encode().hex().upper()


def _deliver(sms: dict[str, Any]) -> bytes:
    raw = bytearray(gammu.EncodePDU(sms, Layout="Deliver"))
    first = 1 + raw[0]  # past the SMSC field
    raw[first] |= _NO_MORE_MESSAGES
    digits = raw[first + 1]
    zone = first + 1 + 2 + (digits + 1) // 2 + 2 + 6  # address, TP-PID, TP-DCS, 6 time octets
    raw[zone] = _scts(sms.get("DateTime"))[6]
    return bytes(raw)


def _status_report(sms: dict[str, Any]) -> bytes:
    """TS 23.040 §9.2.2.3: TP-MR, recipient, SMSC timestamp, discharge time, TP-ST."""
    return (
        _smsc_field(str((sms.get("SMSC") or {}).get("Number") or ""))
        + bytes([_STATUS_REPORT | _NO_MORE_MESSAGES, int(sms["MessageReference"]) & 0xFF])
        + encode_address(str(sms.get("Number") or ""))
        + _scts(sms.get("DateTime"))
        + _scts(sms.get("SMSCDateTime"))
        + bytes([int(sms.get("DeliveryStatus", 0)) & 0xFF])
    )


def _smsc_field(number: str) -> bytes:
    digits = number.lstrip("+")
    if not digits:
        return b"\x00"  # none: the phone's own
    kind = 0x91 if number.startswith("+") else 0x81
    octets = _swapped(digits + ("F" if len(digits) % 2 else ""))
    return bytes([len(octets) + 1, kind]) + octets


def _scts(moment: datetime | None) -> bytes:
    """TP-SCTS: local time in swapped BCD, then the zone in quarter hours (sign in bit 3)."""
    if moment is None:
        return bytes(7)
    offset = moment.utcoffset() or timedelta(0)
    quarters = int(abs(offset.total_seconds()) // 900)
    fields = (moment.year % 100, moment.month, moment.day, moment.hour, moment.minute,
              moment.second, quarters)  # fmt: skip
    octets = bytearray(_swapped("".join(f"{value:02d}" for value in fields)))
    if offset < timedelta(0):
        octets[6] |= 0x08
    return bytes(octets)


def _swapped(digits: str) -> bytes:
    return bytes.fromhex("".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2)))


def reply_messages(number: str, text: str) -> list[dict[str, Any]]:
    """The parts of an SMS to ``number`` for ``SendSMS``: GSM-7 where the text allows, else
    UCS-2 (libgammu writes "~" as U+0001 in UCS-2, so only where GSM-7 cannot do)."""
    entries = [{"ID": "ConcatenatedTextLong", "Buffer": text}]
    try:
        messages: list[dict[str, Any]] = gammu.EncodeSMS(
            {"Class": -1, "Unicode": not is_gsm7(text), "Entries": entries}
        )
    except (gammu.GSMError, ValueError, TypeError) as exc:
        raise PDUError(f"cannot encode an SMS to {number} ({exc})", "") from exc
    for message in messages:
        message["Number"] = number
        message["SMSC"] = {"Location": 1}  # the SMSC stored on the SIM, as phones do
    return messages
