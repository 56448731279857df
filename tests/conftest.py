"""Shared fixtures: the example forms, and a guard that no test leaves asyncio work behind."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from modem.emulator import ModemEmulator
from parser import Deployment, load_forms

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
