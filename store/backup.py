"""Backing the database up to a file, and restoring it, with the PostgreSQL tools that ship
inside the ``pgserver`` package (so nothing else needs installing, and ``pg_dump`` is never older
than the server it reads)."""

from __future__ import annotations

import asyncio
import shutil
import warnings
from pathlib import Path

from sqlalchemy.engine import make_url

from store.errors import ConfigError

__all__ = ["backup", "libpq_url", "restore", "tool"]

BACKUP_TIMEOUT_S = 3600.0


def tool(name: str) -> str:
    """The path of a PostgreSQL client program: pgserver's, else one on the PATH."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pgserver

    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
    if bundled.is_file():
        return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise ConfigError(f"{name} is missing: install the PostgreSQL client tools")
    return found


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (any driver) as the plain ``postgresql://`` URL libpq tools take."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def backup(url: str, file: Path) -> None:
    """Dump the whole database to ``file`` (pg_dump's custom format)."""
    await _run(tool("pg_dump"), "--format=custom", "--no-owner", f"--file={file}", libpq_url(url))


async def restore(url: str, file: Path) -> None:
    """Replace the database's contents with a backup made by ``backup``."""
    await _run(tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
               f"--dbname={libpq_url(url)}", str(file))  # fmt: skip


async def _run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(BACKUP_TIMEOUT_S):
        _, errors = await process.communicate()
    if process.returncode != 0:
        program = Path(command[0]).name
        raise ConfigError(f"{program} failed: {errors.decode(errors='replace').strip()[-500:]}")
