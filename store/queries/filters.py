"""Filters and pages the API's list queries take: plain values, checked by the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

__all__ = ["MessageFilter", "Page", "ReportFilter", "narrowed", "newest_first"]


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


AnySelect = Select[*tuple[Any, ...]]


def narrowed(
    statement: AnySelect,
    equal: Mapping[Any, object],
    moment: InstrumentedAttribute[datetime],
    since: datetime | None,
    until: datetime | None,
) -> AnySelect:
    """``statement`` with each column of ``equal`` equal to its value (None: any), and
    ``moment`` in [since, until)."""
    for column, value in equal.items():
        if value is not None:
            statement = statement.where(column == value)
    if since is not None:
        statement = statement.where(moment >= since)
    if until is not None:
        statement = statement.where(moment < until)
    return statement


def newest_first(statement: AnySelect, key: InstrumentedAttribute[int], page: Page) -> AnySelect:
    """One page of ``statement`` by ``key`` descending, below ``page.before``; one row more
    than the page, which tells the caller that another page follows."""
    statement = statement.order_by(key.desc()).limit(page.limit + 1)
    return statement if page.before is None else statement.where(key < page.before)
