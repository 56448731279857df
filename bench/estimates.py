"""Estimate cost: one quick count over a sample of 500 stations, from 500 and from 1M rows.

A synthetic frame (2,500 stations, 5 regions, 500 sampled) and report columns for the
presidential example's RS form: first one checklist per sampled station, then a million rows
(three observers per station, each sending many versions, 1 % quarantined). What is timed is
``estimate_results``: the per-station reduction and the estimator, not the reading of rows.

Run: ``make bench`` or ``python bench/estimates.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

# Run as a script, this file's folder comes first on sys.path and bench/parser.py would shadow
# the ``parser`` package.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

from estimates import ReportColumns, Station, build_frame, estimate_results  # noqa: E402
from parser import load_forms  # noqa: E402

FORMS = HERE.parent / "examples" / "forms" / "presidential.yaml"


def frame_and_values(rng: np.random.Generator) -> tuple[list[Station], np.ndarray]:
    """2,500 stations in 5 regions, every 5th sampled; RS answers for each station."""
    stations = [
        Station(f"{i:05d}", f"region-{i % 5}", int(rng.integers(500, 3000)), (i // 5) % 5 == 0)
        for i in range(2500)
    ]
    votes = rng.multinomial(1500, [0.4, 0.25, 0.15, 0.1, 0.05, 0.03, 0.02], size=2500)
    return stations, votes


def columns(
    codes: np.ndarray, values: np.ndarray, rows: int, rng: np.random.Generator
) -> ReportColumns:
    pick = rng.integers(0, len(codes), size=rows) if rows > len(codes) else np.arange(len(codes))
    observer = np.char.add(codes[pick], np.char.mod("-%d", rng.integers(0, 3, size=len(pick))))
    return ReportColumns(
        station=codes[pick],
        observer=observer,
        order=rng.random(len(pick)),
        quarantined=rng.random(len(pick)) < 0.01,
        columns=("H", "J", "K", "M", "N", "P", "Q", "F"),
        values=values[pick],
    )


def timed(call: Callable[[], object], rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        call()
    return (time.perf_counter() - started) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    form = load_forms(FORMS.read_text(encoding="utf-8")).by_code["RS"]
    rng = np.random.default_rng(2027)
    stations, votes = frame_and_values(rng)
    frame = build_frame(stations)
    sampled = np.array([station.in_sample for station in stations])
    codes = np.array([station.code for station in stations])[sampled]
    values = np.column_stack([votes[sampled], np.full(sampled.sum(), 12)])
    for rows in (len(codes), args.rows):
        reports = columns(codes, values, rows, rng)
        seconds = timed(
            lambda r=reports: estimate_results(frame, r, form), 3 if rows > 10_000 else 200
        )
        print(f"estimate over {len(codes)} stations from {rows:>9,} rows: {seconds * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
