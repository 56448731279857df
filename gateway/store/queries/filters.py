"""Filters and pages the API's list queries take: plain values, checked by the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["MessageFilter", "Page", "ReportFilter"]


@dataclass(frozen=True, slots=True)
class Page:
    """Keyset pagination, newest first: rows with ids below ``before`` (None: from the top)."""

    limit: int = 50
    before: int | None = None


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """What ``/messages`` can be narrowed by; None means any."""

    direction: str | None = None
    status: str | None = None
    error_code: str | None = None
    form: str | None = None
    observer: str | None = None
    station: str | None = None
    sender: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """What ``/reports`` can be narrowed by; None means any."""

    form: str | None = None
    observer: str | None = None
    station: str | None = None
    region: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    quarantined: bool | None = None
