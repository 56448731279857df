"""``shailoo modem probe [DEVICE]``: is this modem ready for election day, and if not, why.

The checks are ``modem.probe``'s; this module reads the options, runs them and prints: a
checklist with colours on a terminal, the same lines plain when piped, or one JSON object with
``--json``. Exit status: 0 when nothing failed (warnings are fine), 1 when a check failed or no
device answered, 2 for a usage mistake.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from cli.app import fail
from cli.modem import modem_app
from modem.probe import (
    CANDIDATE_GLOBS,
    Check,
    ProbeReport,
    ProbeTimeouts,
    ScanResult,
    Status,
    find_candidates,
    probe_device,
    scan,
)

__all__ = ["GLOBS_VARIABLE", "probe", "scan_globs"]

# Where the no-argument scan looks, os.pathsep-separated; tests point it at an emulator.
GLOBS_VARIABLE = "SHAILOO_PROBE_GLOBS"
_PHONE_NUMBER = re.compile(r"\+?\d{3,20}")
_STYLES = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}
_WHAT_WIDTH = 18


@modem_app.command()
def probe(
    device: Annotated[
        str | None,
        typer.Argument(
            help="The modem's serial device, e.g. /dev/serial/by-id/usb-HUAWEI_...-if00-port0. "
            "Without it: list the serial devices and which of them answer AT.",
            metavar="DEVICE",
            show_default=False,
        ),
    ] = None,
    send_test: Annotated[
        str | None,
        typer.Option(
            "--send-test",
            metavar="NUMBER",
            help="Also send one test SMS to this phone number, e.g. +996555123456.",
            show_default=False,
        ),
    ] = None,
    baud: Annotated[int, typer.Option(help="Serial line speed.", min=300)] = 115_200,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for each answer of the modem.", min=0.05)
    ] = 3.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Check a modem after plugging it in: port, AT, SIM, PIN, network, signal, storage.

    Every line is ok, warn or fail, and says what to do when it is not ok. The exit status is
    1 when a line failed (warnings do not fail). With no DEVICE, lists the candidate serial
    devices (`/dev/serial/by-id/*`, `/dev/ttyUSB*`, `/dev/ttyACM*`) and which answer AT.
    """
    # A short --timeout speeds up knocking on silent ports; later commands (storage
    # selection on a full SIM) may need a little longer even on a healthy modem.
    timeouts = ProbeTimeouts(answer_s=timeout, command_s=max(timeout, 1.0))
    if device is None:
        if send_test is not None:
            fail("--send-test needs a DEVICE: shailoo modem probe DEVICE --send-test NUMBER")
        results = asyncio.run(scan(find_candidates(scan_globs()), baud=baud, timeouts=timeouts))
        _show_scan(results, as_json)
        if not any(result.answers for result in results):
            raise typer.Exit(1)
        return
    if send_test is not None and not _PHONE_NUMBER.fullmatch(send_test):
        fail(f"--send-test {send_test!r}: give a phone number, e.g. +996555123456")
    report = asyncio.run(probe_device(device, baud=baud, timeouts=timeouts, send_test=send_test))
    _show_report(report, as_json)
    if report.failed:
        raise typer.Exit(1)


def scan_globs() -> tuple[str, ...]:
    """Where to look for modems: ``SHAILOO_PROBE_GLOBS`` if set, else the usual places."""
    configured = os.environ.get(GLOBS_VARIABLE, "")
    return tuple(part for part in configured.split(os.pathsep) if part) or CANDIDATE_GLOBS


def _console() -> Console:
    # soft_wrap: a piped line stays one line, whatever the width rich assumes.
    return Console(highlight=False, soft_wrap=True)


# -- one device ---------------------------------------------------------------------------


def _show_report(report: ProbeReport, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report_json(report), ensure_ascii=False))
        return
    console = _console()
    console.print(Text(f"Probing {report.device}", style="bold"))
    for check in report.checks:
        _print_check(console, check)
    for note in report.notes:
        console.print(Text(note, style="dim"))
    console.print(_summary(report.checks))


def report_json(report: ProbeReport) -> dict[str, Any]:
    """The JSON object ``--json`` prints for one device."""
    return {
        "device": report.device,
        "ok": not report.failed,
        "checks": [
            {"status": str(c.status), "what": c.what, "value": c.value, "advice": c.advice}
            for c in report.checks
        ],
        "notes": list(report.notes),
    }


def _print_check(console: Console, check: Check) -> None:
    line = Text.assemble(
        (f"{check.status:<5}", _STYLES[check.status]),
        " ",
        (f"{check.what:<{_WHAT_WIDTH}}", "bold" if check.status is not Status.OK else ""),
        " ",
        check.value,
    )
    console.print(line)
    if check.advice:
        console.print(Text(f"{'':6}→ {check.advice}", style="cyan"))


def _summary(checks: Sequence[Check]) -> Text:
    failed = sum(check.status is Status.FAIL for check in checks)
    warned = sum(check.status is Status.WARN for check in checks)
    if failed:
        return Text(
            f"{failed} failed, {warned} warning(s): fix the fail lines and probe again.",
            style="bold red",
        )
    if warned:
        return Text(f"No failures, {warned} warning(s): usable; see the advice.", style="yellow")
    return Text("All checks passed: ready for 'shailoo run'.", style="bold green")


# -- the scan -----------------------------------------------------------------------------


def _show_scan(results: Sequence[ScanResult], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(scan_json(results), ensure_ascii=False))
        return
    console = _console()
    if not results:
        console.print(
            Text(
                f"No serial devices found ({', '.join(scan_globs())}). Check: the modem is "
                "plugged in (try another USB port or cable); 'lsusb' lists it; if it shows up "
                "as a CD-ROM or storage device it needs usb_modeswitch (sudo apt install "
                "usb-modeswitch), then unplug and plug it in again; 'sudo dmesg | tail' says "
                "what the kernel saw.",
                style="yellow",
            )
        )
        return
    for result in results:
        _print_candidate(console, result)
    console.print(_scan_hint(results))


def scan_json(results: Sequence[ScanResult]) -> dict[str, Any]:
    """The JSON object ``--json`` prints for the no-argument scan."""
    return {
        "candidates": [
            {
                "device": result.candidate.path,
                "target": result.candidate.target,
                "answers": result.answers,
                "detail": result.detail,
            }
            for result in results
        ]
    }


def _print_candidate(console: Console, result: ScanResult) -> None:
    path, target = result.candidate.path, result.candidate.target
    where = path if path == target else f"{path} -> {target}"
    answer = ("answers AT", "green") if result.answers else ("no AT", "yellow")
    console.print(Text.assemble((f"{answer[0]:<11}", answer[1]), " ", where, f"  {result.detail}"))


def _scan_hint(results: Sequence[ScanResult]) -> Text:
    answering = [result.candidate.path for result in results if result.answers]
    if not answering:
        return Text(
            "None answers AT. Unplug the modem, wait 10 s, plug it in again and scan again; "
            "if it still does not, check 'lsusb' and usb_modeswitch.",
            style="yellow",
        )
    return Text(
        f"Next: shailoo modem probe {answering[0]}   (a stick's other ports staying silent "
        "is normal; prefer the /dev/serial/by-id/ name: it survives replugging)",
        style="bold",
    )
