"""``shailoo modem probe``'s checks: can shailoo use this serial device, and if not, why not.

Pure modem side, nothing printed: ``probe_device`` opens the port with ``ATDriver``, asks what a
tech person would ask by hand in minicom, and turns each answer into a ``Check`` (ok, warn or
fail; the value seen; what to do when it is not ok). ``scan`` knocks on every candidate serial
device and says which answer ``AT``. ``cli/probe.py`` renders both.

Every await is bounded by a ``ProbeTimeouts`` field: opening by ``open_s``, the first ``AT`` by
``answer_s``, every other command by ``command_s``, the test SMS by ``send_s``. A modem that
stops answering ends the probe at the check in progress, with a fail line saying so, rather
than making the user wait for a timeout on each of the remaining checks.

Signal words, from ``+CSQ`` (dBm = -113 + 2 * rssi; 99 is "unknown"): -85 dBm or more is
*good*; -86 to -100 is *weak* (a warning: SMS go through, with retries); below -100 is *poor*
(a failure: expect lost sends on election day).
"""

from __future__ import annotations

import asyncio
import errno
import glob
import grp
import os
import re
import stat
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from modem.at import Completed
from modem.driver import ATDriver, Timeouts
from modem.errors import ATCommandError, ATTimeout, CMEError, CMSError, ModemConnectionError
from modem.records import StorageUse
from modem.sms import NEW_MESSAGE_INDICATIONS, ModemSMS

__all__ = [
    "CANDIDATE_GLOBS",
    "FULL_STORAGE_SHARE",
    "GOOD_SIGNAL_DBM",
    "WEAK_SIGNAL_DBM",
    "Candidate",
    "Check",
    "ProbeReport",
    "ProbeTimeouts",
    "ScanResult",
    "Status",
    "find_candidates",
    "open_failure",
    "pin_checks",
    "probe_device",
    "registration_check",
    "scan",
    "signal_check",
    "sim_error_checks",
    "storage_check",
]

# Where USB modems appear on Linux; by-id first: those names survive replugging.
CANDIDATE_GLOBS: tuple[str, ...] = ("/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*")
GOOD_SIGNAL_DBM = -85  # and stronger: good
WEAK_SIGNAL_DBM = -100  # down to this: weak; weaker: poor
FULL_STORAGE_SHARE = 0.8  # a storage fuller than this is a warning

_AT_ATTEMPTS = 2  # the first AT after opening may meet junk a previous user left
_QUOTED = re.compile(r'"([^"]*)"')
_NUMBERS = re.compile(r"\d+")
_STORAGE_NAMES = {"SM": "SIM", "ME": "modem", "MT": "SIM and modem", "SR": "status reports"}

_REPLUG = "unplug the modem, wait 10 s and plug it in again; then run the probe again"
_NOT_AN_AT_PORT = (
    "this may not be the modem's AT port: sticks show several serial ports and answer on one "
    "or two ('shailoo modem probe' with no device lists which answer). If none does: " + _REPLUG
)


class Status(StrEnum):
    """How one check went; only ``FAIL`` makes the probe fail."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the checklist: status, what was checked, what was seen, what to do."""

    status: Status
    what: str
    value: str
    advice: str = ""


@dataclass(frozen=True, slots=True)
class ProbeReport:
    """Every check made on one device, in order, and notes on what was not checked and why."""

    device: str
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether any check failed (warnings do not count)."""
        return any(check.status is Status.FAIL for check in self.checks)


@dataclass(frozen=True, slots=True)
class ProbeTimeouts:
    """How long to wait, in seconds."""

    open_s: float = 5.0  # the port opening (a wedged USB device can block open())
    answer_s: float = 3.0  # each AT knocking at the start
    command_s: float = 5.0  # every other command
    send_s: float = 60.0  # the network accepting the test SMS
    close_s: float = 2.0  # the port closing

    def for_driver(self) -> Timeouts:
        """The same bounds in the driver's terms."""
        return Timeouts(
            command_s=self.command_s,
            list_s=self.command_s,
            prompt_s=self.command_s,
            send_s=self.send_s,
            close_s=self.close_s,
            open_s=self.open_s,
        )


