"""``shailoo modem probe``: each check against the emulator on a real pty, its fault modes, the
verdicts at their thresholds, and the command as a user runs it (a real process)."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import serial

from modem.driver import ATDriver
from modem.emulator import ModemEmulator
from modem.errors import ModemConnectionError
from modem.pdu import decode_pdu
from modem.probe import (
    Candidate,
    Check,
    ProbeReport,
    ProbeTimeouts,
    Status,
    find_candidates,
    open_failure,
    probe_device,
    registration_check,
    scan,
    signal_check,
    storage_check,
)
from modem.records import StorageUse

SHAILOO = str(Path(sys.executable).parent / "shailoo")
FAST = ProbeTimeouts(answer_s=0.3, command_s=0.5)
HEALTHY = [
    "port opens", "AT answers", "modem", "IMEI", "SIM", "PIN", "IMSI", "registration",
    "operator", "signal", "storage SM (SIM)", "storage ME (modem)", "PDU mode", "+CMTI notices",
]  # fmt: skip


@asynccontextmanager
async def modem(
    tmp_path: Path, name: str = "modem0", **options: Any
) -> AsyncIterator[ModemEmulator]:
    emulator = ModemEmulator(link=str(tmp_path / name), **options)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


def line(report: ProbeReport, what: str) -> Check:
    [check] = [check for check in report.checks if check.what == what]
    return check


async def shailoo(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the real console script without blocking the loop the emulator answers on."""
    environment = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"} | (env or {})
    process = await asyncio.create_subprocess_exec(
        SHAILOO, *args, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


# -- against the emulator, in process ---------------------------------------------------------


async def test_a_healthy_modem_passes_every_check(emulator: ModemEmulator) -> None:
    report = await probe_device(emulator.device, timeouts=FAST)
    assert [check.what for check in report.checks] == HEALTHY
    assert {check.status for check in report.checks} == {Status.OK}, report.checks
    assert not report.failed
    assert report.notes == ()
    assert line(report, "port opens").value == emulator.pty_path
    assert line(report, "modem").value.startswith("Emulated shailoo E3131")
    assert line(report, "IMSI").value == "437051234567890"
    assert line(report, "signal").value == "-73 dBm, good"
    assert line(report, "+CMTI notices").value == "AT+CNMI=2,1,0,2,0 accepted"


async def test_the_probe_puts_back_the_storage_selection_it_found(
    emulator: ModemEmulator,
) -> None:
    emulator.commands.memories = ["ME", "SM", "ME"]
    await probe_device(emulator.device, timeouts=FAST)
    assert emulator.commands.memories == ["ME", "SM", "ME"]


def no_sim(emulator: ModemEmulator) -> None:
    emulator.commands.sim_inserted = False


def registration(stat: int) -> Callable[[ModemEmulator], None]:
    def change(emulator: ModemEmulator) -> None:
        emulator.commands.registration = stat

    return change


def rssi(value: int) -> Callable[[ModemEmulator], None]:
    def change(emulator: ModemEmulator) -> None:
        emulator.commands.signal = value

    return change


def nearly_full(emulator: ModemEmulator) -> None:
    for number in range(9):
        emulator.deliver("+996555123456", f"OP 1234 A{number}")


def refuse(prefix: str) -> Callable[[ModemEmulator], None]:
    def change(emulator: ModemEmulator) -> None:
        emulator.faults.cms_errors[prefix] = 303

    return change


@pytest.mark.parametrize(
    ("options", "fault", "what", "status", "value", "advice"),
    [
        ({}, no_sim, "SIM", Status.FAIL, "not inserted", "insert the SIM"),
        ({"pin": "1234"}, None, "PIN", Status.WARN, "wants its PIN", "'pin'"),
        ({"puk_required": True}, None, "PIN", Status.FAIL, "PUK", "never enters a PUK"),
        ({}, registration(3), "registration", Status.FAIL, "denied", "activated"),
        ({}, registration(2), "registration", Status.WARN, "searching", "antenna"),
        ({}, registration(5), "registration", Status.WARN, "roaming", "local operator"),
        ({}, registration(0), "registration", Status.FAIL, "not registered", "SIM is active"),
        ({}, rssi(8), "signal", Status.WARN, "-97 dBm, weak", "extension cable"),
        ({}, rssi(3), "signal", Status.FAIL, "-107 dBm, poor", "extension cable"),
        ({}, rssi(99), "signal", Status.WARN, "unknown", "antenna"),
        ({"capacities": {"SM": 10, "ME": 100}}, nearly_full, "storage SM (SIM)", Status.WARN,
         "9 of 10 used (90%), nearly full", "shailoo run"),
        ({}, refuse("AT+CMGF"), "PDU mode", Status.FAIL, "refused", "other serial ports"),
        ({}, refuse("AT+CNMI"), "+CMTI notices", Status.WARN, "no AT+CNMI", "sweeping"),
    ],
)  # fmt: skip
async def test_each_fault_gives_its_line_and_what_to_do(
    tmp_path: Path,
    options: dict[str, Any],
    fault: Callable[[ModemEmulator], None] | None,
    what: str,
    status: Status,
    value: str,
    advice: str,
) -> None:
    async with modem(tmp_path, **options) as emulator:
        if fault is not None:
            fault(emulator)
        report = await probe_device(emulator.device, timeouts=FAST)
    check = line(report, what)
    assert (check.status, value in check.value, advice in check.advice) == (status, True, True)
    assert report.failed is (status is Status.FAIL)
    others = [c for c in report.checks if c.what != what and c.status is not Status.OK]
    if what == "registration":  # no network, no operator: said once, as a warning
        assert [(c.what, c.status) for c in others] in ([], [("operator", Status.WARN)])
    else:
        assert others == []


@pytest.mark.parametrize("options", [{"pin": "1234"}, {"puk_required": True}, {}])
async def test_checks_that_need_the_sim_are_named_not_run_without_it(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    async with modem(tmp_path, **options) as emulator:
        emulator.commands.sim_inserted = bool(options)  # no options: no SIM at all
        report = await probe_device(emulator.device, timeouts=FAST, send_test="+996555000111")
        assert emulator.sent == []
    assert "IMSI" not in [check.what for check in report.checks]
    assert line(report, "signal").status is Status.OK  # still measured: the antenna is the stick's
    assert report.notes == (
        "Not checked without a ready SIM: IMSI, registration, operator, storage, test SMS.",
    )


async def test_an_unresponsive_modem_fails_fast_at_the_first_check(
    emulator: ModemEmulator,
) -> None:
    emulator.faults.hang = True
    started = time.monotonic()
    report = await probe_device(emulator.device, timeouts=FAST)
    assert time.monotonic() - started < 2.0  # two knocks of 0.3 s, not a timeout per check
    assert [check.what for check in report.checks] == ["port opens", "AT answers"]
    check = line(report, "AT answers")
    assert (check.status, check.value) == (Status.FAIL, "no answer to AT within 0.3 s")
    assert "AT port" in check.advice
    assert report.notes[0].startswith("Not checked, the modem stopped: modem, SIM, IMSI")


async def test_a_modem_that_stops_answering_midway_ends_the_probe_there(
    emulator: ModemEmulator,
) -> None:
    original = emulator.commands.handle

    def hang_after_identity(command: str) -> tuple[str, str]:
        if command.upper().startswith("AT+CGSN"):
            emulator.faults.hang = True
        return original(command)

    emulator.commands.handle = hang_after_identity  # type: ignore[method-assign]
    report = await probe_device(emulator.device, timeouts=FAST)
    check = line(report, "SIM")
    assert (check.status, check.value) == (Status.FAIL, "no answer to AT+CPIN? within 0.5 s")
    assert "unplug the modem" in check.advice
    assert report.notes == (
        "Not checked, the modem stopped: IMSI, registration, operator, signal, storage, "
        "PDU mode, +CMTI notices.",
    )


async def test_a_port_held_by_another_program_says_so(emulator: ModemEmulator) -> None:
    holder = ATDriver(emulator.device)
    await holder.open()
    try:
        report = await probe_device(emulator.device, timeouts=FAST)
    finally:
        await holder.close()
    [check] = report.checks
    assert (check.status, check.value) == (
        Status.FAIL,
        f"{emulator.device} is in use by another program",
    )
    assert "ModemManager" in check.advice


async def test_send_test_sends_one_sms_to_the_number(emulator: ModemEmulator) -> None:
    report = await probe_device(emulator.device, timeouts=FAST, send_test="+996555000111")
    assert line(report, "test SMS") == Check(
        Status.OK, "test SMS", "sent to +996555000111 (reference 1)"
    )
    [sent] = emulator.sent
    decoded = decode_pdu(sent.pdu_hex)
    assert decoded.number == "+996555000111"
    assert "437051234567890" in decoded.text  # which SIM it came from


async def test_a_refused_test_sms_fails_with_the_reason(emulator: ModemEmulator) -> None:
    emulator.faults.cms_errors["AT+CMGS"] = 330
    report = await probe_device(emulator.device, timeouts=FAST, send_test="+996555000111")
    check = line(report, "test SMS")
    assert (check.status, check.value) == (Status.FAIL, "+996555000111: +CMS ERROR: 330")
    assert "SMS centre" in check.advice


async def test_the_scan_knocks_on_each_device_once(tmp_path: Path) -> None:
    async with (
        modem(tmp_path, "modem0") as healthy,
        modem(tmp_path, "modem1") as hung,
    ):
        hung.faults.hang = True
        (tmp_path / "by-id").mkdir()
        (tmp_path / "by-id" / "usb-Emulated-if00").symlink_to(healthy.device)
        candidates = find_candidates([str(tmp_path / "by-id" / "*"), str(tmp_path / "modem*")])
        assert candidates == [
            Candidate(str(tmp_path / "by-id" / "usb-Emulated-if00"), str(healthy.pty_path)),
            Candidate(str(tmp_path / "modem1"), str(hung.pty_path)),
        ]
        started = time.monotonic()
        results = await scan(candidates, timeouts=FAST)
    assert time.monotonic() - started < 2.0  # at once, not one after the other
    assert [(r.answers, r.detail) for r in results] == [
        (True, "Emulated shailoo E3131"),
        (False, "no answer to AT within 0.3 s"),
    ]


# -- verdicts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rssi_value", "status", "value"),
    [
        (31, Status.OK, "-51 dBm, good"),
        (14, Status.OK, "-85 dBm, good"),
        (13, Status.WARN, "-87 dBm, weak"),
        (7, Status.WARN, "-99 dBm, weak"),
        (6, Status.FAIL, "-101 dBm, poor"),
        (0, Status.FAIL, "-113 dBm, poor"),
        (99, Status.WARN, "unknown"),
        (None, Status.WARN, "unknown"),
    ],
)
def test_signal_words_at_their_thresholds(
    rssi_value: int | None, status: Status, value: str
) -> None:
    check = signal_check(rssi_value)
    assert (check.status, check.value) == (status, value)


def test_registration_states() -> None:
    statuses = {stat: registration_check(stat).status for stat in (0, 1, 2, 3, 4, 5, None)}
    assert statuses == {
        0: Status.FAIL, 1: Status.OK, 2: Status.WARN, 3: Status.FAIL, 4: Status.FAIL,
        5: Status.WARN, None: Status.FAIL,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("used", "total", "status", "value"),
    [
        (24, 30, Status.OK, "24 of 30 used (80%)"),
        (25, 30, Status.WARN, "25 of 30 used (83%), nearly full"),
        (30, 30, Status.WARN, "30 of 30 used (100%), full"),
        (0, 0, Status.WARN, "0 used, no capacity given"),
    ],
)
def test_storage_is_a_warning_above_80_percent(
    used: int, total: int, status: Status, value: str
) -> None:
    check = storage_check(StorageUse("SM", used, total))
    assert (check.what, check.status, check.value) == ("storage SM (SIM)", status, value)


def wrapped(error: Exception) -> ModemConnectionError:
    """``error`` as the driver raises it: a ModemConnectionError from pyserial's exception."""
    try:
        try:
            raise error
        except Exception as exc:
            raise ModemConnectionError("cannot open") from exc
    except ModemConnectionError as raised:
        return raised


@pytest.mark.parametrize(
    ("error", "value", "advice"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied on /dev/ttyUSB0",
         "sudo usermod -aG dialout $USER, then log out and in again"),
        (wrapped(serial.SerialException(errno.EACCES, "could not open port: Permission denied")),
         "permission denied on /dev/ttyUSB0", "sudo usermod -aG dialout $USER"),
        (wrapped(serial.SerialException(errno.ENOENT, "could not open port")),
         "/dev/ttyUSB0 does not exist", "lsusb"),
        (wrapped(serial.SerialException(errno.EAGAIN, "Could not exclusively lock port")),
         "/dev/ttyUSB0 is in use by another program", "fuser"),
        (wrapped(serial.SerialException(errno.EIO, "could not open port")),
         "/dev/ttyUSB0 does not respond", "unplug the modem"),
        (ModemConnectionError("/dev/ttyUSB0: opening took over 5 s"),
         "/dev/ttyUSB0: opening took over 5 s", "serial device"),
    ],
)  # fmt: skip
def test_open_failures_say_what_to_do(error: Exception, value: str, advice: str) -> None:
    check = open_failure("/dev/ttyUSB0", error)
    assert (check.status, check.what, check.value) == (Status.FAIL, "port opens", value)
    assert advice in check.advice


