"""Reading the roster: stations and observers from CSV files, every row checked.

``stations.csv``: ``code`` (required), ``name``, ``region``, ``district``, ``registered_voters``,
``in_sample`` (yes/no, default yes), ``stratum`` (the sample design's stratum; default: the
region). ``observers.csv``: ``code`` (the observer ID, digits,
required), ``name``, ``phones`` (one or more, separated by ``;``), ``station`` (a station code),
``language`` (ky, ru or en). Every mistake is reported as ``file:line: sentence``; nothing is
imported from files with mistakes.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.errors import RosterError

__all__ = ["Roster", "read_roster"]

_PHONE = re.compile(r"\+?\d{6,15}")
_TRUE = {"", "1", "yes", "y", "true", "да", "ооба"}
_FALSE = {"0", "no", "n", "false", "нет", "жок"}


@dataclass
class Roster:
    """Validated rows, ready to upsert."""

    stations: list[dict[str, Any]] = field(default_factory=list)
    observers: list[dict[str, Any]] = field(default_factory=list)


def read_roster(paths: Iterable[Path], known_stations: set[str] | None = None) -> Roster:
    """Read station and observer files (told apart by their header), checking every row."""
    roster, problems = Roster(), list[str]()
    files = [(path, _rows(path, problems)) for path in paths]
    for path, rows in files:
        if rows and "phones" not in rows[0][1]:
            roster.stations += _stations(path, rows, problems)
    stations = {row["code"] for row in roster.stations} | (known_stations or set())
    for path, rows in files:
        if rows and "phones" in rows[0][1]:
            roster.observers += _observers(path, rows, stations, problems)
    if problems:
        raise RosterError(problems)
    return roster


def _rows(path: Path, problems: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read it ({exc}); save it as UTF-8 CSV")
        return []
    reader = csv.DictReader(text.splitlines())
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    if "code" not in fields:
        problems.append(f"{path}:1: no 'code' column (the first line must name the columns)")
        return []
    return [
        (
            number,
            {
                key.strip().lower(): (value or "").strip()
                for key, value in row.items()
                if key is not None
            },
        )
        for number, row in enumerate(reader, start=2)
    ]


def _stations(
    path: Path, rows: list[tuple[int, dict[str, str]]], problems: list[str]
) -> list[dict[str, Any]]:
    stations: dict[str, dict[str, Any]] = {}
    for line, row in rows:
        where = f"{path}:{line}"
        code = row.get("code", "")
        voters = row.get("registered_voters", "")
        sample = row.get("in_sample", "").lower()
        if not code:
            problems.append(f"{where}: the station code is empty")
        elif code in stations:
            problems.append(f"{where}: station {code} is listed twice")
        if voters and not voters.isdigit():
            problems.append(f"{where}: registered_voters {voters!r} is not a whole number")
        if sample not in _TRUE | _FALSE:
            problems.append(f"{where}: in_sample {sample!r} should be yes or no")
        stations[code] = {
            "code": code, "name": row.get("name", ""), "region": row.get("region", ""),
            "district": row.get("district", ""),
            "registered_voters": int(voters) if voters.isdigit() else None,
            "in_sample": sample not in _FALSE, "stratum": row.get("stratum", ""),
        }  # fmt: skip
    return list(stations.values())


def _observers(
    path: Path, rows: list[tuple[int, dict[str, str]]], stations: set[str], problems: list[str]
) -> list[dict[str, Any]]:
    observers: dict[str, dict[str, Any]] = {}
    for line, row in rows:
        where = f"{path}:{line}"
        code = row.get("code", "")
        phones = [p.replace(" ", "") for p in re.split(r"[;,]", row.get("phones", "")) if p.strip()]
        station = row.get("station", "") or None
        language = row.get("language", "").lower() or None
        if not code.isdigit():
            problems.append(f"{where}: observer ID {code!r} should be digits, as texted")
        elif code in observers:
            problems.append(f"{where}: observer {code} is listed twice")
        problems += [
            f"{where}: {phone!r} is not a phone number"
            for phone in phones
            if not _PHONE.fullmatch(phone)
        ]
        if station is not None and station not in stations:
            problems.append(f"{where}: station {station} is not in the stations file")
        if language not in (None, "ky", "ru", "en"):
            problems.append(f"{where}: language {language!r} should be ky, ru or en")
        observers[code] = {
            "code": code,
            "name": row.get("name", ""),
            "phones": phones,
            "station_code": station,
            "language": language,
        }
    return list(observers.values())