# -- verdicts: pure, one answer in, one line out ----------------------------------------------


def open_failure(device: str, error: BaseException) -> Check:
    """The fail line for a port that does not open: why, and what to do about it."""
    number = _errno_of(error)
    text = " ".join(str(item) for item in _chain(error))
    if number in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        group = _device_group(device)
        return Check(
            Status.FAIL, "port opens", f"permission denied on {device}",
            f"add your user to the '{group}' group: sudo usermod -aG {group} $USER, then log "
            "out and in again (groups apply from the next login)",
        )  # fmt: skip
    if number == errno.ENOENT or "No such file" in text:
        return Check(
            Status.FAIL, "port opens", f"{device} does not exist",
            "is the modem plugged in? 'shailoo modem probe' with no device lists serial "
            "devices; 'lsusb' shows whether the stick is seen at all",
        )  # fmt: skip
    if number in (errno.EBUSY, errno.EAGAIN) or "lock" in text.lower() or "busy" in text.lower():
        return Check(
            Status.FAIL, "port opens", f"{device} is in use by another program",
            "stop it: ModemManager (sudo systemctl disable --now ModemManager), gammu-smsd, "
            f"minicom or another shailoo; 'sudo fuser -v {device}' shows which",
        )  # fmt: skip
    if number in (errno.ENXIO, errno.ENODEV, errno.EIO):
        return Check(Status.FAIL, "port opens", f"{device} does not respond", _REPLUG)
    return Check(
        Status.FAIL, "port opens", str(error) or type(error).__name__,
        "check that the path is a serial device (/dev/ttyUSB*, /dev/serial/by-id/...)",
    )  # fmt: skip


def _chain(error: BaseException) -> list[BaseException]:
    # The driver raises ModemConnectionError from pyserial's or the OS's exception.
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _errno_of(error: BaseException) -> int | None:
    for item in _chain(error):
        number = getattr(item, "errno", None)
        if isinstance(number, int):
            return number
    return None


def _device_group(device: str) -> str:
    """The group that may open ``device``: its own when it is a serial device, else dialout."""
    try:
        info = os.stat(device)
        group = grp.getgrgid(info.st_gid).gr_name
    except (OSError, KeyError):
        return "dialout"
    return group if stat.S_ISCHR(info.st_mode) and group != "root" else "dialout"


def sim_error_checks(code: int | None) -> list[Check]:
    """The SIM lines when ``AT+CPIN?`` answers an error (``+CME ERROR: code``; None: plain)."""
    if code == 10:
        return [Check(
            Status.FAIL, "SIM", "not inserted",
            "power the modem off (unplug it), insert the SIM contacts down, plug it in again",
        )]  # fmt: skip
    if code == 14:
        return [Check(Status.WARN, "SIM", "busy", "the SIM is starting up: run the probe again")]
    if code in (11, 12):  # a few modems answer the question with the state as an error
        return pin_checks("SIM PIN" if code == 11 else "SIM PUK")
    seen = "not readable" if code is None else f"not usable (+CME ERROR: {code})"
    return [Check(
        Status.FAIL, "SIM", seen,
        "reseat the SIM (modem unplugged); try it in a phone; a SIM cut down to size may "
        "not touch its contacts",
    )]  # fmt: skip


def pin_checks(state: str) -> list[Check]:
    """The SIM and PIN lines for an ``AT+CPIN?`` state (``READY``, ``SIM PIN``...)."""
    present = Check(Status.OK, "SIM", "present")
    if state == "READY":
        return [present, Check(Status.OK, "PIN", "ready (unlocked)")]
    if state == "SIM PIN":
        return [present, Check(
            Status.WARN, "PIN", "the SIM wants its PIN",
            "put it in the modem's settings ('pin' in SHAILOO_MODEMS or [[modems]] in "
            "shailoo.toml): shailoo enters it at start; or remove the PIN in a phone",
        )]  # fmt: skip
    if state == "SIM PUK":
        return [present, Check(
            Status.FAIL, "PIN", "the SIM is blocked and wants its PUK (wrong PINs)",
            "unblock it in a phone with the PUK from the operator; shailoo never enters a PUK",
        )]  # fmt: skip
    return [present, Check(
        Status.FAIL, "PIN", f"the modem wants {state or 'an unknown code'}",
        "PH-SIM or network locks mean the stick is locked to one operator: use an unlocked "
        "stick; SIM PIN2/PUK2 are not needed for SMS: check the SIM in a phone",
    )]  # fmt: skip


