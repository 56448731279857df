"""The python-gammu backend: every stored message is handed up, and deleted only after its
hand-up returned, through gammu's AT driver (the emulator on a pty) and its dummy driver (a
directory of SMS backup files); SIM problems stop it for good, hangs and unplugs do not."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

try:
    import gammu
except ImportError:  # every test here needs it; the suite says so instead of failing
    pytest.skip("python-gammu is not installed", allow_module_level=True)

from sqlalchemy import func, select

from gateway.ingest import Ingest
from gateway.spool import Spool
from modem.backend import ModemState
from modem.emulator import ModemEmulator
from modem.errors import (
    ATTimeout,
    CMEError,
    ModemConnectionError,
    ModemError,
    PDUError,
    SIMError,
)
from modem.gammu_backend import (
    GammuBackend,
    GammuSettings,
    GammuTimeouts,
    modem_error,
    part_from_gammu,
    rebuilt_pdu,
    reply_messages,
)
from modem.network import deliver_pdus
from modem.pdu import decode_pdu
from modem.records import InboundPart, StoredPDU
from modem.sms import to_part
from store.db import Database
from store.models import InboundPartRow
from tests.helpers import Collector, all_stored, eventually, on_the_modem

FAST = GammuSettings(
    poll_interval_s=0.1, status_interval_s=1.0, backoff_first_s=0.05, backoff_max_s=0.2,
    timeouts=GammuTimeouts(init_s=20.0, command_s=3.0, list_s=10.0, send_s=10.0, abort_s=3.0),
)  # fmt: skip
# gammu itself would wait up to 600 s for GetSMSStatus on a hung modem; these wait 1 s.
QUICK = dataclasses.replace(FAST, timeouts=dataclasses.replace(FAST.timeouts, command_s=1.0))
BISHKEK = timezone(timedelta(hours=6))
MOMENT = datetime(2027, 4, 2, 8, 0, 5, tzinfo=BISHKEK)
LONG_CYRILLIC = "ВП 5678 А2 Д1 @ очередь 40 человек, всё спокойно " * 3  # three UCS-2 parts


def gammu_read(pdu_hex: str, location: int = 1) -> dict[str, Any]:
    """The message as ``GetNextSMS`` returns it (the same decoder, plus where it is)."""
    return {**gammu.DecodePDU(bytes.fromhex(pdu_hex)), "Memory": "SM", "Location": location,
            "State": "UnRead"}  # fmt: skip


class DummyPhone:
    """gammu's dummy driver: a directory, each stored SMS a backup file in sms/<folder>/<n>."""

    SIM_INBOX, PHONE_INBOX = 1, 3

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, Path] = {}  # by PDU
        self._numbers = iter(range(1, 10_000))

    def store(self, sender: str, text: str, folder: int = SIM_INBOX) -> list[str]:
        """Store an SMS as the network delivered it; its PDUs. Backup files keep no time zone,
        so the timestamp is in UTC, as the dummy driver reads it back."""
        pdus = deliver_pdus(sender, text, timestamp=MOMENT.astimezone(UTC), reference=7)
        (self.root / "sms" / str(folder)).mkdir(parents=True, exist_ok=True)
        for pdu in pdus:
            path = self.root / "sms" / str(folder) / str(next(self._numbers))
            gammu.SaveSMSBackup(str(path), [gammu.DecodePDU(bytes.fromhex(pdu))])
            self.files[pdu] = path
        return pdus

    def holds(self, part: InboundPart) -> bool:
        return self.files[part.pdu_hex].exists()

    def stored(self) -> int:
        return sum(path.exists() for path in self.files.values())


@pytest.fixture
def dummy(tmp_path: Path) -> DummyPhone:
    root = tmp_path / "phone"
    root.mkdir()
    return DummyPhone(root)


@pytest.fixture
async def backends() -> AsyncIterator[Callable[..., GammuBackend]]:
    """Start backends (``start(device, hand_up, settings)``); each is stopped at the end."""
    running: list[tuple[GammuBackend, asyncio.Task[None]]] = []

    def start(device: str, hand_up: Collector, settings: GammuSettings = FAST) -> GammuBackend:
        backend = GammuBackend(device, hand_up, settings)
        running.append((backend, asyncio.create_task(backend.run())))
        return backend

    yield start
    for backend, task in running:
        await backend.stop(task)


def dummy_settings() -> GammuSettings:
    return dataclasses.replace(FAST, connection="none")


