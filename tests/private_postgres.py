"""A PostgreSQL cluster of a test's own (pgserver's binaries, so CI needs nothing installed),
which the test can crash (``pg_ctl stop -m immediate``) and start again."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

__all__ = ["PrivatePostgres"]

_COMMAND_TIMEOUT_S = 60.0
_SYSTEM_USER = "pgserver"  # PostgreSQL refuses to run as root; pgserver uses this user too


class PrivatePostgres:
    """``initdb`` in a folder of its own; ``url`` reaches it on 127.0.0.1 once started."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="shailoo-private-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as: dict[str, Any] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            from pgserver._commands import POSTGRES_BIN_PATH
            from pgserver.utils import ensure_user_exists
        self._bin = POSTGRES_BIN_PATH
        if os.geteuid() == 0:
            ensure_user_exists(_SYSTEM_USER)
            shutil.chown(self.folder, _SYSTEM_USER, _SYSTEM_USER)
            self._as = {"user": _SYSTEM_USER}

    async def create(self) -> None:
        """``initdb`` and start it, waiting until it accepts connections."""
        await self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync")
        await self.start(wait=True)

    async def start(self, *, wait: bool) -> None:
        """``pg_ctl start``; without ``wait`` it returns while the server still recovers."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        await self._run(
            "pg_ctl", "start", "-D", self.data, "-l", self.log, "-o", options,
            "-w" if wait else "-W",
        )  # fmt: skip

    async def crash(self) -> None:
        """``pg_ctl stop -m immediate``: no shutdown checkpoint, crash recovery on start."""
        await self._run("pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w")

    async def destroy(self) -> None:
        """Stop it if it runs, and delete its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                await self.crash()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def _run(self, program: str, *args: object) -> None:
        await asyncio.to_thread(self._run_blocking, program, [str(arg) for arg in args])

    def _run_blocking(self, program: str, args: list[str]) -> None:
        # Output to a file, not a pipe: the server pg_ctl starts would hold a pipe open.
        with tempfile.TemporaryFile("w+") as output:
            completed = subprocess.run(
                [str(self._bin / program), *args],
                stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                timeout=_COMMAND_TIMEOUT_S, check=False, cwd=self.folder, **self._as,
            )  # fmt: skip
            if completed.returncode != 0:
                output.seek(0)
                raise RuntimeError(f"{program} failed: {output.read()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
