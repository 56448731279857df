"""The emulator answers the 27.005/27.007 subset as real sticks do; and real modems' transcripts
(gammu's test dumps, tests/data/gammu_at_dumps_parse_only.tsv) go through our framing and
listing parser without a crash."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from modem.at import ATChannel, Completed
from modem.driver import ATDriver
from modem.emulator import SIM_WRITE_FACTOR, Faults, ModemEmulator
from modem.errors import ATCommandError, CMSError
from modem.sms import _listing, to_part

DATA = Path(__file__).parent / "data"


@pytest.fixture
async def at(emulator: ModemEmulator) -> AsyncIterator[ATDriver]:
    driver = ATDriver(emulator.device)
    await driver.open()
    await driver.command("AT+CMEE=1")
    yield driver
    await driver.close()


async def lines(driver: ATDriver, command: str) -> tuple[str, ...]:
    return (await driver.command(command)).lines


async def test_unknown_commands_answer_error_never_ok(at: ATDriver) -> None:
    # gammu takes an OK to AT+MODE=2 for a Motorola phone and changes its behaviour.
    for command in ("AT+MODE=2", "AT+FOO", "AT$TSSPCSW=?"):
        with pytest.raises(ATCommandError):
            await at.command(command)


async def test_identity_and_network_answers(at: ATDriver) -> None:
    assert await lines(at, "AT+CGSN") == ("356938035643809",)
    assert await lines(at, "AT+CIMI") == ("437051234567890",)
    assert await lines(at, "AT+CPIN?") == ("+CPIN: READY",)
    assert await lines(at, "AT+CSCS=?") == ('+CSCS: ("IRA","GSM","UCS2")',)
    assert await lines(at, "AT+COPS?") == ('+COPS: 0,0,"Beeline KG",2',)
    await at.command("AT+COPS=3,2")
    assert await lines(at, "AT+COPS?") == ('+COPS: 0,2,"43705",2',)
    assert await lines(at, "AT+CREG?") == ("+CREG: 0,1",)


async def test_storages_report_use_and_capacity(at: ATDriver, emulator: ModemEmulator) -> None:
    emulator.deliver("+996555123456", "hi")
    assert await lines(at, "AT+CPMS=?") == ('+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")',)
    assert await lines(at, "AT+CPMS?") == ('+CPMS: "SM",1,30,"SM",1,30,"SM",1,30',)
    assert await lines(at, 'AT+CPMS="ME","ME","ME"') == ("+CPMS: 0,100,0,100,0,100",)
    with pytest.raises(CMSError):
        await at.command('AT+CPMS="XX"')


async def test_text_mode_lists_sender_and_text(at: ATDriver, emulator: ModemEmulator) -> None:
    emulator.deliver("+996555123456", "OP 1234 A1")
    await at.command("AT+CMGF=1")
    assert await lines(at, 'AT+CMGL="ALL"') == (
        '+CMGL: 1,"REC UNREAD","+996555123456",,',
        "OP 1234 A1",
    )


async def test_reading_marks_read_and_an_empty_slot_is_cms_321(
    at: ATDriver, emulator: ModemEmulator
) -> None:
    emulator.deliver("+996555123456", "OP 1234 A1")
    [header, _] = await lines(at, "AT+CMGR=1")
    assert header.startswith("+CMGR: 0,,")
    [header, _] = await lines(at, "AT+CMGR=1")
    assert header.startswith("+CMGR: 1,,")
    with pytest.raises(CMSError) as caught:
        await at.command("AT+CMGR=9")
    assert caught.value.code == 321


async def test_delete_flags_follow_27005(at: ATDriver, emulator: ModemEmulator) -> None:
    for number in range(3):
        emulator.deliver("+996555123456", f"OP {100 + number} A1")
    await at.command("AT+CMGR=1")  # read: only this one is REC READ
    await at.command("AT+CMGD=0,1")  # flag 1: delete every read message
    assert sorted(emulator.stored("SM")) == [2, 3]
    await at.command("AT+CMGD=0,4")  # flag 4: everything
    assert emulator.stored("SM") == {}


async def test_escape_aborts_a_pdu_prompt_without_sending(
    at: ATDriver, emulator: ModemEmulator
) -> None:
    completed = await at.command_with_data("AT+CMGS=10", "0011\x1b")
    assert completed.ok
    assert emulator.sent == []


PDU_DUMPS = []
with (DATA / "gammu_at_dumps_parse_only.tsv").open(encoding="utf-8") as _file:
    for _row in csv.DictReader(_file, delimiter="\t"):
        if _row["sms_mode"] == "PDU":
            PDU_DUMPS.append(_row)


@pytest.mark.parametrize("row", PDU_DUMPS, ids=lambda row: row["source"].rsplit("/", 1)[-1])
def test_real_modem_transcripts_frame_and_list_without_a_crash(row: dict[str, str]) -> None:
    transcript = row["modem_transcript_escaped"].strip('"').replace('""', '"')
    transcript = transcript.replace("\\r", "").replace("\\n", "\r\n")
    command = transcript.split("\r\n", 1)[0]
    channel = ATChannel()
    channel.start(command)
    events = channel.feed(transcript.encode("latin-1", errors="replace") + b"\r\n")
    completed = [event for event in events if isinstance(event, Completed)]
    assert len(completed) == 1
    for stored in _listing("SM", completed[0].lines, 1):
        part = to_part(stored)  # decoded, or kept with its error: never an exception
        assert part.error is None or part.pdu_hex == stored.pdu_hex


@contextlib.asynccontextmanager
async def emulated(tmp_path: Path, **options: Any) -> AsyncIterator[tuple[ModemEmulator, ATDriver]]:
    emulator = ModemEmulator(link=str(tmp_path / "faulty"), **options)
    await emulator.start()
    driver = ATDriver(emulator.device)
    await driver.open()
    try:
        yield emulator, driver
    finally:
        await driver.close()
        await emulator.stop()


async def timed(driver: ATDriver, command: str) -> float:
    started = time.monotonic()
    await driver.command(command)
    return time.monotonic() - started


async def test_no_concat_refuses_a_concatenated_line_and_runs_none_of_it(tmp_path: Path) -> None:
    async with emulated(tmp_path, no_concat=True) as (emulator, driver):
        emulator.deliver("+996555123456", "OP 1 A1")
        emulator.deliver("+996555123456", "OP 2 A1")
        with pytest.raises(ATCommandError) as refused:
            await driver.command("AT+CMGD=1;+CMGD=2")
        assert refused.value.final == "ERROR"
        assert sorted(emulator.stored("SM")) == [1, 2]
        await driver.command("AT+CMGD=1")  # one command per line still works
        assert sorted(emulator.stored("SM")) == [2]


async def test_latency_delays_each_answer_and_sim_writes_take_longer(tmp_path: Path) -> None:
    async with emulated(tmp_path, latency_ms=50) as (emulator, driver):
        for number in range(3):
            emulator.deliver("+996555123456", f"OP {number} A1")
        read_s = await timed(driver, "AT+CMGR=1")
        write_s = await timed(driver, "AT+CMGD=1")
        assert read_s >= 0.05
        assert write_s >= 0.05 * SIM_WRITE_FACTOR > read_s - 0.02
        # Each command of a concatenated line takes its own time, and takes effect when run.
        deleting = asyncio.create_task(timed(driver, "AT+CMGD=2;+CMGD=3"))
        await asyncio.sleep(0.05)
        assert sorted(emulator.stored("SM")) == [2, 3]
        assert await deleting >= 2 * 0.05 * SIM_WRITE_FACTOR
        assert emulator.stored("SM") == {}


async def test_faults_set_as_fields_work_as_the_constructor_options_do(tmp_path: Path) -> None:
    async with emulated(tmp_path, faults=Faults(no_concat=True, latency_ms=30)) as (_, driver):
        with pytest.raises(ATCommandError):
            await driver.command("AT+CGMI;+CGMM")
        assert await timed(driver, "AT+CGMI") >= 0.03
