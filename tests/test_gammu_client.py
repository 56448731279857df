"""The emulator is faithful enough for the real gammu: its CLI and python-gammu read our SMS.

The ``gammu`` command comes from the Debian package of that name; ``.ci/run`` installs it and sets
SHAILOO_REQUIRE_GAMMU=1, so there these tests never skip.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

import gammu
import pytest

from modem.emulator import ModemEmulator

MESSAGES = [
    ("+996555123456", "OP 1234 A1 B250 C13"),
    ("+996555123457", "ВП 5678 А2 Д1 @ очередь 40 человек, всё спокойно " * 3),  # 3-part UCS-2
    ("+996700111222", "escapes {x} [y] ~ € \\ ^ | end"),
    ("+996555123458", "Байкоочу: шайлоо участогу ачылды, OK"),
]
# No "~" in the UCS-2 texts: libgammu's UCS-2 decoder reads it as an escape ("~П" -> "~~"),
# whatever sent it; shailoo's decoder does not share that defect (see tests/test_pdu.py).


def gammu_binary() -> str:
    path = shutil.which("gammu")
    if path is None:
        if os.environ.get("SHAILOO_REQUIRE_GAMMU"):
            pytest.fail("gammu is required here (SHAILOO_REQUIRE_GAMMU) but not installed")
        pytest.skip("the gammu client is not installed: sudo apt-get install gammu")
    return path


async def run_gammu(config: Path, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        gammu_binary(), "-c", str(config), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode(errors="replace")
    return output.decode("utf-8", errors="replace")


def gammu_config(tmp_path: Path, device: str) -> Path:
    config = tmp_path / "gammurc"
    config.write_text(f"[gammu]\ndevice = {device}\nconnection = at\n", encoding="utf-8")
    return config


def messages_in(listing: str) -> list[tuple[str, str]]:
    """(sender, text) of each message ``gammu geteachsms`` printed."""
    found = []
    for block in re.split(r"\n(?=Location \d+)", listing):
        sender = re.search(r'Remote number\s*: "([^"]*)"', block)
        if sender is None:
            continue
        body = block.split("\n\n", 1)[1] if "\n\n" in block else ""
        body = re.sub(r"\n+\d+ SMS parts in \d+ SMS sequences\s*$", "", body)
        found.append((sender.group(1), body.strip()))
    return found


async def test_gammu_identifies_the_emulated_modem(emulator: ModemEmulator, tmp_path: Path) -> None:
    output = await run_gammu(gammu_config(tmp_path, emulator.device), "identify")
    assert "IMEI                 : 356938035643809" in output
    assert "SIM IMSI             : 437051234567890" in output
    assert "Manufacturer         : Emulated" in output


async def test_gammu_reads_exactly_the_messages_delivered(
    emulator: ModemEmulator, tmp_path: Path
) -> None:
    for sender, text in MESSAGES:
        emulator.deliver(sender, text)
    output = await run_gammu(gammu_config(tmp_path, emulator.device), "geteachsms")
    assert sorted(messages_in(output)) == sorted((s, t.strip()) for s, t in MESSAGES)
    assert "6 SMS parts in 4 SMS sequences" in output


def read_with_python_gammu(device: str) -> list[tuple[str, str]]:
    machine = gammu.StateMachine()
    machine.SetConfig(0, {"Device": device, "Connection": "at"})
    machine.Init()
    try:
        status = machine.GetSMSStatus()
        remaining = status["SIMUsed"] + status["PhoneUsed"]
        parts = [machine.GetNextSMS(Start=True, Folder=0)]
        remaining -= len(parts[-1])
        while remaining > 0:
            parts.append(machine.GetNextSMS(Location=parts[-1][0]["Location"], Folder=0))
            remaining -= len(parts[-1])
        linked = gammu.LinkSMS(parts)
        texts = []
        for message in linked:
            decoded = gammu.DecodeSMS(message)
            text = (
                "".join(entry["Buffer"] or "" for entry in decoded["Entries"])
                if decoded
                else (message[0]["Text"])
            )
            texts.append((message[0]["Number"], text))
        return texts
    finally:
        machine.Terminate()


async def test_python_gammu_reads_exactly_the_messages_delivered(emulator: ModemEmulator) -> None:
    for sender, text in MESSAGES:
        emulator.deliver(sender, text)
    read = await asyncio.to_thread(read_with_python_gammu, emulator.device)
    assert sorted(read) == sorted(MESSAGES)