def registration_check(stat_code: int | None) -> Check:
    """The registration line for a ``+CREG`` stat (27.007 §7.2)."""
    if stat_code == 1:
        return Check(Status.OK, "registration", "home network")
    if stat_code == 5:
        return Check(
            Status.WARN, "registration", "roaming",
            "SMS work but may cost more, and observers must text this SIM's number: "
            "prefer a SIM of a local operator",
        )  # fmt: skip
    if stat_code == 2:
        return Check(
            Status.WARN, "registration", "searching for a network",
            "wait a minute and probe again; if it keeps searching, check the antenna and "
            "the coverage of the SIM's operator here",
        )  # fmt: skip
    if stat_code == 3:
        return Check(
            Status.FAIL, "registration", "denied by the network",
            "the operator refuses this SIM: check it is activated, paid and not blocked "
            "(call the operator), or try it in a phone",
        )  # fmt: skip
    seen = "not registered, not searching" if stat_code == 0 else "unknown"
    return Check(
        Status.FAIL, "registration", seen,
        "check the SIM is active (try it in a phone); unplug and replug the modem",
    )  # fmt: skip


def signal_check(rssi: int | None) -> Check:
    """The signal line for a ``+CSQ`` rssi (0-31, 99 unknown); see the module docstring."""
    if rssi is None or not 0 <= rssi <= 31:
        return Check(
            Status.WARN, "signal", "unknown",
            "the modem does not measure one yet: check the antenna, wait a minute, probe again",
        )  # fmt: skip
    dbm = -113 + 2 * rssi
    if dbm >= GOOD_SIGNAL_DBM:
        return Check(Status.OK, "signal", f"{dbm} dBm, good")
    move = "move the modem: a USB extension cable to a window or higher up helps most"
    if dbm >= WEAK_SIGNAL_DBM:
        return Check(Status.WARN, "signal", f"{dbm} dBm, weak", f"SMS get through; {move}")
    return Check(Status.FAIL, "signal", f"{dbm} dBm, poor", f"sending will fail often; {move}")


def storage_check(use: StorageUse) -> Check:
    """The line for one message storage: how full it is."""
    what = f"storage {use.name}"
    if use.name in _STORAGE_NAMES:
        what += f" ({_STORAGE_NAMES[use.name]})"
    if use.total <= 0:
        return Check(Status.WARN, what, f"{use.used} used, no capacity given")
    share = use.used / use.total
    value = f"{use.used} of {use.total} used ({share:.0%})"
    if share <= FULL_STORAGE_SHARE:
        return Check(Status.OK, what, value)
    return Check(
        Status.WARN, what, value + (", full" if use.used >= use.total else ", nearly full"),
        "when full, new SMS wait at the operator and can expire; 'shailoo run' reads and "
        "deletes stored SMS (keeping each in its log): start it, or delete old ones in a phone",
    )  # fmt: skip


# -- talking to the modem ---------------------------------------------------------------------


@dataclass(slots=True)
class _Session:
    """One open modem and what earlier checks learnt about it."""

    driver: ATDriver
    timeouts: ProbeTimeouts
    sim_ready: bool = False
    pdu_mode: bool = False
    stop: bool = False  # a check found the rest pointless
    imsi: str = ""

    async def ask(self, command: str) -> Completed:
        return await self.driver.command(command, timeout_s=self.timeouts.command_s)

    async def accepted(self, command: str) -> bool:
        try:
            await self.ask(command)
        except ATCommandError:
            return False
        return True

    async def text(self, command: str) -> str:
        """The first response line after any ``+XXX:`` prefix, unquoted; '' on ERROR."""
        try:
            lines = (await self.ask(command)).lines
        except ATCommandError:
            return ""
        return lines[0].split(":", 1)[-1].strip().strip('"') if lines else ""

    async def value(self, command: str, prefix: str) -> str:
        """What follows ``prefix`` in the response (raises on ERROR)."""
        for line in (await self.ask(command)).lines:
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        return ""


