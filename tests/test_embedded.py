"""An embedded PostgreSQL left running by a killed ``shailoo run`` is adopted by the next start,
said so, and stopped when that one exits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from store.embedded import HANDLES_FILE, POSTMASTER_FILE, forget_the_dead
from tests.conftest import DEMO_FORMS
from tests.helpers import eventually
from tests.test_gateway_process import SHAILOO


def a_dead_pid() -> int:
    with subprocess.Popen([sys.executable, "-c", "pass"]) as finished:
        finished.wait()
    return finished.pid


def test_a_server_no_living_process_uses_is_adopted_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = a_dead_pid()
    (tmp_path / HANDLES_FILE).write_text(json.dumps([dead]))
    (tmp_path / POSTMASTER_FILE).write_text(f"{os.getpid()}\n{tmp_path}\n")  # a live "server"
    with caplog.at_level(logging.INFO, logger="store.embedded"):
        found = forget_the_dead(tmp_path)
    assert (found.dead, found.alive, found.server_running) == ([dead], [], True)
    assert json.loads((tmp_path / HANDLES_FILE).read_text()) == []
    assert f"adopting the embedded PostgreSQL in {tmp_path}, left running by process {dead}" in (
        caplog.text
    )


def test_a_server_still_used_by_a_living_process_is_left_to_it(tmp_path: Path) -> None:
    dead = a_dead_pid()
    (tmp_path / HANDLES_FILE).write_text(json.dumps([dead, os.getpid()]))
    (tmp_path / POSTMASTER_FILE).write_text(f"{os.getpid()}\n")
    found = forget_the_dead(tmp_path)
    assert (found.dead, found.alive) == ([dead], [os.getpid()])
    assert json.loads((tmp_path / HANDLES_FILE).read_text()) == [os.getpid()]


def server_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / POSTMASTER_FILE).read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


async def test_after_a_kill_9_the_next_start_adopts_the_server_and_stops_it(
    tmp_path: Path,
) -> None:
    env = {key: value for key, value in os.environ.items()
           if key not in ("SHAILOO_DATABASE_URL", "DATABASE_URL")}  # fmt: skip
    env |= {"SHAILOO_DATA_DIR": str(tmp_path / "data"), "SHAILOO_LOG_LEVEL": "WARNING"}
    pgdata = tmp_path / "data" / "postgres"
    gateway = await asyncio.create_subprocess_exec(
        SHAILOO, "run", "--no-api", "--migrate", "--forms", str(DEMO_FORMS), env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:

        async def using_the_server() -> bool:
            handles = pgdata / HANDLES_FILE
            return handles.is_file() and gateway.pid in json.loads(handles.read_text() or "[]")

        await eventually(using_the_server, 120, interval_s=0.3)
        gateway.send_signal(signal.SIGKILL)
        await gateway.wait()
        orphan = server_pid(pgdata)
        assert orphan is not None
        done = await asyncio.to_thread(
            subprocess.run, [SHAILOO, "db", "upgrade"], env=env, capture_output=True,
            text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"left running by process {gateway.pid} which was killed" in done.stderr
        assert server_pid(pgdata) is None  # stopped with its last user
    finally:
        if gateway.returncode is None:
            gateway.kill()
            await gateway.wait()
        leftover = server_pid(pgdata)
        if leftover is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(leftover, signal.SIGTERM)
