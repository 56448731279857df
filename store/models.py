"""The tables. Every SMS in or out is kept, raw first, for the audit trail.

``inbound_parts`` is the ground truth: one row per PDU a modem handed up, unique on the modem's
IMSI and the PDU's SHA-256, so replays (a crash before the SIM delete, the spool after an outage,
two gateways) are absorbed. ``messages`` are parts reassembled and parsed; ``reports`` the
accepted submissions; ``checklists`` the merged current record per observer and form, with
``checklist_changes`` saying which message changed which tag from what to what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "ApiToken",
    "Base",
    "Broadcast",
    "Checklist",
    "ChecklistChange",
    "Event",
    "FormSet",
    "InboundPartRow",
    "Message",
    "Modem",
    "Observer",
    "OutboxMessage",
    "QuarantineChange",
    "Report",
    "Station",
    "TallyCell",
]

# Deterministic constraint names, so that Alembic migrations name them the same everywhere.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONB}


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Modem(Base):
    """A modem (by its SIM) this gateway or another has used."""

    __tablename__ = "modems"

    imsi: Mapped[str] = mapped_column(String(20), primary_key=True)
    imei: Mapped[str] = mapped_column(String(20))
    device: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text, default="")
    last_status: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    last_seen_at: Mapped[datetime] = _now()


class InboundPartRow(Base):
    """One PDU as a modem handed it up, decoded or not."""

    __tablename__ = "inbound_parts"
    __table_args__ = (
        UniqueConstraint("modem_imsi", "pdu_sha256", name="uq_inbound_parts_modem_pdu"),
        Index("ix_inbound_parts_unassembled", "message_id", postgresql_where="message_id IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    modem_imsi: Mapped[str] = mapped_column(String(20))
    pdu_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    pdu_hex: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(Text, default="")
    smsc_timestamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text, default="")
    coding: Mapped[str] = mapped_column(String(20), default="")
    concat_ref: Mapped[int | None] = mapped_column(Integer)
    concat_part: Mapped[int | None] = mapped_column(Integer)
    concat_total: Mapped[int | None] = mapped_column(Integer)
    decode_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = _now()
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    message: Mapped[Message | None] = relationship()


class Message(Base):
    """An SMS in or out: reassembled text, who, and what became of it."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_sender_created", "sender", "created_at"),
        Index("ix_messages_created", "created_at"),
        Index("ix_messages_status_id", "status", "id"),  # a status's newest first
        # Full-text search of the SMS log (``q``); 'simple' because texts mix three languages.
        Index(
            "ix_messages_text_search",
            func.to_tsvector(text("'simple'"), text("text")),
            postgresql_using="gin",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    modem_imsi: Mapped[str | None] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(Text, default="")
    recipient: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    parts: Mapped[int] = mapped_column(Integer, default=1)
    # in: accepted, rejected, duplicate, unverified, incomplete, undecodable, ignored
    status: Mapped[str] = mapped_column(String(20))
    error_codes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    form_code: Mapped[str | None] = mapped_column(String(20))
    observer_code: Mapped[str | None] = mapped_column(String(20))
    parse: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The forms version (``forms.id``) that parsed it; None for outgoing and older messages.
    forms_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"))
    created_at: Mapped[datetime] = _now()


class Station(Base):
    """A polling station."""

    __tablename__ = "stations"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(Text, default="")
    district: Mapped[str] = mapped_column(Text, default="")
    registered_voters: Mapped[int | None] = mapped_column(Integer)
    in_sample: Mapped[bool] = mapped_column(Boolean, default=True)
    # The stratum of the sample design; "" means the region is the stratum.
    stratum: Mapped[str] = mapped_column(Text, default="", server_default="")


class Observer(Base):
    """An observer: the ID code they text, their phones, station and language."""

    __tablename__ = "observers"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    phones: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    station_code: Mapped[str | None] = mapped_column(ForeignKey("stations.code"))
    language: Mapped[str | None] = mapped_column(String(2))


class FormSet(Base):
    """A loaded forms file: its definitions and content hash; the newest active one is used."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    loaded_at: Mapped[datetime] = _now()


class Report(Base):
    """An accepted submission (incident forms: one per SMS; checklists: one per SMS too, and
    merged into ``checklists``)."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_form_station", "form_code", "station_code"),
        Index("ix_reports_observer_id", "observer_code", "id"),
        Index("ix_reports_station_id", "station_code", "id"),
        Index("ix_reports_form_id", "form_code", "id"),
        # Coverage asks, per station, for the first and last report of a form before a time.
        Index(
            "ix_reports_coverage",
            "form_code",
            "station_code",
            "created_at",
            postgresql_where=text("NOT quarantined"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    message: Mapped[Message] = relationship()
    form_code: Mapped[str] = mapped_column(String(20))
    observer_code: Mapped[str] = mapped_column(String(20))
    station_code: Mapped[str | None] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB)
    comment: Mapped[str | None] = mapped_column(Text)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    quarantine_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class Checklist(Base):
    """The current merged record of one observer for one checklist form."""

    __tablename__ = "checklists"
    __table_args__ = (UniqueConstraint("observer_code", "form_code", name="uq_checklists_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    observer_code: Mapped[str] = mapped_column(String(20))
    form_code: Mapped[str] = mapped_column(String(20))
    station_code: Mapped[str | None] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The same merge over the reports not in quarantine: what the estimates count. Kept with
    # each report and recomputed when one of the observer's reports is (un)quarantined.
    counted: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = _now()


class ChecklistChange(Base):
    """One tag of a checklist changed by one message: from what, to what."""

    __tablename__ = "checklist_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklists.id"), index=True)
    checklist: Mapped[Checklist] = relationship()
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    message: Mapped[Message] = relationship()
    version: Mapped[int] = mapped_column(Integer)
    tag: Mapped[str] = mapped_column(String(20))
    old_value: Mapped[Any] = mapped_column(JSONB, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONB)
    changed_at: Mapped[datetime] = _now()


class OutboxMessage(Base):
    """An SMS to send (a reply or a broadcast), claimed with FOR UPDATE SKIP LOCKED."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    recipient: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    modem_imsi: Mapped[str | None] = mapped_column(String(20))
    message_references: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    in_reply_to: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    reply_to: Mapped[Message | None] = relationship(foreign_keys=[in_reply_to])
    log_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    created_at: Mapped[datetime] = _now()
    next_attempt_at: Mapped[datetime] = _now()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class QuarantineChange(Base):
    """A report put in or taken out of quarantine: by whom, why, when (the audit trail)."""

    __tablename__ = "quarantine_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    quarantined: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = _now()


class TallyCell(Base):
    """Running totals of accepted, unquarantined reports, kept in the report's transaction.

    One row per (form, region, tag, option). ``option`` is an answer's option code for choice
    and multi questions; ``ANSWERED`` (-1) counts reports answering the tag and, for integer
    questions, holds the sum, minimum and maximum. The tag ``""`` with ``ANSWERED`` counts the
    form's reports. Tallies then read a few hundred rows instead of every report.
    """

    __tablename__ = "tally_cells"

    ANSWERED: ClassVar[int] = -1

    form_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    region: Mapped[str] = mapped_column(Text, primary_key=True)
    tag: Mapped[str] = mapped_column(String(20), primary_key=True)
    option: Mapped[int] = mapped_column(Integer, primary_key=True)
    reports: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    minimum: Mapped[int | None] = mapped_column(BigInteger)
    maximum: Mapped[int | None] = mapped_column(BigInteger)


class Event(Base):
    """A new message or report, for the live feed (``/api/v1/events``).

    Ids follow commit order (writers take an advisory lock just before inserting, held until
    commit), so a reader resuming after id N never misses a later-committed lower id.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # message, report
    ref_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = _now()


class ApiToken(Base):
    """An API token: only its SHA-256 is kept; ``prefix`` finds it, the hash proves it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(20))  # read, read:pii, admin
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = _now()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Broadcast(Base):
    """An SMS an administrator sent to many observers through the API (each copy is an
    outbox row, and each sent copy is in the SMS log)."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[dict[str, Any]] = mapped_column(JSONB)
    recipients: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