# -- PDUs rebuilt from what gammu decoded ----------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "text", "moment"),
    [
        ("+996555123456", "OP 1234 A1 B250 C13", MOMENT),
        ("+996700111222", "escapes {x} [y] ~ € \\ ^ | end", MOMENT),
        ("+996555123457", LONG_CYRILLIC, MOMENT),
        ("+996555123458", "OP 1234 A1 " + "B250 " * 60, MOMENT),  # two GSM-7 parts
        ("0555", "short code, no plus", MOMENT.astimezone(timezone(timedelta(hours=-3)))),
    ],
)
def test_a_rebuilt_pdu_is_byte_for_byte_what_the_network_delivered(
    sender: str, text: str, moment: datetime
) -> None:
    for pdu in deliver_pdus(sender, text, timestamp=moment, reference=9):
        assert rebuilt_pdu(gammu_read(pdu)) == pdu


@pytest.mark.parametrize(
    "pdu",
    [
        "0791538375000075061805810531F1019082416500400190824165004000",
        "00060505810531F1010150610000400101506100004000",
        "0006D60B911326880736F4111011719551401110117195714000",
    ],
)
def test_status_reports_which_gammu_cannot_encode_are_rebuilt_as_the_smsc_sent_them(
    pdu: str,
) -> None:
    part = part_from_gammu(gammu_read(pdu))
    assert (part.pdu_hex, part.kind, part.error) == (pdu, "status-report", None)


@pytest.mark.parametrize(
    ("sender", "text"), [("+996555123457", LONG_CYRILLIC), ("Beeline", "alphanumeric sender")]
)
def test_a_part_is_decoded_as_the_at_backend_decodes_it(sender: str, text: str) -> None:
    # gammu counts an alphanumeric sender's length in useful semi-octets (13 for 7 letters),
    # some SMSCs in whole octets (14): the bytes may differ there, never what they say.
    for location, pdu in enumerate(deliver_pdus(sender, text, timestamp=MOMENT, reference=3), 1):
        by_gammu = part_from_gammu(gammu_read(pdu, location))
        by_at = to_part(StoredPDU("SM", location, 0, pdu))
        assert dataclasses.replace(by_gammu, pdu_hex="") == dataclasses.replace(by_at, pdu_hex="")


def test_a_message_gammu_cannot_encode_is_kept_as_undecodable_the_same_way_each_read() -> None:
    broken = {"Type": "Deliver", "Number": "+996555123456", "Text": "OP 1", "Location": 4}
    first, again = part_from_gammu(broken), part_from_gammu({**broken, "State": "Read"})
    assert first.pdu_hex == again.pdu_hex
    assert first.error is not None
    assert "OP 1" in bytes.fromhex(first.pdu_hex).decode()  # kept for audit


async def test_the_same_sms_read_by_either_backend_is_stored_once(
    database: Database, tmp_path: Path
) -> None:
    ingest = Ingest(database, Spool(tmp_path / "spool.jsonl"))
    pdus = deliver_pdus("+996555123457", LONG_CYRILLIC, timestamp=MOMENT, reference=5)
    for index, pdu in enumerate(pdus, 1):
        await ingest.store("437051234567890", [to_part(StoredPDU("SM", index, 0, pdu))])
        await ingest.store("437051234567890", [part_from_gammu(gammu_read(pdu, index))])
    async with database.session() as session:
        stored = await session.scalar(select(func.count()).select_from(InboundPartRow))
    assert stored == len(pdus)


def gsm_error(kind: type[Exception], code: int = 1) -> Exception:
    return kind({"Text": "what gammu says", "Where": "GetSMSStatus", "Code": code})


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (gammu.ERR_TIMEOUT, ATTimeout),
        (gammu.ERR_DEVICEOPENERROR, ModemConnectionError),
        (gammu.ERR_DEVICENOTEXIST, ModemConnectionError),
        (gammu.ERR_DEVICEWRITEERROR, ModemConnectionError),
        (gammu.ERR_ABORTED, ModemConnectionError),
        (gammu.ERR_NOSIM, CMEError),
        (gammu.ERR_SECURITYERROR, CMEError),
        (gammu.ERR_UNKNOWN, ModemError),
    ],
)
def test_gammu_errors_become_the_modem_error_types(raised: type[Exception], expected: type) -> None:
    error = modem_error(gsm_error(raised), "GetSMSStatus", 3.0)
    assert type(error) is expected
    assert "GetSMSStatus" in str(error)
    assert not isinstance(error, SIMError)  # only the PIN step decides that the SIM is stuck


