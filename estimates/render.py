"""Estimates as readable text tables, for the terminal (``shailoo estimate`` without --json)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from estimates.results import (
    Interval,
    OfficialCheck,
    ProcessEstimate,
    QuestionShares,
    ResultsEstimate,
    SampleStatus,
)
from parser import Form, text_in

__all__ = ["render_process", "render_results"]


def render_results(result: ResultsEstimate, form: Form | None = None, language: str = "en") -> str:
    """The shares, turnout, official checks and the sample's state, as aligned columns."""
    lines = [
        f"Form {result.form}: quick count at {result.confidence:.0%} confidence",
        _sample_line(result.sample),
        "",
    ]
    if result.reasons:
        lines += ["Unavailable:", *(f"  {reason}" for reason in result.reasons), ""]
    header = ["", "estimate", "margin", "low", "high"]
    official = bool(result.official)
    if official:
        header += ["official", "inside"]
    rows = [
        [
            _label(tag, form, language),
            *_cells(interval),
            *_official(result.official.get(tag), official),
        ]
        for tag, interval in (result.shares or {}).items()
    ]
    if result.turnout is not None:
        rows.append(
            [
                "Turnout",
                *_cells(result.turnout),
                *_official(result.official.get("turnout"), official),
            ]
        )
    if rows:
        lines += [*_table(header, rows), ""]
    lines += _strata(result.sample)
    for name, part in result.regions.items():
        lines += [
            "",
            f"Region {name or '(none)'}: {_sample_line(part.sample).removeprefix('Sample: ')}",
        ]
        lines += [f"  unavailable: {reason}" for reason in part.reasons]
        lines += [f"  {line}" for line in _intervals(part, form, language)]
    return "\n".join(lines)


def _intervals(result: ResultsEstimate, form: Form | None, language: str) -> list[str]:
    rows = [[_label(tag, form, language), *_cells(i)] for tag, i in (result.shares or {}).items()]
    if result.turnout is not None:
        rows.append(["Turnout", *_cells(result.turnout)])
    return _table(["", "estimate", "margin", "low", "high"], rows) if rows else []


def render_process(result: ProcessEstimate, form: Form | None = None, language: str = "en") -> str:
    """For every choice and multi question, the share of stations with each option."""
    lines = [
        f"Form {result.form}: share of stations at {result.confidence:.0%} confidence",
        _sample_line(result.sample),
    ]
    for tag, shares in result.questions.items():
        lines += ["", f"{_label(tag, form, language)} ({shares.stations} stations answered)"]
        lines += _question(shares, form, language)
    for name, part in result.regions.items():
        lines += [
            "",
            f"Region {name or '(none)'}: {_sample_line(part.sample).removeprefix('Sample: ')}",
        ]
        for tag, shares in part.questions.items():
            lines += [f"{_label(tag, form, language)} ({shares.stations} stations answered)"]
            lines += _question(shares, form, language)
    return "\n".join(lines)


def _question(shares: QuestionShares, form: Form | None, language: str) -> list[str]:
    if shares.options is None:
        return [f"  unavailable: {reason}" for reason in shares.reasons]
    question = form.question(shares.tag) if form else None
    rows = [
        [
            f"{code} {text_in(question.options[code], language)}" if question else str(code),
            *_cells(interval),
        ]
        for code, interval in shares.options.items()
    ]
    return [f"  {line}" for line in _table(["", "estimate", "margin", "low", "high"], rows)]


def _sample_line(sample: SampleStatus) -> str:
    line = f"Sample: {sample.reported} of {sample.stations} sampled stations reported"
    if sample.conflict_stations:
        shown = ", ".join(sample.conflict_stations[:10])
        more = "..." if len(sample.conflict_stations) > 10 else ""
        line += f"; {len(sample.conflict_stations)} in conflict ({shown}{more})"
    if sample.outside_sample_rows:
        line += f"; {sample.outside_sample_rows} rows outside the sample ignored"
    if sample.quarantined_rows:
        line += f"; {sample.quarantined_rows} quarantined rows skipped"
    return line


def _strata(sample: SampleStatus) -> list[str]:
    rows = [
        [
            stratum.stratum or "(none)",
            "?" if stratum.frame is None else str(stratum.frame),
            str(stratum.sampled),
            str(stratum.reported),
            str(stratum.conflicts),
        ]
        for stratum in sample.strata
    ]
    return _table(["stratum", "frame", "sampled", "reported", "conflicts"], rows)


def _label(tag: str, form: Form | None, language: str) -> str:
    question = form.question(tag) if form else None
    return f"{tag} {text_in(question.label, language)}" if question else tag


def _cells(interval: Interval) -> list[str]:
    return [
        _percent(interval.estimate),
        f"±{interval.moe * 100:.2f} pt",
        _percent(interval.low),
        _percent(interval.high),
    ]


def _official(check: OfficialCheck | None, shown: bool) -> list[str]:
    if not shown:
        return []
    if check is None:
        return ["", ""]
    inside = {True: "yes", False: "NO", None: "?"}[check.inside]
    return [_percent(check.official), inside]


def _percent(value: float) -> str:
    return f"{value * 100:.2f}%"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Left-aligned first column, right-aligned numbers, two spaces between columns."""
    grid = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[column]) for row in grid) for column in range(len(header))]
    return [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in grid
    ]
