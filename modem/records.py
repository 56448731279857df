"""Plain values the modem package hands up: messages, identity, health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from modem.pdu import Concat

__all__ = ["InboundPart", "ModemIdentity", "ModemStatus", "StorageUse", "StoredPDU"]


@dataclass(frozen=True, slots=True)
class StoredPDU:
    """A message as the modem listed it: where it is and its raw PDU (SMSC field first)."""

    storage: str
    index: int
    status: int
    pdu_hex: str


@dataclass(frozen=True, slots=True)
class InboundPart:
    """One stored SMS part (or status report), decoded, handed up before it is deleted.

    When the PDU cannot be decoded, ``error`` says why and only ``pdu_hex`` (kept for audit),
    ``storage`` and ``index`` are meaningful. ``kind`` is ``deliver`` or ``status-report``; a
    status report's ``reference`` and ``status`` say which sent SMS it is about and what became
    of it (0: delivered).
    """

    storage: str
    index: int
    pdu_hex: str
    kind: str = "deliver"
    sender: str = ""
    timestamp: datetime | None = None
    text: str = ""
    coding: str = ""
    concat: Concat | None = None
    reference: int | None = None
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ModemIdentity:
    """Who the modem and its SIM are."""

    manufacturer: str
    model: str
    revision: str
    imei: str
    imsi: str


@dataclass(frozen=True, slots=True)
class StorageUse:
    """How full one message storage is."""

    name: str
    used: int
    total: int


@dataclass(frozen=True, slots=True)
class ModemStatus:
    """Health at one moment: signal, registration, operator, storage use."""

    signal_dbm: int | None
    registration: str
    operator: str
    storages: tuple[StorageUse, ...]