async def _wake(session: _Session) -> bool:
    """Whether the modem answers ``AT`` with OK (ATTimeout if it does not answer at all)."""
    session.driver.abort_input()  # cancels a half-typed command or a PDU prompt left behind
    for attempt in range(_AT_ATTEMPTS):
        try:
            await session.driver.command("AT", timeout_s=session.timeouts.answer_s)
        except ATCommandError:
            continue
        except ATTimeout:
            if attempt == _AT_ATTEMPTS - 1:
                raise
            continue
        return True
    return False


async def _answers(session: _Session) -> list[Check]:
    started = time.monotonic()
    if not await _wake(session):
        session.stop = True
        return [Check(Status.FAIL, "AT answers", "answers ERROR to AT", _NOT_AN_AT_PORT)]
    elapsed_ms = (time.monotonic() - started) * 1000
    # Echo off and numbered errors (+CME ERROR: 10 says "no SIM"), as the gateway sets them.
    await session.accepted("ATE0")
    await session.accepted("AT+CMEE=1")
    return [Check(Status.OK, "AT answers", f"OK in {elapsed_ms:.0f} ms")]


async def _identity(session: _Session) -> list[Check]:
    name = " ".join(
        part for part in [await session.text(c) for c in ("AT+CGMI", "AT+CGMM")] if part
    )
    revision = await session.text("AT+CGMR")
    imei = await session.text("AT+CGSN")
    checks = [
        Check(Status.OK, "modem", name + (f", firmware {revision}" if revision else ""))
        if name
        else Check(Status.WARN, "modem", "does not say its maker or model", _NOT_AN_AT_PORT)
    ]
    if imei.isdigit():
        checks.append(Check(Status.OK, "IMEI", imei))
    else:
        checks.append(
            Check(Status.WARN, "IMEI", imei or "not given", "unusual for a GSM modem: is it one?")
        )
    return checks


async def _sim(session: _Session) -> list[Check]:
    try:
        state = await session.value("AT+CPIN?", "+CPIN:")
    except CMEError as exc:
        return sim_error_checks(exc.code)
    except ATCommandError:
        return sim_error_checks(None)
    session.sim_ready = state == "READY"
    return pin_checks(state)


async def _imsi(session: _Session) -> list[Check]:
    session.imsi = await session.text("AT+CIMI")
    if session.imsi.isdigit():
        return [Check(Status.OK, "IMSI", session.imsi)]
    return [Check(
        Status.FAIL, "IMSI", session.imsi or "not given",
        "shailoo keys every message by the SIM's IMSI: reseat the SIM, or try another one",
    )]  # fmt: skip


async def _registration(session: _Session) -> list[Check]:
    numbers = _NUMBERS.findall(await session.value("AT+CREG?", "+CREG:"))
    # The answer is "n,stat[,lac,ci]"; a few modems leave out n.
    stat_code = int(numbers[1] if len(numbers) > 1 else numbers[0]) if numbers else None
    return [registration_check(stat_code)]


async def _operator(session: _Session) -> list[Check]:
    names = _QUOTED.findall(await session.value("AT+COPS?", "+COPS:"))
    if names and names[0]:
        return [Check(Status.OK, "operator", names[0])]
    return [Check(Status.WARN, "operator", "none", "no network: see the registration line")]


async def _signal(session: _Session) -> list[Check]:
    numbers = _NUMBERS.findall(await session.value("AT+CSQ", "+CSQ:"))
    return [signal_check(int(numbers[0]) if numbers else None)]


async def _storages(session: _Session) -> list[Check]:
    try:
        offered = await session.value("AT+CPMS=?", "+CPMS:")
        current = _QUOTED.findall(await session.value("AT+CPMS?", "+CPMS:"))
    except ATCommandError as exc:
        return [Check(Status.FAIL, "storage", f"not readable ({exc.final})", _REPLUG)]
    # The first list is where messages are read from: the storages shailoo sweeps.
    names = list(dict.fromkeys(n.upper() for n in _QUOTED.findall(offered.split(")")[0])))
    checks = [await _storage(session, name) for name in names or ["SM"]]
    if len(current) == 3:  # put back the selection we found, so the probe leaves no trace
        await session.accepted("AT+CPMS=" + ",".join(f'"{name}"' for name in current))
    return checks


