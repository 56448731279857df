"""docs/runbook.md, rehearsed: every command in its ``sh`` blocks runs, in order, against an
emulated modem and a real database, and does what the text around it says. (``text`` blocks hold
system commands, systemctl and crontab, that tests/test_packaging.py checks instead.)"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from modem.emulator import ModemEmulator
from modem.pdu import decode_pdu
from store.db import Database
from tests.test_api_process import free_port

ROOT = Path(__file__).parent.parent
BASH = shutil.which("bash") or "/bin/bash"
RUNBOOK = ROOT / "docs" / "runbook.md"
DEVICE = "/dev/serial/by-id/usb-HUAWEI_Mobile-if00-port0"
REHEARSAL_SMS = ("+996555100001", "OP 1001 A1 B1 C7 D1 E1500")

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the runbook uses curl")


def commands(markdown: str) -> list[str]:
    """The runbook's shell commands, in order: one per line of its ``sh`` blocks, with
    backslash continuations joined."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", markdown, flags=re.DOTALL):
        found += [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    return found


@dataclass
class Rehearsal:
    """What the commands share: the substitutions, the environment, the running gateway."""

    folder: Path
    env: dict[str, str]
    port: int
    device: str
    gateway: subprocess.Popen[bytes] | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    def concrete(self, command: str) -> str:
        """A runbook line with this machine's paths and port."""
        replacements = {
            DEVICE: self.device,
            "forms.yaml": str(ROOT / "examples/forms/presidential.yaml"),
            "stations.csv": str(ROOT / "examples/roster/stations.csv"),
            "observers.csv": str(ROOT / "examples/roster/observers.csv"),
            "127.0.0.1:8080": f"127.0.0.1:{self.port}",
        }
        for written, here in replacements.items():
            command = command.replace(written, here)
        return command

    def run(self, command: str) -> str:
        result = subprocess.run(
            [BASH, "-c", self.concrete(command)], cwd=self.folder, env=self.env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        self.outputs[command] = result.stdout
        return result.stdout

    def start_gateway(self, command: str) -> None:
        self.gateway = subprocess.Popen(
            [BASH, "-c", "exec " + self.concrete(command)], cwd=self.folder, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def stop_gateway(self) -> None:
        if self.gateway is not None and self.gateway.poll() is None:
            self.gateway.terminate()
            assert self.gateway.wait(30) == 0
        self.gateway = None


async def until_ready(rehearsal: Rehearsal) -> None:
    headers = {"Authorization": f"Bearer {rehearsal.env['ADMIN']}"}
    url = f"http://127.0.0.1:{rehearsal.port}/ready"
    async with httpx.AsyncClient() as client, asyncio.timeout(60):
        while True:
            try:
                if (await client.get(url, headers=headers)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)


async def test_every_command_of_the_runbook_works_in_order(
    database: Database, emulator: ModemEmulator, tmp_path: Path
) -> None:
    env = {
        **os.environ, "SHAILOO_DATABASE_URL": database.url,
        "SHAILOO_DATA_DIR": str(tmp_path / "data"), "SHAILOO_LOG_LEVEL": "WARNING",
        "SHAILOO_API__PORT": str(port := free_port()), "SHAILOO_PROBE_GLOBS": emulator.device,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }  # fmt: skip
    rehearsal = Rehearsal(tmp_path, env, port, emulator.device)
    lines = commands(RUNBOOK.read_text(encoding="utf-8"))
    assert len(lines) > 20
    try:
        for line in lines:
            await _step(rehearsal, line, emulator)
    finally:
        rehearsal.stop_gateway()
    _check_outcomes(rehearsal, emulator)


async def _step(rehearsal: Rehearsal, line: str, emulator: ModemEmulator) -> None:
    if line.startswith("shailoo run"):
        rehearsal.start_gateway(line)
        await until_ready(rehearsal)
        emulator.deliver(*REHEARSAL_SMS)  # the text from the tech person's own phone
        await _until_stored(rehearsal)
        return
    if line.startswith("shailoo db restore"):
        rehearsal.stop_gateway()  # the runbook stops it first (systemctl stop)
    output = await asyncio.to_thread(rehearsal.run, line)
    if line.startswith("shailoo token create --name data-team"):
        rehearsal.env["ADMIN"] = output.strip()


async def _until_stored(rehearsal: Rehearsal) -> None:
    headers = {"Authorization": f"Bearer {rehearsal.env['ADMIN']}"}
    url = f"http://127.0.0.1:{rehearsal.port}/api/v1/reports?form=OP"
    async with httpx.AsyncClient() as client, asyncio.timeout(30):
        while not (await client.get(url, headers=headers)).json()["items"]:  # noqa: ASYNC110
            await asyncio.sleep(0.3)


def _check_outcomes(rehearsal: Rehearsal, emulator: ModemEmulator) -> None:
    said = rehearsal.outputs
    assert json.loads(said["curl -s http://127.0.0.1:8080/health"]) == {"status": "ok"}
    messages = json.loads(next(v for k, v in said.items() if "messages?limit=5" in k))
    assert REHEARSAL_SMS[1] in [m["text"] for m in messages["items"]]
    quarantined = json.loads(next(v for k, v in said.items() if "/quarantine" in k))
    assert quarantined["quarantined"] is True
    tallies = json.loads(next(v for k, v in said.items() if "tallies?form=RS" in k))
    assert tallies["form"] == "RS"
    missing = json.loads(next(v for k, v in said.items() if "reported=false" in k))
    assert missing["totals"]["stations"] == 4
    broadcast = json.loads(next(v for k, v in said.items() if "/api/v1/outbox" in k))
    assert broadcast["recipients"] == 2
    assert "shailoo_messages_total" in next(v for k, v in said.items() if "/metrics" in k)
    assert "+996555100001" in [decode_pdu(sent.pdu_hex).number for sent in emulator.sent]
    assert (
        (rehearsal.folder / "coverage-OP.csv")
        .read_text(encoding="utf-8-sig")
        .startswith("station,")
    )
    assert (rehearsal.folder / "shailoo-backup.dump").stat().st_size > 0
    assert "revoked 1 token(s)" in said["shailoo token revoke dashboard"]