# -- the command ------------------------------------------------------------------------------


async def test_the_command_prints_a_checklist_and_exits_0_when_all_is_well(
    emulator: ModemEmulator,
) -> None:
    status, out, err = await shailoo("modem", "probe", emulator.device)
    assert status == 0, out + err
    lines = out.splitlines()
    assert lines[0] == f"Probing {emulator.device}"
    assert [row.split()[0] for row in lines[1:-1]] == ["ok"] * len(HEALTHY)
    assert lines[3].split(None, 2) == [
        "ok",
        "modem",
        "Emulated shailoo E3131, firmware 21.158.00.00.000",
    ]
    assert lines[-1] == "All checks passed: ready for 'shailoo run'."
    assert "\x1b[" not in out  # plain when not a terminal


async def test_the_command_exits_1_on_a_failed_check_and_shows_the_fix(tmp_path: Path) -> None:
    async with modem(tmp_path) as emulator:
        emulator.commands.sim_inserted = False
        status, out, _ = await shailoo("modem", "probe", emulator.device)
    assert status == 1
    assert "fail  SIM                not inserted\n      → power the modem off" in out
    assert "Not checked without a ready SIM: IMSI, registration, operator, storage." in out


async def test_warnings_alone_do_not_fail_the_command(tmp_path: Path) -> None:
    async with modem(tmp_path, pin="1234") as emulator:
        status, out, _ = await shailoo("modem", "probe", emulator.device)
    assert status == 0, out
    assert "warn  PIN" in out
    assert "No failures, 1 warning(s)" in out


