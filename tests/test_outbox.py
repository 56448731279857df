"""The outbox sender: replies go out through the modem, each logged; failures retry later."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from gateway.outbox import OutboxSender
from modem.emulator import ModemEmulator
from modem.pdu import decode_pdu
from modem.records import InboundPart
from modem.supervisor import ModemSupervisor, SupervisorSettings
from store.db import Database
from store.errors import DatabaseAwayError
from store.models import Message, OutboxMessage
from store.settings import RepliesConfig
from tests.proxy import DatabaseProxy

IMSI = "437051234567890"


@pytest.fixture
async def modem(emulator: ModemEmulator) -> AsyncIterator[ModemSupervisor]:
    async def hand_up(parts: list[InboundPart]) -> None:
        return None

    supervisor = ModemSupervisor(
        emulator.device, hand_up, SupervisorSettings(receiving_quiet_s=0.0)
    )
    task = asyncio.create_task(supervisor.run())
    await supervisor.wait_ready(5.0)
    yield supervisor
    await supervisor.stop(task)


async def queue(database: Database, *texts: str) -> None:
    async with database.session() as session:
        session.add_all(
            OutboxMessage(
                recipient="+996555123456",
                text=text,
                status="pending",
                attempts=0,
                modem_imsi=IMSI,
                message_references=[],
            )
            for text in texts
        )
        await session.commit()


async def outbox(database: Database) -> list[OutboxMessage]:
    async with database.session() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_due_replies_are_sent_through_the_modem_and_logged(
    database: Database, modem: ModemSupervisor, emulator: ModemEmulator
) -> None:
    await queue(database, "OK: OP 1234 received (1 answered). Thank you!", "Принято: OP 5678")
    sender = OutboxSender(database, {IMSI: modem}, RepliesConfig())
    assert await sender.send_due() == 2
    assert [row.status for row in await outbox(database)] == ["sent", "sent"]
    assert [decode_pdu(sent.pdu_hex).text for sent in emulator.sent] == [
        "OK: OP 1234 received (1 answered). Thank you!",
        "Принято: OP 5678",
    ]
    async with database.session() as session:
        log = (await session.scalars(select(Message).where(Message.direction == "out"))).all()
    assert [entry.status for entry in log] == ["sent", "sent"]


async def test_a_retryable_network_error_leaves_the_reply_for_later(
    database: Database, modem: ModemSupervisor, emulator: ModemEmulator
) -> None:
    await queue(database, "OK")
    emulator.faults.cms_errors["AT+CMGS"] = 38  # network out of order: worth retrying
    sender = OutboxSender(database, {IMSI: modem}, RepliesConfig())
    assert await sender.send_due() == 1
    [row] = await outbox(database)
    assert (row.status, row.attempts) == ("pending", 1)
    assert await sender.send_due() == 0  # not due again before its backoff


async def test_a_permanent_error_gives_the_reply_up(
    database: Database, modem: ModemSupervisor, emulator: ModemEmulator
) -> None:
    await queue(database, "OK")
    emulator.faults.cms_errors["AT+CMGS"] = 304  # invalid PDU parameter: retrying cannot help
    await OutboxSender(database, {IMSI: modem}, RepliesConfig()).send_due()
    [row] = await outbox(database)
    assert (row.status, row.last_error) == ("failed", "AT+CMGS=16: +CMS ERROR: 304")


class AcceptedThenBroken:
    """A modem backend whose send raises something unexpected after the modem accepted the
    SMS (a bug in the code after the send)."""

    def __init__(self, modem: ModemSupervisor) -> None:
        self.modem = modem
        self.state = modem.state
        self.identity = modem.identity
        self.receiving = False

    async def send_sms(self, number: str, text: str) -> list[int]:
        await self.modem.send_sms(number, text)
        raise RuntimeError("a bug after the send")


async def test_an_unexpected_error_counts_as_an_attempt_and_never_sends_more_than_attempts(
    database: Database, modem: ModemSupervisor, emulator: ModemEmulator
) -> None:
    await queue(database, "OK")
    broken = AcceptedThenBroken(modem)
    config = RepliesConfig(attempts=3, retry_first_s=0.001)
    sender = OutboxSender(database, {IMSI: broken}, config)  # type: ignore[dict-item]
    for _ in range(6):
        await sender.send_due()
        await asyncio.sleep(0.01)  # past each backoff
    [row] = await outbox(database)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error == "a bug after the send"
    assert len(emulator.sent) == 3


async def test_a_reply_whose_outcome_cannot_be_written_waits_for_its_lease(
    database: Database, modem: ModemSupervisor, emulator: ModemEmulator
) -> None:
    await queue(database, "OK")
    proxy = DatabaseProxy(database.url)
    behind_proxy = Database(await proxy.start())

    class CutAfterSending:
        state, identity, receiving = modem.state, modem.identity, False

        async def send_sms(self, number: str, text: str) -> list[int]:
            sent = await modem.send_sms(number, text)
            proxy.cut()  # the database goes away before the outcome is committed
            return sent

    sender = OutboxSender(behind_proxy, {IMSI: CutAfterSending()}, RepliesConfig())  # type: ignore[dict-item]
    try:
        with pytest.raises(DatabaseAwayError):
            await sender.send_due()
        proxy.restore()
        assert await sender.send_due() == 0  # not due again at once: counted, and leased
    finally:
        await behind_proxy.close()
        await proxy.stop()
    [row] = await outbox(database)
    assert (row.status, row.attempts) == ("pending", 1)
    assert len(emulator.sent) == 1
