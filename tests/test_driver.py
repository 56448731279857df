"""The AT driver and the SMS command API, over a real pty with the emulator on the other end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from modem.at import Unsolicited
from modem.driver import ATDriver, Timeouts
from modem.emulator import ModemEmulator
from modem.errors import ATCommandError, ATTimeout, CMSError, ModemConnectionError, SIMError
from modem.pdu import decode_pdu
from modem.sms import ModemSettings, ModemSMS, to_part

FAST = Timeouts(command_s=0.5, list_s=2.0, prompt_s=0.5, send_s=2.0, close_s=1.0)


@contextlib.asynccontextmanager
async def modem_with(
    tmp_path: Path, **options: Any
) -> AsyncIterator[tuple[ModemEmulator, ATDriver]]:
    """An emulator built with ``options`` and a driver opened on it."""
    emulator = ModemEmulator(link=str(tmp_path / "custom"), **options)
    await emulator.start()
    modem = ATDriver(emulator.device, timeouts=FAST)
    await modem.open()
    try:
        yield emulator, modem
    finally:
        await modem.close()
        await emulator.stop()


async def on_sim(driver: ATDriver, emulator: ModemEmulator, count: int) -> ModemSMS:
    """``count`` reports delivered to the SIM, and the modem set up to use it."""
    for number in range(count):
        emulator.deliver("+996555123456", f"OP {100 + number} A1")
    sms = ModemSMS(driver, ModemSettings(storage="SM"))
    await sms.initialize()
    return sms


@pytest.fixture
async def driver(emulator: ModemEmulator) -> AsyncIterator[ATDriver]:
    modem = ATDriver(emulator.device, timeouts=FAST)
    await modem.open()
    yield modem
    await modem.close()


async def test_initialisation_sets_up_pdu_mode_storage_and_new_message_indications(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    sms = ModemSMS(driver)
    identity = await sms.initialize()
    assert (identity.imei, identity.imsi) == ("356938035643809", "437051234567890")
    assert sms.storages == ("SM", "ME")
    handler = emulator.commands
    assert (handler.echo, handler.cmee, handler.cmgf, handler.cnmi) == (False, 1, 0, "2,1,0,2,0")
    assert handler.memories == ["ME", "ME", "ME"]  # the largest storage receives


async def test_initialisation_tolerates_echo_on_or_off(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.commands.echo = False
    quiet = await ModemSMS(driver).initialize()
    emulator.commands.echo = True
    echoing = await ModemSMS(driver).initialize()
    assert quiet == echoing
    assert quiet.imsi == "437051234567890"
    assert emulator.commands.echo is False  # switched off again, whatever it was


async def test_a_configured_storage_is_used_instead_of_the_largest(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    await ModemSMS(driver, ModemSettings(storage="SM")).initialize()
    assert emulator.commands.memories == ["SM", "SM", "SM"]


async def test_listing_hands_back_every_stored_message_decoded(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.deliver("+996555123456", "OP 1234 A1")
    emulator.deliver("+996555123457", "Ж" * 100)  # two UCS-2 parts
    sms = ModemSMS(driver)
    await sms.initialize()
    parts = [to_part(stored) for stored in await sms.list_stored("SM")]
    assert [(part.index, part.sender, part.coding) for part in parts] == [
        (1, "+996555123456", "gsm7"), (2, "+996555123457", "ucs2"), (3, "+996555123457", "ucs2")
    ]  # fmt: skip
    assert parts[0].text == "OP 1234 A1"
    assert parts[1].text + parts[2].text == "Ж" * 100
    assert parts[1].concat is not None
    assert parts[1].concat.total == 2


async def test_a_new_message_is_announced_with_cmti(emulator: ModemEmulator) -> None:
    urcs: list[Unsolicited] = []
    modem = ATDriver(emulator.device, timeouts=FAST, on_urc=urcs.append)
    await modem.open()
    try:
        await ModemSMS(modem).initialize()
        emulator.deliver("+996555123456", "OP 1234 A1")
        for _ in range(100):
            if urcs:
                break
            await asyncio.sleep(0.01)
        assert urcs == [Unsolicited('+CMTI: "ME",1')]
    finally:
        await modem.close()


async def test_sending_splits_long_texts_and_returns_a_reference_per_part(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    sms = ModemSMS(driver)
    await sms.initialize()
    references = await sms.send_sms("+996555123456", "Принято: OP 1234. Спасибо! " * 4)
    assert references == [1, 2]
    texts = [decode_pdu(sent.pdu_hex).text for sent in emulator.sent]
    assert "".join(texts) == "Принято: OP 1234. Спасибо! " * 4


async def test_a_cms_error_becomes_a_typed_exception_that_says_if_retrying_helps(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    sms = ModemSMS(driver)
    await sms.initialize()
    emulator.faults.cms_errors["AT+CMGS"] = 38  # network out of order
    with pytest.raises(CMSError) as caught:
        await sms.send_sms("+996555123456", "hi")
    assert (caught.value.code, caught.value.retryable) == (38, True)
    emulator.faults.cms_errors["AT+CMGS"] = 304  # invalid PDU mode parameter
    with pytest.raises(CMSError) as caught:
        await sms.send_sms("+996555123456", "hi")
    assert caught.value.retryable is False


async def test_a_timeout_leaves_no_waiter_behind_and_the_next_command_works(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.faults.drop_responses = 1
    with pytest.raises(ATTimeout):
        await driver.command("AT+CSQ")
    assert driver._waiter is None
    assert driver._channel.pending is None
    assert (await driver.command("AT+CSQ")).lines == ("+CSQ: 20,99",)


async def test_a_slow_answer_arriving_after_its_timeout_is_not_taken_for_the_next(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.faults.delay_s = 0.7
    with pytest.raises(ATTimeout):
        await driver.command("AT+CGSN")
    emulator.faults.delay_s = 0.0
    await asyncio.sleep(0.4)  # the late IMEI arrives now
    assert (await driver.command("AT+CIMI")).lines == ("437051234567890",)


async def test_a_command_cancelled_from_outside_leaves_no_waiter_behind(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.faults.delay_s = 0.7
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):  # a caller's own timeout, e.g. the outbox's
            await driver.command("AT+CGSN", timeout_s=5.0)
    assert driver._waiter is None
    assert driver._channel.pending is None
    emulator.faults.delay_s = 0.0
    await asyncio.sleep(0.8)  # the late IMEI arrives now
    assert (await driver.command("AT+CIMI")).lines == ("437051234567890",)


async def test_a_send_cancelled_from_outside_leaves_no_waiter_behind(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.faults.delay_s = 0.7  # the network is slow to accept the SMS
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await driver.command_with_data("AT+CMGS=13", "0001000B9196255512436500F10000")
    assert (driver._waiter, driver._prompt, driver._channel.pending) == (None, None, None)
    emulator.faults.delay_s = 0.0
    await asyncio.sleep(0.8)  # the late +CMGS arrives now
    assert (await driver.command("AT+CIMI")).lines == ("437051234567890",)


async def test_garbage_and_noise_do_not_break_framing(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.inject(b"\xff\xfe\x00garbage\r\n^RSSI:12\r\n\r\n^BOOT:1,2\r\nRING\r\n")
    assert (await driver.command("AT+CSQ")).lines == ("+CSQ: 20,99",)


async def test_a_sim_asking_for_its_puk_stops_with_a_clear_error_and_no_retry(
    tmp_path: Path,
) -> None:
    async with modem_with(tmp_path, puk_required=True) as (emulator, modem):
        with pytest.raises(SIMError, match="SIM PUK"):
            await ModemSMS(modem, ModemSettings(pin="1234")).initialize()
        assert not any(c.startswith("AT+CPIN=") for c in emulator.received_commands)


async def test_a_wrong_pin_is_tried_once_and_never_again(tmp_path: Path) -> None:
    async with modem_with(tmp_path, pin="4321") as (emulator, modem):
        with pytest.raises(SIMError, match="refused the configured PIN"):
            await ModemSMS(modem, ModemSettings(pin="1234")).initialize()
        assert [c for c in emulator.received_commands if c.startswith("AT+CPIN=")] == [
            'AT+CPIN="1234"'
        ]
        await ModemSMS(modem, ModemSettings(pin="4321")).initialize()  # the right one works


async def test_status_reports_signal_registration_operator_and_storage(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.deliver("+996555123456", "hi")
    sms = ModemSMS(driver, ModemSettings(storage="SM"))
    await sms.initialize()
    status = await sms.status()
    assert (status.signal_dbm, status.registration, status.operator) == (-73, "home", "Beeline KG")
    assert [(s.name, s.used, s.total) for s in status.storages] == [("SM", 1, 30), ("ME", 0, 100)]


async def test_an_unplugged_port_fails_the_command_in_flight_at_once(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.faults.hang = True
    pending = asyncio.create_task(driver.command("AT+CSQ", timeout_s=5.0))
    await asyncio.sleep(0.05)
    emulator.unplug()
    with pytest.raises(ModemConnectionError):
        await asyncio.wait_for(pending, timeout=3.0)


async def test_opening_a_missing_device_says_what_to_check(tmp_path: Path) -> None:
    modem = ATDriver(str(tmp_path / "nothing"))
    with pytest.raises(ModemConnectionError, match="Is the modem plugged in"):
        await modem.open()


async def test_urcs_and_noise_inside_a_listing_do_not_corrupt_it(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    sms = await on_sim(driver, emulator, 3)
    emulator.faults.urc_inside_responses = True
    parts = [to_part(stored) for stored in await sms.list_stored("SM")]
    assert [part.text for part in parts] == ["OP 100 A1", "OP 101 A1", "OP 102 A1"]


async def test_indexes_numbered_from_zero_are_read_and_deleted_as_listed(tmp_path: Path) -> None:
    async with modem_with(tmp_path, index_base=0) as (emulator, modem):
        emulator.deliver("+996555123456", "OP 100 A1")
        sms = ModemSMS(modem, ModemSettings(storage="SM"))
        await sms.initialize()
        [stored] = await sms.list_stored("SM")
        assert stored.index == 0
        await sms.delete("SM", 0)
        assert emulator.stored("SM") == {}


async def test_a_restart_banner_makes_the_driver_choose_the_storage_again_before_deleting(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    sms = ModemSMS(driver, ModemSettings(storage="SM"))
    await sms.initialize()
    await sms.list_stored("SM")
    emulator.inject(b"\r\nRDY\r\n")  # the modem restarted: its storage choice is unknown now
    await asyncio.sleep(0.05)
    before = len(emulator.received_commands)
    await sms.delete("SM", 1)
    assert emulator.received_commands[before:] == ['AT+CPMS="SM"', "AT+CMGD=1"]
    before = len(emulator.received_commands)
    await sms.delete("SM", 2)
    assert emulator.received_commands[before:] == ["AT+CMGD=2"]


async def test_deleting_many_uses_one_command_line_per_sixteen_indexes(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    sms = await on_sim(driver, emulator, 20)
    listed = await sms.list_stored("SM")
    before = len(emulator.received_commands)
    await sms.delete_many("SM", listed)
    assert emulator.stored("SM") == {}
    lines = emulator.received_commands[before:]
    assert len(lines) == 2
    assert lines[0] == "AT" + ";".join(f"+CMGD={n}" for n in range(1, 17))


async def test_a_failing_delete_line_is_retried_index_by_index(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    sms = await on_sim(driver, emulator, 3)
    listed = await sms.list_stored("SM")
    emulator.faults.cms_errors["AT+CMGD=2"] = 321
    with pytest.raises(ATCommandError, match="2: \\+CMS ERROR: 321"):
        await sms.delete_many("SM", listed)
    assert sorted(emulator.stored("SM")) == [2]


async def test_after_a_failed_delete_line_a_new_message_in_a_freed_slot_is_not_deleted(
    driver: ATDriver, emulator: ModemEmulator
) -> None:
    sms = await on_sim(driver, emulator, 3)
    listed = await sms.list_stored("SM")
    # Slot 1 was freed (a line that failed part-way) and a new message landed in it.
    await driver.command("AT+CMGD=1")
    emulator.deliver("+996555123456", "OP 999 A1 new")
    emulator.faults.cms_errors["AT+CMGD=1;"] = 500  # the whole line fails: index by index now
    await sms.delete_many("SM", listed)
    assert [to_part(s).text for s in await sms.list_stored("SM")] == ["OP 999 A1 new"]
