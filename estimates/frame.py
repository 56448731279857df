"""The sampling frame: which stations were sampled, in which stratum, and how many each holds.

A stratified sample needs, for each stratum h, the number of stations in the whole country
``N_h`` (the frame size) and the list of sampled ones. The roster gives both when it holds the
whole frame (``in_sample`` is no for the stations that were not drawn); when it holds only the
sample, the sizes come from the forms file's ``strata:`` or from settings. Without either the
frame is still built, with ``problems`` saying why no estimate can be made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

__all__ = ["Frame", "Station", "build_frame"]


@dataclass(frozen=True, slots=True)
class Station:
    """One station of the frame, as the roster (or the database) knows it.

    ``region`` is for estimates by region; None means the stratum is the region (the default).
    """

    code: str
    stratum: str
    registered_voters: int | None = None
    in_sample: bool = True
    region: str | None = None


@dataclass(frozen=True, eq=False)
class Frame:
    """The sampled stations and the strata, as arrays ready for the estimator.

    ``codes[i]`` is the i-th sampled station, ``stratum[i]`` the index of its stratum in
    ``strata``, ``registered[i]`` its roster's registered voters (NaN when unknown).
    ``sizes[h]`` is ``N_h``, the stations of stratum h in the whole frame (NaN when unknown:
    then ``problems`` says why).
    """

    codes: tuple[str, ...]
    strata: tuple[str, ...]
    stratum: npt.NDArray[np.int64]
    registered: npt.NDArray[np.float64]
    sizes: npt.NDArray[np.float64]
    regions: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    whole_frame: bool = False

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each sampled station's code in ``codes``."""
        return {code: position for position, code in enumerate(self.codes)}

    def in_region(self, region: str) -> npt.NDArray[np.bool_]:
        """Which sampled stations are in ``region`` (all are their stratum's, by default)."""
        regions = self.regions or tuple(self.strata[h] for h in self.stratum)
        return np.array([name == region for name in regions], dtype=np.bool_)

    @property
    def region_names(self) -> tuple[str, ...]:
        """The regions of the sampled stations, sorted."""
        return tuple(sorted(set(self.regions or (self.strata[h] for h in self.stratum))))

    @property
    def sampled(self) -> npt.NDArray[np.int64]:
        """``n_h``: sampled stations per stratum."""
        return np.bincount(self.stratum, minlength=len(self.strata)).astype(np.int64)


def build_frame(stations: Iterable[Station], sizes: Mapping[str, int] | None = None) -> Frame:
    """The frame of ``stations``; ``sizes`` (stations per stratum) serve a sample-only roster.

    ``N_h`` is counted from the roster when it lists stations outside the sample (the whole
    frame is there); otherwise it is ``sizes[h]``. A roster that holds the whole frame wins over
    declared sizes: it is the list the sample was drawn from.
    """
    listed = list(stations)
    sample = [station for station in listed if station.in_sample]
    whole = len(sample) < len(listed)
    counted = Counter(station.stratum for station in (listed if whole else sample))
    names = sorted(set(counted) | (set() if whole else set(sizes or {})))
    position = {name: index for index, name in enumerate(names)}
    stratum = np.array([position[station.stratum] for station in sample], dtype=np.int64)
    registered = np.array(
        [np.nan if s.registered_voters is None else s.registered_voters for s in sample],
        dtype=np.float64,
    )
    if whole:
        frame_sizes = np.array([counted[name] for name in names], dtype=np.float64)
        problems: list[str] = []
    else:
        frame_sizes, problems = _declared_sizes(names, Counter(s.stratum for s in sample), sizes)
    return Frame(
        codes=tuple(station.code for station in sample),
        strata=tuple(names),
        stratum=stratum,
        registered=registered,
        sizes=frame_sizes,
        regions=tuple(s.stratum if s.region is None else s.region for s in sample),
        problems=tuple(problems),
        whole_frame=whole,
    )


def _declared_sizes(
    names: list[str], sampled: Counter[str], sizes: Mapping[str, int] | None
) -> tuple[npt.NDArray[np.float64], list[str]]:
    if not sizes:
        return np.full(len(names), np.nan), [
            "the frame sizes are unknown: the roster holds only sampled stations; import "
            "the whole frame (in_sample: no for the others) or declare 'strata:' sizes"
        ]
    problems = []
    for name in names:
        if name not in sizes:
            problems.append(f"stratum {name or '(none)'}: no frame size declared in 'strata:'")
        elif sizes[name] < sampled[name]:
            problems.append(
                f"stratum {name or '(none)'}: {sampled[name]} stations sampled but only "
                f"{sizes[name]} declared in the frame"
            )
    values = [float(sizes[name]) if name in sizes else np.nan for name in names]
    return np.array(values, dtype=np.float64), problems
