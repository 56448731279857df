"""The gateway's queries (the API's are in ``queries/``, running tallies in ``tallies.py``).
Functions take a session and never commit: ``Database.transaction()`` does.

Grouped by table; names say what they do (``insert_part``, ``claim_unassembled``...).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, literal_column, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    Checklist,
    ChecklistChange,
    Event,
    FormSet,
    InboundPartRow,
    Message,
    Modem,
    Observer,
    OutboxMessage,
    Report,
    Station,
)

__all__ = [
    "PartRecord",
    "Upserted",
    "add_message",
    "answered_questions",
    "checklists_for_update",
    "claim_due_outbox",
    "claim_unassembled",
    "insert_parts",
    "latest_forms",
    "latest_forms_id",
    "merge_checklist",
    "record_events",
    "running_gateways",
    "save_forms",
    "station_regions",
    "upsert_modem",
    "upsert_observers",
    "upsert_stations",
]

PartRecord = dict[str, Any]
"""A part as stored and spooled: the keys of ``inbound_parts`` but ``id`` and ``message_id``."""


def pdu_digest(pdu_hex: str) -> bytes:
    """The SHA-256 that, with the modem's IMSI, identifies a part: replays collide on it."""
    return hashlib.sha256(pdu_hex.strip().upper().encode("ascii", errors="replace")).digest()


# -- modems -------------------------------------------------------------------------------------


async def upsert_modem(
    session: AsyncSession, *, imsi: str, imei: str, device: str, label: str, status: dict[str, Any]
) -> None:
    """Record a modem (by its SIM) and its latest status."""
    statement = insert(Modem).values(
        imsi=imsi, imei=imei, device=device, label=label, last_status=status
    )
    await session.execute(statement.on_conflict_do_update(
        index_elements=[Modem.imsi],
        set_={"imei": imei, "device": device, "label": label, "last_status": status,
              "last_seen_at": func.now()},
    ))  # fmt: skip


# -- inbound parts ------------------------------------------------------------------------------


async def insert_parts(session: AsyncSession, records: Sequence[PartRecord]) -> int:
    """Insert parts in one statement, skipping any already stored (same modem, same PDU);
    how many were new."""
    if not records:
        return 0
    values = [{**record, "pdu_sha256": pdu_digest(record["pdu_hex"])} for record in records]
    statement = (
        insert(InboundPartRow)
        .values(values)
        .on_conflict_do_nothing(constraint="uq_inbound_parts_modem_pdu")
    )
    result = await session.execute(statement.returning(InboundPartRow.id))
    return len(result.all())


async def claim_unassembled(
    session: AsyncSession, modems: Sequence[str]
) -> Sequence[InboundPartRow]:
    """Parts of ``modems`` not yet in a message, locked (SKIP LOCKED) for this transaction."""
    statement = (
        select(InboundPartRow)
        .where(InboundPartRow.message_id.is_(None), InboundPartRow.modem_imsi.in_(modems))
        .order_by(InboundPartRow.id)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(statement)).all()


# -- messages -----------------------------------------------------------------------------------


def add_message(
    session: AsyncSession, message: Message, parts: Sequence[InboundPartRow] = ()
) -> Message:
    """Add ``message`` and link ``parts`` to it (written at the next flush)."""
    session.add(message)
    for part in parts:
        part.message = message
    return message


# -- roster -------------------------------------------------------------------------------------


async def observers_by_code(session: AsyncSession, codes: set[str]) -> dict[str, Observer]:
    """The observers with these ID codes."""
    if not codes:
        return {}
    found = await session.scalars(select(Observer).where(Observer.code.in_(codes)))
    return {observer.code: observer for observer in found}


async def recent_texts(
    session: AsyncSession, senders: set[str], since: datetime
) -> set[tuple[str, str]]:
    """(sender, text) of the messages from ``senders`` that counted since ``since``."""
    if not senders:
        return set()
    statement = select(Message.sender, Message.text).where(
        Message.direction == "in", Message.sender.in_(senders), Message.created_at >= since,
        Message.status.in_(("accepted", "unverified")),
    )  # fmt: skip
    return {(sender, text) for sender, text in (await session.execute(statement)).all()}


