"""Reading the offline inputs: the frame from stations.csv, the reports from the CSV export.

``read_stations``: the roster's stations.csv: ``code`` (required), ``region``, ``stratum``
(overrides the region as the stratum), ``registered_voters``, ``in_sample`` (yes/no, default
yes). ``read_reports``: the CSV that ``GET /api/v1/checklists?form=RS&format=csv`` exports:
``station_code`` and the form's tag columns are required (for a form with ``results:``, every
vote tag and ``invalid``); ``observer_code``, ``updated_at`` (or ``created_at``), ``quarantined``
and ``form_code`` are used when present. Every mistake is reported as ``file:line: sentence``;
nothing is estimated from a file with mistakes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from estimates.errors import ReportsFileError, StationsFileError
from estimates.frame import Station
from estimates.reports import Answer, ReportColumns, ReportRow
from parser import Form, Question

__all__ = ["read_reports", "read_stations"]

# A file with a million bad rows is told by its first mistakes, not by a million lines.
MAX_PROBLEMS = 50
_TRUE = {"", "1", "yes", "y", "true", "да", "ооба"}
_FALSE = {"0", "no", "n", "false", "нет", "жок"}
_TIME_COLUMNS = ("updated_at", "created_at")

Row = dict[str, str]


def read_stations(path: Path) -> list[Station]:
    """The stations of ``path``; raises ``StationsFileError`` listing every mistake."""
    problems: list[str] = []
    rows = _rows(path, ("code",), problems)
    stations: dict[str, Station] = {}
    for line, row in rows:
        where = f"{path}:{line}"
        code, voters = row.get("code", ""), row.get("registered_voters", "")
        sample = row.get("in_sample", "").lower()
        if not code:
            problems.append(f"{where}: the station code is empty")
        elif code in stations:
            problems.append(f"{where}: station {code} is listed twice")
        if voters and not voters.isdigit():
            problems.append(f"{where}: registered_voters {voters!r} is not a whole number")
        if sample not in _TRUE | _FALSE:
            problems.append(f"{where}: in_sample {sample!r} should be yes or no")
        region = row.get("region", "")
        stratum = row.get("stratum", "") or region
        voters_count = int(voters) if voters.isdigit() else None
        station = Station(code, stratum, voters_count, sample not in _FALSE, region or None)
        stations.setdefault(code, station)
    if problems:
        raise StationsFileError(_capped(problems))
    return list(stations.values())


def read_reports(path: Path, form: Form) -> ReportColumns:
    """The checklists of ``form`` in ``path``; raises ``ReportsFileError`` on any mistake.

    Rows of another form (a ``form_code`` column) are skipped. A blank cell is unanswered;
    a multi answer is its option codes joined by ';'.
    """
    problems: list[str] = []
    needed = ("station_code", *(form.results.votes if form.results else ()))
    if form.results and form.results.invalid:
        needed += (form.results.invalid,)
    rows = _rows(path, tuple(tag.lower() for tag in needed), problems)
    reports = [
        report
        for line, row in rows
        if row.get("form_code", form.code).upper() == form.code
        and (report := _report(f"{path}:{line}", row, form, problems)) is not None
    ]
    if problems:
        raise ReportsFileError(_capped(problems))
    return ReportColumns.from_rows(reports, form)


def _rows(path: Path, required: tuple[str, ...], problems: list[str]) -> list[tuple[int, Row]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read it ({exc}); save it as UTF-8 CSV")
        return []
    reader = csv.DictReader(text.splitlines())
    fields = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in fields]
    if missing:
        problems.append(
            f"{path}:1: no column {', '.join(missing)} (the first line must name the columns)"
        )
        return []
    return list(_numbered(reader))


def _numbered(reader: csv.DictReader[str]) -> Iterator[tuple[int, Row]]:
    for number, row in enumerate(reader, start=2):
        yield (
            number,
            {
                key.strip().lower(): (value or "").strip()
                for key, value in row.items()
                if key is not None
            },
        )


def _report(where: str, row: Row, form: Form, problems: list[str]) -> ReportRow | None:
    station = row.get("station_code", "")
    if not station:
        problems.append(f"{where}: the station code is empty")
        return None
    answers = {
        question.tag: _answer(where, question, row.get(question.tag.lower(), ""), problems)
        for question in form.questions
    }
    quarantined = row.get("quarantined", "").lower()
    if quarantined not in _TRUE | _FALSE:
        problems.append(f"{where}: quarantined {quarantined!r} should be true or false")
    return ReportRow(
        station_code=station,
        answers=answers,
        observer_code=row.get("observer_code") or None,
        updated_at=_time(where, row, problems),
        # Blank means "not quarantined" here, unlike in_sample's blank "yes".
        quarantined=quarantined not in _FALSE | {""},
    )


def _answer(where: str, question: Question, cell: str, problems: list[str]) -> Answer:
    if not cell:
        return None
    parts = cell.split(";") if question.type == "multi" else [cell]
    if not all(part.strip().isdigit() for part in parts):
        kind = "option codes joined by ';'" if question.type == "multi" else "a whole number"
        problems.append(f"{where}: {question.tag} {cell!r} should be {kind}")
        return None
    codes = [int(part) for part in parts]
    return codes if question.type == "multi" else codes[0]


def _time(where: str, row: Row, problems: list[str]) -> datetime | None:
    column = next((name for name in _TIME_COLUMNS if row.get(name)), None)
    if column is None:
        return None
    try:
        moment = datetime.fromisoformat(row[column])
    except ValueError:
        problems.append(f"{where}: {column} {row[column]!r} is not a date and time (ISO 8601)")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more"]
