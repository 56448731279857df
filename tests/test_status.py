"""``shailoo status``: what a tech person needs to see, from the database, without a token."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

from store import repository
from store.db import Database
from store.models import Message, OutboxMessage
from tests.conftest import DEMO_FORMS, EXAMPLES
from tests.test_gateway_process import SHAILOO


def environment(database: Database, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ, "SHAILOO_DATABASE_URL": database.url, "SHAILOO_DATA_DIR": str(tmp_path),
        "SHAILOO_LOG_LEVEL": "WARNING",
    }  # fmt: skip


def shailoo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SHAILOO, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def a_day_in_progress(database: Database, env: dict[str, str]) -> None:
    for args in (("forms", "load", str(DEMO_FORMS)),
                 ("roster", "import", str(EXAMPLES / "roster" / "stations.csv"))):  # fmt: skip
        done = await asyncio.to_thread(shailoo, env, *args)
        assert done.returncode == 0, done.stderr
    async with database.transaction() as session:
        await repository.upsert_modem(
            session, imsi="437050000000001", imei="356938035643809", device="/dev/ttyUSB0",
            label="north desk", status={
                "state": "ready", "signal_dbm": -71,
                "storages": [{"name": "SM", "used": 3, "total": 30}],
            },
        )  # fmt: skip
        session.add(Message(
            direction="in", sender="+996555123456", text="OP 1001 A1 B1", status="accepted",
            form_code="OP", error_codes=[], parse={},
        ))  # fmt: skip
        session.add(OutboxMessage(
            recipient="+996555123456", text="OK", status="pending", attempts=0,
            message_references=[],
        ))  # fmt: skip


async def test_status_shows_modems_spool_outbox_coverage_and_the_last_messages(
    database: Database, tmp_path: Path
) -> None:
    env = environment(database, tmp_path)
    await a_day_in_progress(database, env)
    done = await asyncio.to_thread(shailoo, env, "status")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].endswith("forms: demo-election (version 1)")
    modem = next(line for line in lines if line.startswith("north desk"))
    assert modem.split()[2:8] == ["/dev/ttyUSB0", "437050000000001", "ready", "-71", "dBm", "SM"]
    assert "spool: 0 part(s) waiting for the database, 0 set aside" in lines
    assert "outbox: pending 1, sent 0, failed 0" in lines
    assert next(line for line in lines if line.startswith("OP ")).split() == ["OP", "0", "4", "0"]
    message = lines[-1].split()
    assert message[1:5] == ["in", "+996*******56", "OP", "accepted"]
    assert " ".join(message[5:]) == "OP 1001 A1 B1"


async def test_status_watch_redraws_until_stopped(database: Database, tmp_path: Path) -> None:
    env = environment(database, tmp_path)
    await a_day_in_progress(database, env)
    process = await asyncio.create_subprocess_exec(
        SHAILOO, "status", "--watch", "--every", "0.5", env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    snapshots = 0
    try:
        async with asyncio.timeout(60):
            while snapshots < 2:
                line = (await process.stdout.readline()).decode()
                snapshots += line.startswith("shailoo status at ")
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, errors.decode()
