"""Storage: migrations up, down and up again; the raw-part key absorbs replays."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, text

from store import repository
from store.db import Database
from store.migrate import current_revision, downgrade, head_revision, upgrade
from store.models import InboundPartRow


def a_part(pdu: str = "0791AB", **changes: object) -> dict[str, object]:
    return {"modem_imsi": "437051234567890", "pdu_hex": pdu, "kind": "deliver",
            "sender": "+996555123456", "smsc_timestamp": datetime(2027, 4, 2, tzinfo=UTC),
            "text": "OP 1234 A1", "coding": "gsm7", "concat_ref": None, "concat_part": None,
            "concat_total": None, "decode_error": None, **changes}  # fmt: skip


async def test_migrations_upgrade_downgrade_and_upgrade_again(database: Database) -> None:
    assert await current_revision(database) == head_revision()
    await downgrade(database, "base")
    assert await current_revision(database) is None
    async with database.engine.connect() as connection:
        tables = await connection.scalar(text(
            "select count(*) from information_schema.tables where table_schema = 'public' "
            "and table_name <> 'alembic_version'"
        ))  # fmt: skip
    assert tables == 0
    await upgrade(database)
    assert await current_revision(database) == head_revision()


async def test_the_same_pdu_from_the_same_modem_is_stored_once(database: Database) -> None:
    async with database.session() as session:
        assert await repository.insert_parts(session, [a_part()]) == 1
        assert await repository.insert_parts(session, [a_part(), a_part(pdu="07FF")]) == 1
        assert await repository.insert_parts(session, [a_part(modem_imsi="999")]) == 1
        await session.commit()
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(InboundPartRow)) == 3