async def _storage(session: _Session, name: str) -> Check:
    try:
        numbers = _NUMBERS.findall(await session.value(f'AT+CPMS="{name}"', "+CPMS:"))
    except ATCommandError as exc:
        return Check(Status.FAIL, f"storage {name}", f"cannot be selected ({exc.final})", _REPLUG)
    if len(numbers) < 2:
        return Check(Status.WARN, f"storage {name}", "the modem does not say how full it is")
    return storage_check(StorageUse(name, int(numbers[0]), int(numbers[1])))


async def _pdu_mode(session: _Session) -> list[Check]:
    session.pdu_mode = await session.accepted("AT+CMGF=0")
    if session.pdu_mode:
        return [Check(Status.OK, "PDU mode", "supported (AT+CMGF=0)")]
    return [Check(
        Status.FAIL, "PDU mode", "refused (AT+CMGF=0)",
        "shailoo needs PDU mode: try the stick's other serial ports, or another stick",
    )]  # fmt: skip


async def _indications(session: _Session) -> list[Check]:
    # The same settings, in the same order, as ModemSMS.initialize tries.
    for setting in NEW_MESSAGE_INDICATIONS:
        if await session.accepted(f"AT+CNMI={setting}"):
            return [Check(Status.OK, "+CMTI notices", f"AT+CNMI={setting} accepted")]
    return [Check(
        Status.WARN, "+CMTI notices", "no AT+CNMI setting accepted",
        "shailoo still finds new SMS by sweeping the storages, only a few seconds later",
    )]  # fmt: skip


def _send_test(number: str) -> Callable[[_Session], Awaitable[list[Check]]]:
    async def send(session: _Session) -> list[Check]:
        if not session.pdu_mode:
            return [Check(Status.FAIL, "test SMS", f"not sent to {number}: no PDU mode")]
        text = f"shailoo test SMS from the modem with IMSI {session.imsi or '?'}, " + (
            datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        )
        try:
            references = await ModemSMS(session.driver).send_sms(number, text)
        except CMSError as exc:
            return [Check(Status.FAIL, "test SMS", f"{number}: {exc.final}", _send_advice(exc))]
        except ATCommandError as exc:
            return [Check(Status.FAIL, "test SMS", f"{number}: {exc.final}", _SEND_ADVICE)]
        return [Check(Status.OK, "test SMS", f"sent to {number} (reference {references[0]})")]

    return send


_SEND_ADVICE = "check registration, signal and credit on the SIM, then try again"


def _send_advice(error: CMSError) -> str:
    if error.code == 330:
        return "the SMS centre number is unknown: put the SIM in a phone once, or set AT+CSCA"
    if error.code in (21, 29, 50):
        return "the operator refused it: check the SIM's credit and that it may send SMS"
    return _SEND_ADVICE


@dataclass(frozen=True, slots=True)
class _Step:
    what: str
    run: Callable[[_Session], Awaitable[list[Check]]]
    needs_sim: bool = False
    silence_advice: str = _REPLUG  # what to do when the modem stops answering here


def _steps(send_test: str | None) -> list[_Step]:
    steps = [
        _Step("AT answers", _answers, silence_advice=_NOT_AN_AT_PORT),
        _Step("modem", _identity),
        _Step("SIM", _sim),
        _Step("IMSI", _imsi, needs_sim=True),
        _Step("registration", _registration, needs_sim=True),
        _Step("operator", _operator, needs_sim=True),
        _Step("signal", _signal),
        _Step("storage", _storages, needs_sim=True),
        _Step("PDU mode", _pdu_mode),
        _Step("+CMTI notices", _indications),
    ]
    if send_test:
        steps.append(_Step("test SMS", _send_test(send_test), needs_sim=True))
    return steps