def test_replies_are_split_as_the_at_backend_splits_them() -> None:
    [plain] = reply_messages("+996555123456", "OK: OP 1234 received")
    cyrillic = reply_messages("+996555123456", "Ж" * 100)
    assert (plain["Number"], plain["Coding"], plain["SMSC"]) == (
        "+996555123456", "Default_No_Compression", {"Location": 1},
    )  # fmt: skip
    assert [message["Coding"] for message in cyrillic] == ["Unicode_No_Compression"] * 2
    with pytest.raises(PDUError):
        reply_messages("+996555123456", 12)  # type: ignore[arg-type]


# -- gammu's dummy driver --------------------------------------------------------------------------


async def test_messages_in_a_dummy_phone_are_handed_up_then_deleted(
    dummy: DummyPhone, backends: Callable[..., GammuBackend]
) -> None:
    pdus = dummy.store("+996555123456", "OP 1234 A1 B250")
    pdus += dummy.store("+996555123457", LONG_CYRILLIC, folder=DummyPhone.PHONE_INBOX)
    collector = Collector(dummy.holds)
    backend = backends(str(dummy.root), collector, dummy_settings())
    await eventually(lambda: len(collector.parts) == 4 and dummy.stored() == 0)
    assert sorted(part.pdu_hex for part in collector.parts) == sorted(pdus)
    assert {part.storage for part in collector.parts} == {"SM", "ME"}
    assert backend.state is ModemState.READY
    assert backend.identity is not None
    assert backend.identity.imsi == "994299429942994"


async def test_a_failed_hand_up_keeps_the_message_and_the_retry_hands_up_the_same_pdu(
    dummy: DummyPhone, backends: Callable[..., GammuBackend]
) -> None:
    dummy.store("+996555123456", "OP 1234 A1")
    attempts: list[str] = []

    def holds_and_counts(part: InboundPart) -> bool:
        attempts.append(part.pdu_hex)
        return dummy.holds(part)

    collector = Collector(holds_and_counts)
    collector.fail = True
    backends(str(dummy.root), collector, dummy_settings())
    await eventually(lambda: len(attempts) >= 3)  # a few polls, all refused
    assert dummy.stored() == 1
    collector.fail = False
    await eventually(lambda: dummy.stored() == 0)
    assert collector.texts() == Counter({"OP 1234 A1": 1})
    assert len(set(attempts)) == 1  # the same PDU each read: the database absorbs replays


async def test_a_message_stored_later_is_found_by_the_next_poll(
    dummy: DummyPhone, backends: Callable[..., GammuBackend]
) -> None:
    collector = Collector(dummy.holds)
    backend = backends(str(dummy.root), collector, dummy_settings())
    await backend.wait_ready(5.0)
    await asyncio.sleep(0.3)  # polls that find nothing
    dummy.store("+996555123456", "OP 1234 A2")
    await eventually(lambda: collector.texts() == Counter({"OP 1234 A2": 1}))
    await eventually(lambda: dummy.stored() == 0)


async def test_status_tells_signal_operator_and_storage_use(
    dummy: DummyPhone, backends: Callable[..., GammuBackend]
) -> None:
    backend = backends(str(dummy.root), Collector(dummy.holds), dummy_settings())
    await backend.wait_ready(5.0)
    assert backend.status is not None
    assert backend.status.registration == "home"
    assert backend.status.operator == "GammuT3l"  # the dummy driver's network
    assert backend.status.signal_dbm == 42
    assert [storage.name for storage in backend.status.storages] == ["SM", "ME"]
    assert not backend.receiving


async def test_a_phone_that_is_not_there_yet_is_looked_for_until_it_is(
    tmp_path: Path, backends: Callable[..., GammuBackend]
) -> None:
    root = tmp_path / "later"
    backend = backends(str(root), Collector(lambda part: True), dummy_settings())
    await eventually(lambda: backend.sessions >= 1 and backend.last_error is not None)
    assert backend.state is ModemState.BACKING_OFF  # looking for the device every second
    assert "GSM" not in (backend.last_error or "")  # a sentence, not a gammu exception dump
    root.mkdir()
    await backend.wait_ready(5.0)


# -- gammu's AT driver, on the emulator ------------------------------------------------------------


async def test_messages_on_a_modem_are_read_through_gammu_handed_up_then_deleted(
    emulator: ModemEmulator, backends: Callable[..., GammuBackend]
) -> None:
    pdus = emulator.deliver("+996555123456", "OP 1234 A1 B250 C13")
    pdus += emulator.deliver("+996700111222", "escapes {x} [y] ~ € \\ ^ | end")
    emulator.commands.memories[2] = "ME"  # the rest arrive in the phone's memory
    pdus += emulator.deliver("+996555123457", LONG_CYRILLIC)
    collector = Collector(on_the_modem(emulator))
    backend = backends(emulator.device, collector)
    await eventually(lambda: len(collector.parts) == 5 and all_stored(emulator) == 0, 20.0)
    # Byte for byte what the AT backend would store: either may read the same SIM.
    assert sorted(part.pdu_hex for part in collector.parts) == sorted(pdus)
    assert collector.texts()["escapes {x} [y] ~ € \\ ^ | end"] == 1
    assert backend.identity is not None
    assert backend.identity.imsi == "437051234567890"


