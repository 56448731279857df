"""Every command that touches the database answers an expected fault in one sentence with the
fix, and exits 2: never a traceback (a real server, real processes)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from store import repository
from store.db import Database
from tests.conftest import DEMO_FORMS, EXAMPLES
from tests.helpers import eventually
from tests.test_api_process import free_port
from tests.test_gateway_process import GatewayProcess

SHAILOO = str(Path(sys.executable).parent / "shailoo")


def shailoo(url: str, *args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ, "SHAILOO_DATABASE_URL": url, "SHAILOO_DATA_DIR": str(data_dir),
        "SHAILOO_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    return subprocess.run(
        [SHAILOO, *args], env=environment, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


def plain(url: str, **parts: str | int) -> str:
    return make_url(url).set(drivername="postgresql", **parts).render_as_string(hide_password=False)


async def admin(database: Database, statement: str) -> None:
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql(statement)


@pytest.fixture
async def locked_database(database: Database) -> AsyncIterator[str]:
    """The URL of a migrated database that a new role may log in to but not connect to."""
    role = f"shailoo_nobody_{os.getpid()}"
    name = make_url(database.url).database
    await admin(database, f'DROP ROLE IF EXISTS "{role}"')
    await admin(database, f'CREATE ROLE "{role}" LOGIN')
    await admin(database, f'REVOKE CONNECT ON DATABASE "{name}" FROM PUBLIC')
    yield plain(database.url, username=role)
    await admin(database, f'DROP ROLE IF EXISTS "{role}"')


NOTHING_THERE = "postgresql://postgres@127.0.0.1:1/postgres"
FAULTS = {
    "unreachable port": (lambda url: NOTHING_THERE, "nothing answers at 127.0.0.1:1"),
    "unknown host": (lambda url: "postgresql://me@nohost.invalid/x", "unknown host"),
    "authentication": (lambda url: plain(url, username="no_such_role_xyz"), "authentication"),
    "no such database": (lambda url: plain(url, database="no_such_db_xyz"), "no such database"),
    "malformed": (lambda url: "postgresql://me@127.0.0.1:port/x", "the database URL is malformed"),
    "not postgresql": (lambda url: "mysql://me@127.0.0.1/x", "needs PostgreSQL"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_database_fault_is_one_sentence_with_the_fix_and_exit_2(
    database: Database, tmp_path: Path, fault: str
) -> None:
    make, sentence = FAULTS[fault]
    done = shailoo(make(database.url), "db", "upgrade", data_dir=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert sentence in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


async def test_permission_denied_is_one_sentence(locked_database: str, tmp_path: Path) -> None:
    done = shailoo(locked_database, "token", "list", data_dir=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "permission denied" in done.stderr
    assert "GRANT" in done.stderr


async def test_a_schema_behind_is_one_sentence(database: Database, tmp_path: Path) -> None:
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE alembic_version")
    done = shailoo(database.url, "forms", "load", str(DEMO_FORMS), data_dir=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "run 'shailoo db upgrade' first" in done.stderr


COMMANDS = [
    ["db", "upgrade"],
    ["run", "--no-api"],
    ["api", "--api-port", "0"],
    ["api", "--api-port", "0", "--workers", "2"],
    ["forms", "load", str(DEMO_FORMS)],
    ["roster", "import", str(EXAMPLES / "roster" / "stations.csv")],
    ["token", "list"],
    ["db", "backup", "x.dump"],
    ["status"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_database_command_says_the_database_is_unreachable_without_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    command = [str(free_port()) if part == "0" else part for part in command]
    done = shailoo(NOTHING_THERE, *command, data_dir=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "nothing answers at 127.0.0.1:1/postgres (connection refused)" in done.stderr


async def test_restore_refuses_while_a_gateway_runs_and_names_it(
    database: Database, tmp_path: Path
) -> None:
    gateway = GatewayProcess(database.url, "/dev/null", tmp_path)
    await gateway.start()
    try:

        async def connected() -> bool:
            async with database.session() as session:
                return bool(await repository.running_gateways(session))

        await eventually(connected, 30, interval_s=0.2)
        backup = tmp_path / "some.dump"
        backup.write_bytes(b"")
        done = await asyncio.to_thread(
            shailoo, database.url, "db", "restore", str(backup), "--yes", data_dir=tmp_path
        )
        assert done.returncode == 2
        assert "a gateway is running on this database: shailoo run (pid" in done.stderr
        assert "add --force" in done.stderr
    finally:
        await gateway.stop()


def test_backup_creates_the_folder_it_writes_to(database: Database, tmp_path: Path) -> None:
    target = tmp_path / "backups" / "hourly" / "03.dump"
    done = shailoo(database.url, "db", "backup", str(target), data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert target.stat().st_size > 0