async def test_the_command_gives_up_on_a_hung_modem_quickly(emulator: ModemEmulator) -> None:
    emulator.faults.hang = True
    started = time.monotonic()
    status, out, _ = await shailoo("modem", "probe", emulator.device, "--timeout", "0.3")
    assert time.monotonic() - started < 15
    assert status == 1
    assert "fail  AT answers         no answer to AT within 0.3 s" in out


async def test_the_command_on_a_path_that_does_not_exist(tmp_path: Path) -> None:
    status, out, err = await shailoo("modem", "probe", str(tmp_path / "ttyUSB9"))
    assert status == 1
    assert f"fail  port opens         {tmp_path / 'ttyUSB9'} does not exist" in out
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root opens any file: see the open_failure tests")
async def test_the_command_on_a_device_we_may_not_open(tmp_path: Path) -> None:
    locked = tmp_path / "ttyUSB0"
    locked.touch(mode=0)
    status, out, _ = await shailoo("modem", "probe", str(locked))
    assert status == 1
    assert f"permission denied on {locked}" in out
    assert "sudo usermod -aG dialout $USER" in out


async def test_send_test_through_the_command(emulator: ModemEmulator) -> None:
    status, out, _ = await shailoo(
        "modem", "probe", emulator.device, "--send-test", "+996555000111", "--json"
    )
    assert status == 0, out
    result = json.loads(out)
    assert (result["device"], result["ok"], result["notes"]) == (emulator.device, True, [])
    assert result["checks"][-1] == {
        "status": "ok", "what": "test SMS", "value": "sent to +996555000111 (reference 1)",
        "advice": "",
    }  # fmt: skip
    assert [decode_pdu(sent.pdu_hex).number for sent in emulator.sent] == ["+996555000111"]


