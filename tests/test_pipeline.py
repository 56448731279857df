"""From a handed-up part to a message, a report, a checklist and a queued reply (real database)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gammu
import pytest
from sqlalchemy import select

from gateway.ingest import Ingest, Replay, part_record
from gateway.pipeline import Pipeline, can_reply_to
from gateway.spool import Spool
from modem.gammu_backend import part_from_gammu
from modem.network import deliver_pdus
from modem.records import InboundPart, StoredPDU
from modem.sms import to_part
from parser import Deployment
from store import repository
from store.db import Database
from store.models import (
    Checklist,
    ChecklistChange,
    InboundPartRow,
    Message,
    OutboxMessage,
    Report,
)
from store.settings import Settings

IMSI = "437051234567890"
PHONE = "+996555123456"
_MOMENTS = itertools.count()
BACKENDS = ["at", "gammu"]  # how the parts were read: listed PDUs, or python-gammu's GetNextSMS


def parts_of(
    text: str, sender: str = PHONE, reference: int = 1, backend: str = "at"
) -> list[InboundPart]:
    moment = datetime(2027, 4, 2, 8, 0, tzinfo=UTC) + timedelta(seconds=next(_MOMENTS))
    pdus = deliver_pdus(sender, text, timestamp=moment, reference=reference)
    return [read_by(backend, index, pdu) for index, pdu in enumerate(pdus, 1)]


def read_by(backend: str, index: int, pdu: str) -> InboundPart:
    """The part as ``backend`` hands it up (gammu's: decoded by gammu, its PDU rebuilt)."""
    if backend == "gammu":
        read = gammu.DecodePDU(bytes.fromhex(pdu))  # what GetNextSMS returns, less its place
        return part_from_gammu({**read, "Memory": "SM", "Location": index, "State": "UnRead"})
    return to_part(StoredPDU("SM", index, 0, pdu))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def gateway(
    database: Database, demo: Deployment, settings: Settings
) -> AsyncIterator[tuple[Ingest, Pipeline]]:
    async with database.session() as session:
        await repository.upsert_stations(session, [
            {"code": "S001", "name": "School 1", "region": "Chui", "district": "Sokuluk",
             "registered_voters": 1500, "in_sample": True},
        ])  # fmt: skip
        await repository.upsert_observers(session, [
            {"code": "1234", "name": "Aida", "phones": [PHONE], "station_code": "S001",
             "language": "en"},
            {"code": "5678", "name": "Bakyt", "phones": ["+996700111222"],
             "station_code": "S001", "language": "ru"},
        ])  # fmt: skip
        await session.commit()
    return Ingest(database, Spool(settings.spool_path)), Pipeline(database, demo, settings)


async def receive(
    gateway: tuple[Ingest, Pipeline], text: str, sender: str = PHONE, backend: str = "at"
) -> None:
    ingest, pipeline = gateway
    await ingest.store(IMSI, parts_of(text, sender, backend=backend))
    await pipeline.process_pending([IMSI])


async def rows(database: Database, model: Any) -> list[Any]:
    async with database.session() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_valid_sms_becomes_an_accepted_report_and_a_reply(
    gateway, database, backend: str
) -> None:
    await receive(gateway, "OP 1234 A1 B250 C13", backend=backend)
    [message] = await rows(database, Message)
    assert (message.status, message.form_code, message.observer_code) == ("accepted", "OP", "1234")
    [report] = await rows(database, Report)
    assert (report.station_code, report.answers) == ("S001", {"A": 1, "B": 250, "C": [1, 3]})
    [reply] = await rows(database, OutboxMessage)
    assert (reply.recipient, reply.status) == (PHONE, "pending")
    assert reply.text == "OK: OP 1234 received (3 answered). Thank you!"
    [part] = await rows(database, InboundPartRow)
    assert part.message_id == message.id


async def test_an_unknown_observer_is_rejected_with_a_reply(gateway, database) -> None:
    await receive(gateway, "OP 9999 A1")
    [message] = await rows(database, Message)
    assert (message.status, message.error_codes) == ("rejected", ["UNKNOWN_OBSERVER"])
    [reply] = await rows(database, OutboxMessage)
    assert "9999" in reply.text
    assert await rows(database, Report) == []


async def test_a_phone_not_registered_for_the_id_is_accepted_as_unverified(
    gateway, database
) -> None:
    await receive(gateway, "OP 1234 A1", sender="+996777000111")
    [message] = await rows(database, Message)
    assert message.status == "unverified"
    [report] = await rows(database, Report)
    assert report.verified is False


async def test_sender_mismatch_can_be_configured_to_reject(database, demo, settings) -> None:
    strict = settings.model_copy(update={"sender_mismatch": "reject"})
    gateway = (Ingest(database, Spool(settings.spool_path)), Pipeline(database, demo, strict))
    async with database.session() as session:
        await repository.upsert_observers(
            session, [{"code": "1234", "name": "A", "phones": [PHONE], "language": "en"}]
        )
        await session.commit()
    await receive(gateway, "OP 1234 A1", sender="+996777000111")
    [message] = await rows(database, Message)
    assert (message.status, message.error_codes) == ("rejected", ["SENDER_MISMATCH"])


async def test_the_same_sms_twice_is_acknowledged_but_counted_once(gateway, database) -> None:
    await receive(gateway, "OP 1234 A1 B250")
    await receive(gateway, "OP 1234 A1 B250")
    assert [m.status for m in await rows(database, Message)] == ["accepted", "duplicate"]
    assert len(await rows(database, Report)) == 1
    replies = [reply.text for reply in await rows(database, OutboxMessage)]
    assert replies[1] == "Already received: OP 1234. Thank you!"


async def test_checklists_merge_last_value_wins_and_every_change_is_versioned(
    gateway, database
) -> None:
    await receive(gateway, "OP 1234 A1 B250")
    await receive(gateway, "OP 1234 A1 B300 D100")
    [checklist] = await rows(database, Checklist)
    assert (checklist.answers, checklist.version) == ({"A": 1, "B": 300, "D": 100}, 2)
    changes = [
        (c.version, c.tag, c.old_value, c.new_value) for c in await rows(database, ChecklistChange)
    ]
    assert changes == [(1, "A", None, 1), (1, "B", None, 250), (2, "B", 250, 300),
                       (2, "D", None, 100)]  # fmt: skip


async def test_a_change_that_breaks_a_check_on_the_merged_record_is_rejected(
    gateway, database
) -> None:
    await receive(gateway, "OP 1234 A1 B250")
    await receive(gateway, "OP 1234 A1 D300")  # D <= B fails once merged with B = 250
    assert [m.status for m in await rows(database, Message)] == ["accepted", "rejected"]
    [checklist] = await rows(database, Checklist)
    assert checklist.answers == {"A": 1, "B": 250}
    replies = [reply.text for reply in await rows(database, OutboxMessage)]
    assert "More ballots issued than received" in replies[1]


async def test_incident_forms_make_a_new_report_each_time(gateway, database) -> None:
    await receive(gateway, "IN 1234 K1")
    await receive(gateway, "IN 1234 K15")
    assert [report.answers for report in await rows(database, Report)] == [
        {"K": [1]},
        {"K": [1, 5]},
    ]
    assert await rows(database, Checklist) == []


@pytest.mark.parametrize("backend", BACKENDS)
async def test_multipart_messages_are_reassembled_whatever_order_parts_arrive(
    gateway, database, backend: str
) -> None:
    ingest, pipeline = gateway
    text = "IN 1234 K12 @ " + "автобус с избирателями у школы, " * 3
    parts = parts_of(text, backend=backend)
    assert len(parts) == 2
    await ingest.store(IMSI, [parts[1]])
    assert await pipeline.process_pending([IMSI]) == 0  # waiting for part 1
    await ingest.store(IMSI, [parts[0]])
    assert await pipeline.process_pending([IMSI]) == 1
    [message] = await rows(database, Message)
    assert (message.text, message.parts, message.status) == (text, 2, "accepted")


async def test_a_multipart_message_missing_a_part_is_stored_incomplete_after_the_timeout(
    database, demo, settings
) -> None:
    quick = settings.model_copy(update={"incomplete_after_s": 0.001})
    ingest = Ingest(database, Spool(settings.spool_path))
    pipeline = Pipeline(database, demo, quick)
    parts = parts_of("IN 1234 K12 @ " + "автобус " * 20)
    await ingest.store(IMSI, [parts[0]])
    await pipeline.process_pending([IMSI])
    [message] = await rows(database, Message)
    assert message.status == "incomplete"
    assert message.parse["answers"] == {"K": [1, 2]}


async def test_an_incomplete_multipart_sms_is_answered_in_its_language_to_send_it_again(
    gateway, database, demo, settings
) -> None:
    ingest, _ = gateway
    pipeline = Pipeline(database, demo, settings.model_copy(update={"incomplete_after_s": 0.001}))
    parts = parts_of("IN 5678 K12 @ " + "автобус " * 20, sender="+996700111222")
    await ingest.store(IMSI, [parts[0]])  # the second part never comes
    await pipeline.process_pending([IMSI])
    [message] = await rows(database, Message)
    assert message.status == "incomplete"
    assert await rows(database, Report) == []
    [reply] = await rows(database, OutboxMessage)
    assert reply.text == "НЕ принято: пришла только часть SMS. Отправьте всё SMS снова."
    assert message.parse["reply"] == reply.text


async def test_an_undecodable_pdu_is_kept_in_the_log_without_a_reply(gateway, database) -> None:
    ingest, pipeline = gateway
    broken = to_part(StoredPDU("SM", 1, 0, "0791ZZ"))
    await ingest.store(IMSI, [broken])
    await pipeline.process_pending([IMSI])
    [message] = await rows(database, Message)
    assert (message.status, message.error_codes) == ("undecodable", ["UNDECODABLE_PDU"])
    [part] = await rows(database, InboundPartRow)
    assert (part.pdu_hex, part.decode_error is not None) == ("0791ZZ", True)
    assert await rows(database, OutboxMessage) == []


async def test_no_reply_to_short_codes_and_alphanumeric_senders(gateway, database) -> None:
    await receive(gateway, "OP 1234 A1", sender="Beeline")
    await receive(gateway, "OP 1234 A1", sender="0555")
    assert len(await rows(database, Message)) == 2
    assert await rows(database, OutboxMessage) == []
    assert can_reply_to("+996555123456")
    assert not can_reply_to("Beeline")


async def test_replies_per_sender_are_capped_per_hour(gateway, database) -> None:
    for number in range(12):
        await receive(gateway, f"OP 1234 A1 B{number}")
    assert len(await rows(database, Message)) == 12
    assert len(await rows(database, OutboxMessage)) == 10


@pytest.mark.parametrize("backend", BACKENDS)
async def test_parts_wait_in_the_spool_while_the_database_is_down_and_are_stored_once(
    settings: Settings, database: Database, backend: str
) -> None:
    down = Database("postgresql://nobody@127.0.0.1:1/nothing")
    spooling = Ingest(down, Spool(settings.spool_path))
    part = parts_of("OP 1234 A1", backend=backend)[0]
    await spooling.store(IMSI, [part])
    again = read_by(backend, part.index, part.pdu_hex)  # read again after a crash
    await spooling.store(IMSI, [again])  # the modem handed it up twice
    await down.close()
    assert spooling.spool.size() == 2
    back = Ingest(database, spooling.spool)
    assert await back.replay_spool() == Replay(stored=2)
    assert back.spool.size() == 0
    assert len(await rows(database, InboundPartRow)) == 1


GARBAGE = [
    "",
    "   ",
    "\x00\x00",
    "😀" * 40,
    "Привет, как дела?",
    "OP",
    "@@@@",
    "OP 1234 " + "A1 " * 200,
    "ＯＰ１２３４Ａ１",
    "DROP TABLE messages; --",
    "\\x1a\\x1b",
    "OP 1234 A1 B" + "9" * 300,
]


async def test_garbage_is_logged_with_its_status_and_never_stops_the_pipeline(
    gateway, database
) -> None:
    for text in GARBAGE:
        await receive(gateway, text)
    await receive(gateway, "OP 1234 A1")  # still working
    statuses = [message.status for message in await rows(database, Message)]
    assert len(statuses) == len(GARBAGE) + 1
    assert statuses[-1] == "accepted"
    assert set(statuses[:-1]) <= {"rejected", "accepted", "duplicate"}


async def test_a_spooled_part_the_database_refuses_is_set_aside_not_retried_forever(
    settings: Settings, database: Database
) -> None:
    spool = Spool(settings.spool_path)
    good = parts_of("OP 1234 A1")[0]

    spool.append([part_record(IMSI, good), {**part_record(IMSI, good), "kind": "x" * 500}])
    ingest = Ingest(database, spool)
    assert await ingest.replay_spool() == Replay(stored=1, set_aside=1)
    assert spool.size() == 0
    assert len(await rows(database, InboundPartRow)) == 1
    assert "x" * 500 in spool.rejected_path.read_text()
