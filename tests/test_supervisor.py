"""The supervisor: every delivered message is handed up at least once, and nothing is deleted
from the SIM before its hand-up returned, through hangs, unplugs, full storage and errors."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from modem.backend import ModemState
from modem.driver import Timeouts
from modem.emulator import Faults, ModemEmulator
from modem.supervision import Supervised
from modem.supervisor import ModemSupervisor, SupervisorSettings
from tests.helpers import Collector, all_stored, eventually, on_the_modem

FAST = SupervisorSettings(
    sweep_interval_s=0.3, watchdog_idle_s=0.2, watchdog_failures=2, status_interval_s=1.0,
    backoff_first_s=0.05, backoff_max_s=0.2,
    timeouts=Timeouts(command_s=0.3, list_s=2.0, prompt_s=0.5, send_s=2.0, close_s=1.0),
)  # fmt: skip


@pytest.fixture
async def running(emulator: ModemEmulator) -> AsyncIterator[tuple[ModemSupervisor, Collector]]:
    collector = Collector(on_the_modem(emulator))
    supervisor = ModemSupervisor(emulator.device, collector, FAST)
    task = asyncio.create_task(supervisor.run())
    await supervisor.wait_ready(5.0)
    yield supervisor, collector
    await supervisor.stop(task)


async def test_messages_waiting_on_the_sim_at_start_are_handed_up_then_deleted(
    emulator: ModemEmulator,
) -> None:
    emulator.deliver("+996555123456", "OP 1234 A1")
    emulator.deliver("+996555123457", "Ж" * 100)
    collector = Collector(on_the_modem(emulator))
    supervisor = ModemSupervisor(emulator.device, collector, FAST)
    task = asyncio.create_task(supervisor.run())
    try:
        await eventually(lambda: len(collector.parts) == 3 and all_stored(emulator) == 0)
        assert supervisor.state is ModemState.READY
    finally:
        await supervisor.stop(task)


async def test_a_new_message_is_handed_up_on_cmti_without_waiting_for_the_sweep(
    emulator: ModemEmulator,
) -> None:
    collector = Collector(on_the_modem(emulator))
    settings = dataclasses.replace(FAST, sweep_interval_s=60.0)
    supervisor = ModemSupervisor(emulator.device, collector, settings)
    task = asyncio.create_task(supervisor.run())
    try:
        await supervisor.wait_ready(5.0)
        emulator.deliver("+996555123456", "OP 1234 A1 B250")
        await eventually(lambda: collector.texts() == Counter({"OP 1234 A1 B250": 1}), 2.0)
        await eventually(lambda: all_stored(emulator) == 0, 2.0)
    finally:
        await supervisor.stop(task)


async def test_a_failed_hand_up_keeps_the_message_until_a_later_one_succeeds(
    running: tuple[ModemSupervisor, Collector], emulator: ModemEmulator
) -> None:
    _, collector = running
    collector.fail = True
    emulator.deliver("+996555123456", "OP 1234 A1")
    await asyncio.sleep(0.8)  # a CMTI and a couple of sweeps, all refused
    assert all_stored(emulator) == 1
    collector.fail = False
    await eventually(lambda: all_stored(emulator) == 0)
    assert collector.texts() == Counter({"OP 1234 A1": 1})


async def test_a_cms_error_on_delete_means_handed_up_again_never_lost(
    running: tuple[ModemSupervisor, Collector], emulator: ModemEmulator
) -> None:
    _, collector = running
    emulator.faults.cms_errors["AT+CMGD"] = 321
    emulator.deliver("+996555123456", "OP 1234 A1")
    await eventually(lambda: collector.texts()["OP 1234 A1"] >= 2)
    assert all_stored(emulator) == 1
    del emulator.faults.cms_errors["AT+CMGD"]
    await eventually(lambda: all_stored(emulator) == 0)


async def test_an_unplugged_modem_is_reopened_and_nothing_is_lost(
    running: tuple[ModemSupervisor, Collector], emulator: ModemEmulator
) -> None:
    supervisor, collector = running
    sessions = supervisor.sessions
    emulator.unplug()
    for number in range(5):  # arrive while unplugged: on the SIM, found at the next session
        emulator.deliver("+996555123456", f"OP 10{number} A1")
    await asyncio.sleep(0.2)
    emulator.replug()
    await eventually(lambda: supervisor.sessions > sessions and all_stored(emulator) == 0)
    assert set(collector.texts()) == {f"OP 10{number} A1" for number in range(5)}


async def test_a_hung_modem_is_detected_by_the_watchdog_and_reconnected(
    running: tuple[ModemSupervisor, Collector], emulator: ModemEmulator
) -> None:
    supervisor, collector = running
    sessions = supervisor.sessions
    emulator.faults.hang = True
    await eventually(lambda: supervisor.state is ModemState.BACKING_OFF)
    emulator.faults.hang = False
    emulator.deliver("+996555123456", "OP 1234 A1")
    await eventually(lambda: supervisor.sessions > sessions and all_stored(emulator) == 0)
    assert collector.texts() == Counter({"OP 1234 A1": 1})


async def test_arrivals_wait_at_the_network_while_storage_is_full(
    emulator: ModemEmulator,
) -> None:
    small = ModemEmulator(link=emulator.device + "-small", capacities={"SM": 3})
    await small.start()
    collector = Collector(on_the_modem(small))
    supervisor = ModemSupervisor(small.device, collector, FAST)
    try:
        for number in range(8):
            small.deliver("+996555123456", f"OP {100 + number} A1")
        assert small.waiting_at_network == 5
        task = asyncio.create_task(supervisor.run())
        try:
            await eventually(lambda: len(collector.parts) == 8 and small.waiting_at_network == 0)
            assert set(collector.texts()) == {f"OP {100 + n} A1" for n in range(8)}
        finally:
            await supervisor.stop(task)
    finally:
        await small.stop()


async def test_a_routed_cmt_is_handed_up_at_once(
    running: tuple[ModemSupervisor, Collector], emulator: ModemEmulator
) -> None:
    _, collector = running
    pdu = emulator.deliver("+996555123456", "routed")[0]
    emulator.commands.storages["ME"].messages.clear()
    emulator.commands.storages["SM"].messages.clear()
    emulator.inject(f'\r\n+CMT: "",{len(pdu) // 2 - 8}\r\n{pdu}\r\n'.encode())
    await eventually(lambda: "routed" in collector.texts())
    assert "AT+CNMA" in emulator.received_commands


async def test_a_sim_that_needs_its_puk_stops_the_supervisor_for_good(tmp_path: Path) -> None:
    emulator = ModemEmulator(link=str(tmp_path / "puk"), puk_required=True)
    await emulator.start()
    supervisor = ModemSupervisor(emulator.device, Collector(on_the_modem(emulator)), FAST)
    try:
        with pytest.raises(Exception, match="PUK"):
            await asyncio.wait_for(supervisor.run(), timeout=5.0)
        assert supervisor.state is ModemState.FAILED
    finally:
        await emulator.stop()


async def test_unplugging_in_the_middle_of_a_listing_loses_nothing(tmp_path: Path) -> None:
    # Paced at 115200 baud, listing 40 messages takes about a quarter of a second.
    emulator = ModemEmulator(
        link=str(tmp_path / "paced"), capacities={"SM": 100}, faults=Faults(baud=115_200)
    )
    await emulator.start()
    texts = {f"OP {1000 + number} A1 " + "x" * 120 for number in range(40)}
    for text in sorted(texts):
        emulator.deliver("+996555123456", text)
    collector = Collector(on_the_modem(emulator))
    supervisor = ModemSupervisor(emulator.device, collector, FAST)
    task = asyncio.create_task(supervisor.run())
    try:
        await eventually(lambda: "AT+CMGL=4" in emulator.received_commands)
        await asyncio.sleep(0.1)  # part of the listing is on the wire
        emulator.unplug()
        assert all_stored(emulator) > 0
        await asyncio.sleep(0.3)
        emulator.replug()
        await eventually(lambda: all_stored(emulator) == 0, 10.0)
        assert set(collector.texts()) == texts  # each at least once, none deleted un-acked
    finally:
        await supervisor.stop(task)
        await emulator.stop()


class FlakySession(Supervised):
    """A backend whose first session hits a bug (not a ``ModemError``), the next one works."""

    def __init__(self) -> None:
        super().__init__("bus0:flaky", backoff_first_s=0.01, backoff_max_s=0.05)
        self.opened = 0

    async def _session(self) -> None:
        self.opened += 1
        if self.opened == 1:
            raise KeyError("a bug in the session")
        self.state = ModemState.READY
        self._ready.set()
        await asyncio.Event().wait()


async def test_a_bug_in_a_session_is_logged_with_its_traceback_and_the_modem_reconnects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = FlakySession()
    task = asyncio.create_task(flaky.run())
    try:
        await flaky.wait_ready(5.0)
    finally:
        await flaky.stop(task)
    assert flaky.opened == 2
    assert flaky.last_error == "KeyError: 'a bug in the session'"
    [logged] = [r for r in caplog.records if r.exc_info and r.name == "modem.supervision"]
    assert "unexpected error" in logged.getMessage()


async def test_a_replugged_modem_is_read_again_at_once_whatever_the_backoff(
    emulator: ModemEmulator,
) -> None:
    # The backoff has grown to a minute (a long unplug); the device is looked for meanwhile.
    patient = dataclasses.replace(
        FAST, backoff_first_s=60.0, backoff_max_s=60.0, device_poll_s=0.05
    )
    collector = Collector(on_the_modem(emulator))
    supervisor = ModemSupervisor(emulator.device, collector, patient)
    task = asyncio.create_task(supervisor.run())
    try:
        await supervisor.wait_ready(5.0)
        emulator.unplug()
        await eventually(lambda: supervisor.state is ModemState.BACKING_OFF)
        emulator.deliver("+996555123456", "OP 1234 A1")
        emulator.replug()
        await eventually(lambda: all_stored(emulator) == 0, timeout_s=10.0)
        assert collector.texts() == Counter({"OP 1234 A1": 1})
    finally:
        await supervisor.stop(task)
