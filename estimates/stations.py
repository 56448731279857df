"""From report rows to one set of answers per sampled station, and the stations in conflict.

Each observer counts with their latest non-quarantined checklist; a station's answer to a
column is what its observers say, when those who answered it agree. When two of them give
different values the column is in conflict at that station. Everything is vectorised: one
sort and a few ``reduceat`` calls, whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from estimates.frame import Frame
from estimates.reports import MISSING, ReportColumns

__all__ = ["StationAnswers", "reduce_reports"]

# Larger than any answer (the forms cap integers at 999,999,999): "nobody answered" in a minimum.
_ABOVE_ANY = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class StationAnswers:
    """Per sampled station (rows in ``Frame.codes`` order) and column of the reports.

    ``values`` holds the agreed answer (``MISSING`` when nobody answered or they disagree);
    ``conflict`` is True where observers disagree. ``observers`` counts the observers whose
    checklist was used. Rows of the reports that were not used are counted:
    ``outside_sample`` (a station of the roster that was not sampled, or no station in it)
    and ``quarantined``.
    """

    columns: tuple[str, ...]
    values: npt.NDArray[np.int64]
    conflict: npt.NDArray[np.bool_]
    observers: npt.NDArray[np.int64]
    outside_sample: int
    quarantined: int

    def column(self, name: str) -> npt.NDArray[np.int64]:
        """One column's agreed values (all ``MISSING`` if the reports lack it)."""
        if name in self.columns:
            return self.values[:, self.columns.index(name)]
        return np.full(len(self.values), MISSING, dtype=np.int64)

    def conflicts(self, names: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        """Stations where observers disagree on any of ``names``."""
        chosen = [self.columns.index(name) for name in names if name in self.columns]
        disputed: npt.NDArray[np.bool_] = np.any(self.conflict[:, chosen], axis=1)
        return disputed


def reduce_reports(frame: Frame, reports: ReportColumns) -> StationAnswers:
    """One row of answers per sampled station of ``frame``, from ``reports``."""
    stations, columns = len(frame.codes), len(reports.columns)
    position = _station_positions(frame, reports)
    sampled = position >= 0
    quarantined = int(np.count_nonzero(sampled & reports.quarantined))
    used = np.flatnonzero(sampled & ~reports.quarantined)
    latest = _latest_per_observer(position, reports, used)
    station = position[latest]
    values = reports.values[latest]
    starts = np.flatnonzero(np.r_[True, station[1:] != station[:-1]]) if len(latest) else latest
    agreed = np.full((stations, columns), MISSING, dtype=np.int64)
    conflict = np.zeros((stations, columns), dtype=np.bool_)
    counts = np.zeros(stations, dtype=np.int64)
    if len(latest):
        highest = np.maximum.reduceat(values, starts, axis=0)
        lowest = np.minimum.reduceat(np.where(values < 0, _ABOVE_ANY, values), starts, axis=0)
        disagree = (highest >= 0) & (lowest != highest)
        owners = station[starts]
        agreed[owners] = np.where(disagree, MISSING, highest)
        conflict[owners] = disagree
        counts[owners] = np.diff(np.r_[starts, len(latest)])
    return StationAnswers(
        columns=reports.columns,
        values=agreed,
        conflict=conflict,
        observers=counts,
        outside_sample=int(np.count_nonzero(~sampled)),
        quarantined=quarantined,
    )


def _station_positions(frame: Frame, reports: ReportColumns) -> npt.NDArray[np.int64]:
    """Each row's position in ``frame.codes``, −1 for a station outside the sample."""
    # A dict lookup per row: sorting a million strings (np.unique) costs three times as much.
    index = frame.index
    return np.array(
        [index.get(code, -1) for code in np.asarray(reports.station).tolist()], dtype=np.int64
    ).reshape(-1)


def _latest_per_observer(
    position: npt.NDArray[np.int64], reports: ReportColumns, used: npt.NDArray[np.intp]
) -> npt.NDArray[np.intp]:
    """Indexes of the rows kept (the latest per station and observer), sorted by station."""
    if not len(used):
        return used
    ids: dict[str, int] = {}
    observer = np.array(
        [
            ids.setdefault(name, len(ids)) if name else -1
            for name in np.asarray(reports.observer)[used].tolist()
        ],
        dtype=np.int64,
    )
    # A row without an observer code is an observer of its own: give it a key nobody shares.
    anonymous = observer < 0
    observer[anonymous] = len(ids) + np.arange(np.count_nonzero(anonymous))
    key = position[used] * (len(ids) + np.count_nonzero(anonymous)) + observer
    # Oldest first (a stable sort keeps file order among equal times), so the last row of a key
    # is its latest; np.unique on the reversed keys finds it, and sorts by station on the way.
    oldest_first = np.argsort(reports.order[used], kind="stable")
    _, first = np.unique(key[oldest_first][::-1], return_index=True)
    latest: npt.NDArray[np.intp] = used[oldest_first[len(used) - 1 - first]]
    return latest