async def reply_counts(
    session: AsyncSession, recipients: set[str], since: datetime
) -> Counter[str]:
    """How many SMS were queued to each of ``recipients`` since ``since``."""
    if not recipients:
        return Counter()
    statement = (
        select(OutboxMessage.recipient, func.count())
        .where(OutboxMessage.recipient.in_(recipients), OutboxMessage.created_at >= since)
        .group_by(OutboxMessage.recipient)
    )
    return Counter(dict((await session.execute(statement)).all()))


async def station_regions(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    """The region of each of these stations."""
    if not codes:
        return {}
    statement = select(Station.code, Station.region).where(Station.code.in_(codes))
    return dict((await session.execute(statement)).all())


async def station_codes(session: AsyncSession) -> set[str]:
    """Every station code."""
    return set((await session.scalars(select(Station.code))).all())


class Upserted(NamedTuple):
    """What an upsert did: rows inserted, and existing rows whose values changed."""

    new: int
    updated: int


async def upsert_stations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> Upserted:
    """Insert or update stations by code."""
    return await _upsert_by_code(session, Station, rows)


async def upsert_observers(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> Upserted:
    """Insert or update observers by code."""
    return await _upsert_by_code(session, Observer, rows)


async def _upsert_by_code(
    session: AsyncSession, model: type[Station] | type[Observer], rows: Sequence[dict[str, Any]]
) -> Upserted:
    if not rows:
        return Upserted(0, 0)
    statement = insert(model).values(list(rows))
    keys = [key for key in rows[0] if key != "code"]
    columns = {key: statement.excluded[key] for key in keys}
    # A row whose values are all the same is left alone (and not counted as updated); a row
    # just inserted has xmax 0, one updated has the updating transaction's.
    changed = tuple_(*(getattr(model, key) for key in keys)).is_distinct_from(
        tuple_(*columns.values())
    )
    upsert: Any = statement.on_conflict_do_update(
        index_elements=[model.code], set_=columns, where=changed if keys else None
    )
    returned = await session.scalars(upsert.returning(literal_column("xmax = 0")))
    flags: list[bool] = list(returned.all())
    return Upserted(new=sum(flags), updated=len(flags) - sum(flags))


# -- forms --------------------------------------------------------------------------------------


async def save_forms(
    session: AsyncSession, deployment: str, content_hash: str, definition: dict[str, Any]
) -> None:
    """Store a forms file's definitions (again: it becomes the newest)."""
    statement = insert(FormSet).values(
        deployment=deployment, content_hash=content_hash, definition=definition
    )
    await session.execute(statement.on_conflict_do_update(
        index_elements=[FormSet.content_hash], set_={"loaded_at": func.now()}
    ))  # fmt: skip


async def latest_forms(session: AsyncSession) -> FormSet | None:
    """The most recently loaded forms."""
    statement = select(FormSet).order_by(FormSet.loaded_at.desc(), FormSet.id.desc()).limit(1)
    return (await session.scalars(statement)).first()


async def latest_forms_id(session: AsyncSession) -> int | None:
    """The id of the most recently loaded forms (cheap enough to ask every few seconds)."""
    statement = select(FormSet.id).order_by(FormSet.loaded_at.desc(), FormSet.id.desc()).limit(1)
    return (await session.scalars(statement)).first()


async def answered_questions(session: AsyncSession) -> dict[str, Counter[str]]:
    """Per form code, how many reports answer each question tag ("" counts all its reports)."""
    answered: dict[str, Counter[str]] = {}
    forms = select(Report.form_code, func.count()).group_by(Report.form_code)
    for form_code, count in (await session.execute(forms)).all():
        answered.setdefault(form_code, Counter())[""] = count
    tag = func.jsonb_object_keys(Report.answers).label("tag")
    tags = select(Report.form_code, tag, func.count()).group_by(Report.form_code, tag)
    for form_code, name, count in (await session.execute(tags)).all():
        answered.setdefault(form_code, Counter())[name] = count
    return answered


# -- reports and checklists ---------------------------------------------------------------------


def add_report(session: AsyncSession, report: Report) -> None:
    """Add an accepted submission (written at the next flush)."""
    session.add(report)


async def checklists_for_update(
    session: AsyncSession, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], Checklist]:
    """The current records for these (observer, form) pairs, locked for this transaction."""
    if not keys:
        return {}
    statement = (
        select(Checklist)
        .where(tuple_(Checklist.observer_code, Checklist.form_code).in_(keys))
        .with_for_update()
    )
    found = await session.scalars(statement)
    return {(checklist.observer_code, checklist.form_code): checklist for checklist in found}


def merge_checklist(
    session: AsyncSession, checklist: Checklist, message: Message, answers: dict[str, Any]
) -> list[str]:
    """Last value per tag wins; each changed tag is recorded. Returns the changed tags.
    A new report is never in quarantine, so its answers count as they are."""
    session.add(checklist)
    checklist.counted = {**(checklist.counted or {}), **answers}
    changed = [tag for tag, value in answers.items() if checklist.answers.get(tag) != value]
    if not changed:
        return []
    checklist.version += 1
    for tag in changed:
        session.add(
            ChecklistChange(
                checklist=checklist,
                message=message,
                version=checklist.version,
                tag=tag,
                old_value=checklist.answers.get(tag),
                new_value=answers[tag],
            )
        )
    checklist.answers = {**checklist.answers, **{tag: answers[tag] for tag in changed}}
    checklist.updated_at = func.now()
    return changed


# -- outbox -------------------------------------------------------------------------------------


async def claim_due_outbox(
    session: AsyncSession, modems: Sequence[str], limit: int = 10
) -> Sequence[OutboxMessage]:
    """Pending SMS due now for ``modems`` (or any modem), locked with SKIP LOCKED."""
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= func.now(),
               (OutboxMessage.modem_imsi.in_(modems)) | OutboxMessage.modem_imsi.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )  # fmt: skip
    return (await session.scalars(statement)).all()


