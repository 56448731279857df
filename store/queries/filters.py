"""Filters and pages the API's list queries take: plain values, checked by the API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam
from sqlalchemy.sql.elements import SQLColumnExpression

__all__ = [
    "MessageFilter",
    "Page",
    "ReportFilter",
    "Shape",
    "narrowed",
    "newest_first",
    "page_values",
    "values",
]


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


_FIELDS = {kind: tuple(f.name for f in fields(kind)) for kind in (MessageFilter, ReportFilter)}
AnySelect = Select[*tuple[Any, ...]]
Shape = frozenset[str]  # the names of the parameters a statement takes


def values(where: MessageFilter | ReportFilter) -> dict[str, Any]:
    """The filters that are set, by name: the parameters of the statement they narrow."""
    names = _FIELDS[type(where)]
    return {name: value for name in names if (value := getattr(where, name)) is not None}


def page_values(page: Page) -> dict[str, Any]:
    """The parameters of ``newest_first``: one row more than the page (it tells the caller
    that another page follows), and the id to start below, if any."""
    bounds: dict[str, Any] = {"page_rows": page.limit + 1}
    if page.before is not None:
        bounds["page_before"] = page.before
    return bounds


def narrowed(
    statement: AnySelect,
    equal: Mapping[str, SQLColumnExpression[Any]],
    moment: SQLColumnExpression[datetime],
    shape: Shape,
) -> AnySelect:
    """``statement`` with each column of ``equal`` whose name is in ``shape`` equal to the
    parameter of that name, and ``moment`` in [``:since``, ``:until``) when those are in it.

    The values are bound at execution (``values``), not built in: a statement depends on which
    filters are set, not on their values, so it is built and compiled once per shape
    (``functools.cache`` on the builders). Building it per request cost a tenth of a
    computed page's CPU (bench/api.py).
    """
    for name, column in equal.items():
        if name in shape:
            statement = statement.where(column == bindparam(name))
    if "since" in shape:
        statement = statement.where(moment >= bindparam("since"))
    if "until" in shape:
        statement = statement.where(moment < bindparam("until"))
    return statement


def newest_first(statement: AnySelect, key: SQLColumnExpression[int], shape: Shape) -> AnySelect:
    """``statement`` by ``key`` descending, ``:page_rows`` rows of it, below ``:page_before``
    when that is in ``shape`` (``page_values``)."""
    statement = statement.order_by(key.desc()).limit(bindparam("page_rows", type_=Integer))
    return statement.where(key < bindparam("page_before")) if "page_before" in shape else statement
