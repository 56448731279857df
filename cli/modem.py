"""``shailoo modem emulate`` and ``shailoo pdu decode``: a virtual modem, and reading PDUs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import stat
import sys
from typing import Annotated, Any

import typer

from cli.app import app, fail, utf8_stdin
from modem.emulator import DEFAULT_BAUD, SIM_WRITE_FACTOR, Faults, ModemEmulator, SentSMS
from modem.errors import PDUError
from modem.pdu import DecodedPDU, decode_pdu

__all__ = ["decode", "emulate", "pdu_json"]

_IDENTITY_DIGITS = 15

modem_app = typer.Typer(
    help="GSM modems: check one after plugging it in (probe), or run a virtual one (emulate).",
    no_args_is_help=True,
)
pdu_app = typer.Typer(help="SMS PDUs as modems list them.", no_args_is_help=True)
app.add_typer(modem_app, name="modem")
app.add_typer(pdu_app, name="pdu")


@modem_app.command()
def emulate(
    link: Annotated[
        str | None,
        typer.Option(help="Also keep a symlink to the device here, e.g. /tmp/shailoo-modem0."),
    ] = None,
    baud: Annotated[
        int | None,
        typer.Option(
            help=f"Pace bytes as a serial line at this speed (e.g. {DEFAULT_BAUD}). "
            "Default: as fast as the pseudo-terminal goes."
        ),
    ] = None,
    imsi: Annotated[
        str | None,
        typer.Option(help="The SIM's IMSI (15 digits). Default: one of its own for each --link."),
    ] = None,
    imei: Annotated[
        str | None,
        typer.Option(help="The modem's IMEI (15 digits). Default: one of its own for each --link."),
    ] = None,
    no_concat: Annotated[
        bool,
        typer.Option(
            "--no-concat",
            help="Refuse command lines that concatenate commands (AT+CMGD=1;+CMGD=2) with "
            "ERROR, running none of them, as some modems do.",
        ),
    ] = False,
    latency_ms: Annotated[
        float,
        typer.Option(
            "--latency-ms",
            min=0,
            help="Take this long to run each command; SIM writes (AT+CMGD) take "
            f"{SIM_WRITE_FACTOR:g} times as long.",
        ),
    ] = 0.0,
) -> None:
    """Run a virtual GSM modem until stopped (Ctrl-C), for dry runs and other tools.

    Prints its device path; point shailoo, gammu or minicom at it. Each line typed on standard
    input as 'NUMBER TEXT' arrives as an SMS from NUMBER (long or Cyrillic texts become
    multipart UCS-2, as from a phone), e.g.:

      +996555123456 OP 1234 A1 B250

    Every SMS the modem is asked to send (the gateway's replies) is printed on standard output
    as 'sent to NUMBER (N parts): TEXT'.
    """
    try:
        asyncio.run(
            _emulate(
                link,
                baud,
                _identity(link, imsi, imei),
                no_concat=no_concat,
                latency_ms=latency_ms,
            )
        )
    except OSError as exc:
        fail(f"cannot start the emulator: {exc}")


def _identity(link: str | None, imsi: str | None, imei: str | None) -> dict[str, str]:
    """IMSI and IMEI: as given, else derived from the link (or this process) so that two
    emulators rehearsing two modems show as two."""
    for name, value in (("--imsi", imsi), ("--imei", imei)):
        if value is not None and not (value.isdigit() and len(value) == _IDENTITY_DIGITS):
            fail(f"{name} {value!r}: give 15 digits")
    seed = int.from_bytes(hashlib.sha256((link or f"pid {os.getpid()}").encode()).digest()[:8])
    serial = f"{seed % 10**9:09d}"
    return {
        "imsi": imsi or f"437059{serial}",  # 437 05: Kyrgyzstan, an operator code nobody uses
        "imei": imei or _with_luhn(f"35693803{serial[:6]}"),
    }


def _with_luhn(digits: str) -> str:
    """``digits`` with the Luhn check digit an IMEI ends with."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str(-total % 10)


async def _emulate(
    link: str | None,
    baud: int | None,
    identity: dict[str, str],
    *,
    no_concat: bool,
    latency_ms: float,
) -> None:
    emulator = ModemEmulator(
        link=link, faults=Faults(baud=baud), no_concat=no_concat, latency_ms=latency_ms,
        imsi=identity["imsi"], imei=identity["imei"],
    )  # fmt: skip
    emulator.on_sent = _SentPrinter().part
    await emulator.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    where = f" (link {link})" if link else ""
    typer.echo(f"{emulator.pty_path}{where}")
    typer.echo(
        f"Virtual modem ready (IMSI {identity['imsi']}, IMEI {identity['imei']}). "
        "Type 'NUMBER TEXT' lines to deliver SMS; Ctrl-C stops.",
        err=True,
    )
    sys.stdout.flush()
    reader = asyncio.create_task(_deliver_lines(emulator))
    try:
        await stop.wait()
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await emulator.stop()


async def _deliver_lines(emulator: ModemEmulator) -> None:
    if not _streams(sys.stdin.fileno()):  # a file or /dev/null: it is all there already
        for line in utf8_stdin():
            _deliver_line(emulator, line)
        return
    reader = asyncio.StreamReader()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    try:
        while raw := await reader.readline():
            _deliver_line(emulator, raw.decode("utf-8", errors="replace"))
    finally:
        transport.close()


class _SentPrinter:
    """Prints each SMS the emulated modem is given to send, once all its parts are in."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str, int], dict[int, str]] = {}

    def part(self, sent: SentSMS) -> None:
        """Take one AT+CMGS; print the SMS when it is whole."""
        try:
            decoded = decode_pdu(sent.pdu_hex)
        except PDUError as exc:
            _print(f"sent: a PDU that does not decode ({exc}): {sent.pdu_hex}")
            return
        concat = decoded.concat
        if concat is None:
            _print(f"sent to {decoded.number} (1 part): {decoded.text}")
            return
        parts = self._parts.setdefault((decoded.number, concat.ref), {})
        parts[concat.part] = decoded.text
        if len(parts) == concat.total:
            del self._parts[(decoded.number, concat.ref)]
            text = "".join(parts[number] for number in sorted(parts))
            _print(f"sent to {decoded.number} ({concat.total} parts): {text}")


def _print(line: str) -> None:
    typer.echo(line)
    sys.stdout.flush()  # a pipe reader sees each SMS as it is sent


def _streams(fd: int) -> bool:
    """Whether ``fd`` is a terminal, pipe or socket, which the event loop can watch."""
    mode = os.fstat(fd).st_mode
    return os.isatty(fd) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _deliver_line(emulator: ModemEmulator, line: str) -> None:
    number, _, text = line.rstrip("\r\n").partition(" ")
    if not number or not text:
        typer.echo("ignored: write 'NUMBER TEXT', e.g. +996555123456 OP 1234 A1", err=True)
        return
    parts = emulator.deliver(number, text)
    typer.echo(f"delivered from {number} in {len(parts)} part(s)", err=True)


@pdu_app.command()
def decode(
    pdu: Annotated[
        str,
        typer.Argument(
            help="PDU hex with the SMSC field first, as AT+CMGL "
            "lists it; '-' reads one per line from standard input "
            "and writes one JSON object per line.",
            show_default=False,
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Decode SMS PDUs: sender, SMSC timestamp, text, coding, concatenation.

    A malformed PDU gives "ok": false and an "error", never a traceback.
    """
    if pdu == "-":
        for line in utf8_stdin():
            if line.strip():
                sys.stdout.write(json.dumps(pdu_json(line.strip()), ensure_ascii=False) + "\n")
                sys.stdout.flush()
        return
    result = pdu_json(pdu)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    for key, value in result.items():
        typer.echo(f"{key:10} {value}")


def pdu_json(pdu_hex: str) -> dict[str, Any]:
    """The JSON object ``shailoo pdu decode`` prints for one PDU."""
    try:
        decoded = decode_pdu(pdu_hex)
    except PDUError as exc:
        return {
            "ok": False,
            "type": None,
            "sender": None,
            "timestamp": None,
            "text": None,
            "coding": None,
            "concat": None,
            "error": str(exc),
        }
    return _decoded_json(decoded)


def _decoded_json(decoded: DecodedPDU) -> dict[str, Any]:
    concat = decoded.concat
    return {
        "ok": True,
        "type": decoded.type,
        "sender": decoded.number,
        "timestamp": decoded.timestamp.isoformat() if decoded.timestamp else None,
        "text": decoded.text,
        "coding": decoded.coding,
        "concat": None
        if concat is None
        else {"ref": concat.ref, "part": concat.part, "total": concat.total},
        "error": None,
    }