async def test_the_scan_lists_devices_and_which_answer(tmp_path: Path) -> None:
    async with modem(tmp_path, "modem0") as healthy, modem(tmp_path, "modem1") as hung:
        hung.faults.hang = True
        globs = {"SHAILOO_PROBE_GLOBS": str(tmp_path / "modem*")}
        status, out, _ = await shailoo("modem", "probe", "--timeout", "0.3", env=globs)
        _, as_json, _ = await shailoo("modem", "probe", "--timeout", "0.3", "--json", env=globs)
        ptys = [healthy.pty_path, hung.pty_path]
    assert status == 0, out
    assert out.splitlines() == [
        f"answers AT  {healthy.device} -> {ptys[0]}  Emulated shailoo E3131",
        f"no AT       {hung.device} -> {ptys[1]}  no answer to AT within 0.3 s",
        f"Next: shailoo modem probe {healthy.device}   (a stick's other ports staying silent is "
        "normal; prefer the /dev/serial/by-id/ name: it survives replugging)",
    ]
    assert [c["answers"] for c in json.loads(as_json)["candidates"]] == [True, False]


async def test_the_scan_without_devices_says_what_to_check(tmp_path: Path) -> None:
    status, out, _ = await shailoo(
        "modem", "probe", env={"SHAILOO_PROBE_GLOBS": str(tmp_path / "ttyUSB*")}
    )
    assert status == 1
    assert out.startswith("No serial devices found")
    for hint in ("plugged in", "lsusb", "usb_modeswitch"):
        assert hint in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--send-test", "+996555000111"], "--send-test needs a DEVICE"),
        (["/dev/ttyUSB0", "--send-test", "mom"], "give a phone number"),
        (["/dev/ttyUSB0", "--timeout", "0"], "--timeout"),
    ],
)
async def test_usage_mistakes_exit_2(args: list[str], message: str) -> None:
    status, _, err = await shailoo("modem", "probe", *args)
    assert status == 2
    assert message in err
    assert "Traceback" not in err
