"""Shared fixtures: the example forms, and a guard that no test leaves asyncio work behind."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from hypothesis import settings
from sqlalchemy.engine import make_url

from modem.emulator import ModemEmulator
from parser import Deployment, load_forms
from store.db import Database, embedded_server_url
from store.migrate import upgrade

# No per-example deadline: CI machines are shared and timing is bench/'s job, not the tests'.
settings.register_profile("shailoo", deadline=None, print_blob=True)
settings.load_profile("shailoo")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DEMO_FORMS = EXAMPLES / "forms" / "demo-election.yaml"
PRESIDENTIAL_FORMS = EXAMPLES / "forms" / "presidential.yaml"


@pytest.fixture(scope="session")
def demo() -> Deployment:
    """The forms file quoted in the parser issue: OP (A choice, B int, C multi, D int), IN."""
    return load_forms(DEMO_FORMS.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def presidential() -> Deployment:
    """The full example deployment shipped in examples/forms/."""
    return load_forms(PRESIDENTIAL_FORMS.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server's admin URL: SHAILOO_TEST_DATABASE_URL, or an embedded one."""
    url = os.environ.get("SHAILOO_TEST_DATABASE_URL")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="shailoo-test-pg-"))
    try:
        embedded, server = embedded_server_url(folder / "data")
        yield embedded
        server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def template_database(postgres_server: str) -> Iterator[str]:
    """A database migrated to head once per run; each test gets a copy."""
    name = f"shailoo_template_{os.getpid()}"

    async def create() -> None:
        await _admin(
            postgres_server, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'
        )
        database = Database(_with_database(postgres_server, name))
        try:
            await upgrade(database)
        finally:
            await database.close()

    asyncio.run(create())
    yield name
    asyncio.run(_admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_DATABASE_NUMBERS = itertools.count()


@pytest.fixture
async def database(postgres_server: str, template_database: str) -> AsyncIterator[Database]:
    """A fresh, migrated database of its own for one test (a copy of the template)."""
    name = f"shailoo_test_{os.getpid()}_{next(_DATABASE_NUMBERS)}"
    await _admin(postgres_server, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    db = Database(_with_database(postgres_server, name))
    try:
        yield db
    finally:
        await db.close()
        await _admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[ModemEmulator]:
    """A virtual modem on a real pty, reachable through a symlink in the test's folder."""
    modem = ModemEmulator(link=str(tmp_path / "modem0"))
    await modem.start()
    yield modem
    await modem.stop()


@pytest.fixture
async def no_lingering_tasks() -> AsyncIterator[None]:
    """Fail an async test that leaves a task running when it and its fixtures are done."""
    yield
    current = asyncio.current_task()
    leftover = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    for task in leftover:
        task.cancel()
    assert not leftover, f"test left tasks behind: {leftover}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every async test the lingering-task guard, set up first so it is torn down last."""
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.fixturenames.insert(0, "no_lingering_tasks")