@dataclass(slots=True)
class _Outcome:
    checks: list[Check] = field(default_factory=list)
    without_sim: list[str] = field(default_factory=list)
    after_silence: list[str] = field(default_factory=list)

    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.without_sim:
            notes.append(f"Not checked without a ready SIM: {', '.join(self.without_sim)}.")
        if self.after_silence:
            notes.append(f"Not checked, the modem stopped: {', '.join(self.after_silence)}.")
        return tuple(notes)


async def _run(session: _Session, steps: list[_Step]) -> _Outcome:
    outcome = _Outcome()
    for number, step in enumerate(steps):
        if step.needs_sim and not session.sim_ready:
            outcome.without_sim.append(step.what)
            continue
        try:
            outcome.checks += await step.run(session)
        except ATTimeout as exc:
            outcome.checks.append(Check(
                Status.FAIL, step.what, f"no answer to {exc.command} within {exc.timeout_s:g} s",
                step.silence_advice,
            ))  # fmt: skip
            session.stop = True
        except ModemConnectionError as exc:
            outcome.checks.append(Check(Status.FAIL, step.what, str(exc), _REPLUG))
            session.stop = True
        if session.stop:
            outcome.after_silence = [later.what for later in steps[number + 1 :]]
            break
    return outcome


async def probe_device(
    device: str,
    *,
    baud: int = 115_200,
    timeouts: ProbeTimeouts | None = None,
    send_test: str | None = None,
) -> ProbeReport:
    """Run every check on ``device``; with ``send_test`` (a phone number), send it one SMS."""
    timeouts = timeouts or ProbeTimeouts()
    driver = ATDriver(device, baud=baud, timeouts=timeouts.for_driver())
    try:
        await driver.open()
    except ModemConnectionError as exc:
        return ProbeReport(device, (open_failure(device, exc),))
    try:
        outcome = await _run(_Session(driver, timeouts), _steps(send_test))
    finally:
        await driver.close()
    return ProbeReport(device, (_opened(device), *outcome.checks), outcome.notes())


def _opened(device: str) -> Check:
    # The device behind a /dev/serial/by-id/ link: which ttyUSB it is today.
    return Check(Status.OK, "port opens", os.path.realpath(device))


# -- scanning for candidates ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A serial device that may be a modem: the path found and the device it leads to."""

    path: str
    target: str


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Whether a candidate answered ``AT``; ``detail``: maker and model, or what went wrong."""

    candidate: Candidate
    answers: bool
    detail: str


def find_candidates(globs: Sequence[str] = CANDIDATE_GLOBS) -> list[Candidate]:
    """Serial devices matching ``globs``, each device once (under the first name found)."""
    found: dict[str, Candidate] = {}
    for pattern in globs:
        for path in sorted(glob.glob(pattern)):
            target = os.path.realpath(path)
            found.setdefault(target, Candidate(path, target))
    return list(found.values())


async def scan(
    candidates: Sequence[Candidate],
    *,
    baud: int = 115_200,
    timeouts: ProbeTimeouts | None = None,
) -> list[ScanResult]:
    """Knock on every candidate at once (a stick's silent ports each cost a timeout)."""
    timeouts = timeouts or ProbeTimeouts()
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(_knock(c, baud, timeouts)) for c in candidates]
    return [task.result() for task in tasks]


async def _knock(candidate: Candidate, baud: int, timeouts: ProbeTimeouts) -> ScanResult:
    driver = ATDriver(candidate.path, baud=baud, timeouts=timeouts.for_driver())
    try:
        await driver.open()
    except ModemConnectionError as exc:
        return ScanResult(candidate, False, open_failure(candidate.path, exc).value)
    session = _Session(driver, timeouts)
    try:
        if not await _wake(session):
            return ScanResult(candidate, False, "answers ERROR to AT")
        name = [await session.text(command) for command in ("AT+CGMI", "AT+CGMM")]
        return ScanResult(candidate, True, " ".join(part for part in name if part) or "a modem")
    except ATTimeout as exc:
        return ScanResult(candidate, False, f"no answer to AT within {exc.timeout_s:g} s")
    except ModemConnectionError as exc:
        return ScanResult(candidate, False, str(exc))
    finally:
        await driver.close()