# -- events -------------------------------------------------------------------------------------

EVENTS_LOCK = 0x5348_4149  # "SHAI": the advisory lock that keeps event ids in commit order


async def record_events(session: AsyncSession, events: Sequence[tuple[str, int]]) -> None:
    """Append (kind, id) events for the live feed; call last, just before the commit.

    The transaction-scoped advisory lock is held until commit, so no transaction can take an
    event id and commit after one that took a higher id: readers resuming from an id miss
    nothing. It is held only for the insert and the commit.
    """
    if not events:
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENTS_LOCK})
    await session.execute(
        insert(Event).values([{"kind": kind, "ref_id": ref_id} for kind, ref_id in events])
    )


# -- activity -----------------------------------------------------------------------------------


async def activity(session: AsyncSession) -> dict[str, Any]:
    """Counts for a live summary: messages by status and error, replies, coverage per form."""
    by_status = dict((await session.execute(
        select(Message.status, func.count()).where(Message.direction == "in")
        .group_by(Message.status)
    )).all())  # fmt: skip
    code = func.unnest(Message.error_codes).label("code")
    errors_query = (
        select(code, func.count())
        .where(Message.direction == "in", Message.status == "rejected")
        .group_by(code)
    )
    errors: dict[str, int] = dict((await session.execute(errors_query)).all())
    outbox = dict((await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )).all())  # fmt: skip
    sampled = await session.scalar(select(func.count()).select_from(Station)
                                   .where(Station.in_sample))  # fmt: skip
    coverage = dict((await session.execute(
        select(Report.form_code, func.count(func.distinct(Report.station_code)))
        .group_by(Report.form_code)
    )).all())  # fmt: skip
    return {
        "by_status": by_status,
        "errors": errors,
        "outbox": outbox,
        "sampled": int(sampled or 0),
        "coverage": coverage,
    }


# -- processes ----------------------------------------------------------------------------------


async def running_gateways(session: AsyncSession) -> list[str]:
    """The ``shailoo run`` processes connected to this database (``store.db.application_name``)."""
    statement = text(
        "SELECT DISTINCT application_name FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name LIKE 'shailoo run %' "
        "ORDER BY application_name"
    )
    return list((await session.scalars(statement)).all())