async def test_replies_go_out_through_the_modem_one_submit_per_part(
    emulator: ModemEmulator, backends: Callable[..., GammuBackend]
) -> None:
    backend = backends(emulator.device, Collector(on_the_modem(emulator)))
    await backend.wait_ready(20.0)
    reply = "Байкоочу 1234: отчет кабыл алынды, рахмат! " * 2  # two UCS-2 parts
    references = await backend.send_sms("+996555123456", reply)
    assert references == [sent.reference for sent in emulator.sent]
    decoded = [decode_pdu(sent.pdu_hex) for sent in emulator.sent]
    assert {(part.type, part.number) for part in decoded} == {("submit", "+996555123456")}
    assert "".join(part.text for part in decoded) == reply


async def test_a_sim_that_wants_its_puk_stops_the_backend_for_good(tmp_path: Path) -> None:
    locked = ModemEmulator(link=str(tmp_path / "locked"), puk_required=True)
    await locked.start()
    try:
        backend = GammuBackend(locked.device, Collector(lambda part: True), FAST)
        with pytest.raises(SIMError, match="PUK"):
            await asyncio.wait_for(backend.run(), 20.0)
        assert backend.state is ModemState.FAILED
        assert backend.sessions == 1
        assert not any(command.startswith("AT+CPIN=") for command in locked.received_commands)
    finally:
        await locked.stop()


async def test_a_refused_pin_is_tried_once_and_stops_the_backend_for_good(tmp_path: Path) -> None:
    locked = ModemEmulator(link=str(tmp_path / "locked"), pin="1234")
    await locked.start()
    try:
        wrong = dataclasses.replace(FAST, pin="9999")
        backend = GammuBackend(locked.device, Collector(lambda part: True), wrong)
        with pytest.raises(SIMError, match="refused the configured PIN"):
            await asyncio.wait_for(backend.run(), 20.0)
        assert backend.state is ModemState.FAILED
        tries = [command for command in locked.received_commands if command.startswith("AT+CPIN=")]
        assert len(tries) == 1
    finally:
        await locked.stop()


async def test_the_configured_pin_unlocks_the_sim(
    tmp_path: Path, backends: Callable[..., GammuBackend]
) -> None:
    locked = ModemEmulator(link=str(tmp_path / "locked"), pin="1234")
    await locked.start()
    try:
        locked.deliver("+996555123456", "OP 1234 A1")
        collector = Collector(on_the_modem(locked))
        backends(locked.device, collector, dataclasses.replace(FAST, pin="1234"))
        await eventually(lambda: collector.texts() == Counter({"OP 1234 A1": 1}), 20.0)
    finally:
        await locked.stop()


async def test_a_hung_modem_is_aborted_reconnected_and_nothing_is_lost(
    emulator: ModemEmulator, backends: Callable[..., GammuBackend]
) -> None:
    collector = Collector(on_the_modem(emulator))
    backend = backends(emulator.device, collector, QUICK)
    await backend.wait_ready(20.0)
    emulator.faults.hang = True
    await eventually(lambda: backend.state is ModemState.BACKING_OFF, 5.0)
    assert "no answer within 1 s" in (backend.last_error or "")
    emulator.faults.hang = False
    emulator.deliver("+996555123456", "OP 1234 A1")
    await eventually(lambda: all_stored(emulator) == 0 and backend.sessions >= 2, 30.0)
    assert collector.texts() == Counter({"OP 1234 A1": 1})


async def test_an_unplugged_modem_is_reopened_and_nothing_is_lost(
    emulator: ModemEmulator, backends: Callable[..., GammuBackend]
) -> None:
    collector = Collector(on_the_modem(emulator))
    backend = backends(emulator.device, collector, QUICK)  # an unplug may cut an answer short
    await backend.wait_ready(20.0)
    emulator.unplug()
    for number in range(3):  # arrive while unplugged: stored, found by the next session
        emulator.deliver("+996555123456", f"OP 10{number} A1")
    await eventually(lambda: backend.state is ModemState.BACKING_OFF)
    emulator.replug()
    await eventually(lambda: all_stored(emulator) == 0, 30.0)
    assert set(collector.texts()) == {f"OP 10{number} A1" for number in range(3)}
    assert backend.sessions >= 2
