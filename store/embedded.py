"""The embedded PostgreSQL left behind by a killed process: adopted, and said so.

pgserver keeps the ids of the processes that use the server in a data directory
(``.handle_pids.json``) and stops the server when the last of them exits. A process killed with
``kill -9`` (or the OOM killer) never takes itself off that list, so the server would run on
through every later start and stop. At start, ``forget_the_dead`` takes dead processes off the
list: a running server that no living process uses is then adopted, and stops when this process
(its only user) exits.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Orphan", "forget_the_dead"]

_LOGGER = logging.getLogger(__name__)
HANDLES_FILE = ".handle_pids.json"  # pgserver's list of the processes using the server
POSTMASTER_FILE = "postmaster.pid"  # PostgreSQL's: its first line is the server's process id


@dataclass(frozen=True, slots=True)
class Orphan:
    """What ``forget_the_dead`` found: dead users, living ones, and whether a server runs."""

    dead: list[int]
    alive: list[int]
    server_running: bool


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: is it there? (sends nothing)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # there, and someone else's
    return True


def _server_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / POSTMASTER_FILE).read_text(encoding="utf-8").split("\n", 1)[0]
        return int(first.strip())
    except (OSError, ValueError):
        return None


def forget_the_dead(pgdata: Path) -> Orphan:
    """Take dead processes off the server's list of users; log what became of the server.

    The caller holds pgserver's inter-process lock, as pgserver does when it reads the list."""
    path = pgdata / HANDLES_FILE
    try:
        pids = [int(pid) for pid in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        pids = []
    alive = [pid for pid in pids if _alive(pid)]
    dead = [pid for pid in pids if pid not in alive]
    server = _server_pid(pgdata)
    found = Orphan(dead, alive, server is not None and _alive(server))
    if dead:
        path.write_text(json.dumps(alive), encoding="utf-8")
        _say(pgdata, found)
    return found


def _say(pgdata: Path, found: Orphan) -> None:
    killed = ", ".join(str(pid) for pid in found.dead)
    if not found.server_running:
        _LOGGER.info("the embedded PostgreSQL in %s was not running (process %s had been "
                     "killed); starting it", pgdata, killed)  # fmt: skip
    elif found.alive:
        _LOGGER.info("the embedded PostgreSQL in %s is shared with running process(es) %s "
                     "(process %s had been killed)", pgdata,
                     ", ".join(map(str, found.alive)), killed)  # fmt: skip
    else:
        _LOGGER.warning("adopting the embedded PostgreSQL in %s, left running by process %s "
                        "which was killed; it stops when this shailoo exits", pgdata,
                        killed)  # fmt: skip
