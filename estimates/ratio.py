"""The combined ratio estimator of a stratified sample, and its Taylor-linearised variance.

Pure numpy on arrays of the reporting stations; which stations report and whether every
stratum has enough of them is decided by the caller (``estimates.estimate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

__all__ = ["MIN_REPORTS_PER_STRATUM", "RatioFit", "combined_ratio", "normal_quantile"]

# The variance inside a stratum needs two reports: with one, s² (divided by r_h − 1) is 0/0.
MIN_REPORTS_PER_STRATUM = 2

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class RatioFit:
    """``estimate[j]`` = R̂_j and ``variance[j]`` = V(R̂_j) for each numerator column j."""

    estimate: Floats
    variance: Floats

    def margin(self, confidence: float) -> Floats:
        """Half-width of the normal interval: z_{(1+c)/2} · √V."""
        return normal_quantile(confidence) * np.sqrt(self.variance)


def normal_quantile(confidence: float) -> float:
    """z_{(1+c)/2}: 1.959964 for c = 0.95, 2.575829 for c = 0.99."""
    return NormalDist().inv_cdf((1.0 + confidence) / 2.0)


def combined_ratio(
    y: npt.ArrayLike, x: npt.ArrayLike, stratum: npt.ArrayLike, sizes: npt.ArrayLike
) -> RatioFit:
    """R̂ = Ŷ / X̂ for every column of ``y``, over the stations that reported.

    ``y`` is (r, k) (or (r,)), ``x`` is (r,), ``stratum`` (r,) holds each station's stratum
    index into ``sizes`` = N_h. With r_h the reports of stratum h and w_i = N_h / r_h::

        Ŷ = Σ_i w_i y_i      X̂ = Σ_i w_i x_i      R̂ = Ŷ / X̂
        z_i = y_i − R̂ x_i
        V(R̂) = (1 / X̂²) Σ_h N_h² (1 − r_h / N_h) s²_{z,h} / r_h
        s²_{z,h} = Σ_{i∈h} (z_i − z̄_h)² / (r_h − 1)

    Every stratum with N_h > 0 must have at least ``MIN_REPORTS_PER_STRATUM`` reports, and
    X̂ must be positive: the caller checks both and says why when they fail.
    """
    values = np.asarray(y, dtype=np.float64)
    matrix = values.reshape(len(values), -1)
    base = np.asarray(x, dtype=np.float64)
    groups = np.asarray(stratum, dtype=np.int64)
    frame = np.asarray(sizes, dtype=np.float64)
    reports = np.bincount(groups, minlength=len(frame)).astype(np.float64)
    if np.any(reports[frame > 0] < MIN_REPORTS_PER_STRATUM):
        raise ValueError("every stratum needs two reports; check before estimating")
    weight = frame[groups] / reports[groups]
    total_x = weight @ base
    ratio = (weight @ matrix) / total_x
    residual = matrix - np.outer(base, ratio)
    spread = _within_sum_of_squares(residual, groups, reports)
    # Strata without reports have N_h = 0 here (checked above), so their terms vanish.
    present = reports > 0
    factor = np.zeros_like(frame)
    factor[present] = (
        frame[present] ** 2 * (1.0 - reports[present] / frame[present]) / reports[present]
    ) / (reports[present] - 1.0)
    variance = (factor @ spread) / total_x**2
    shape = values.shape[1:]
    return RatioFit(ratio.reshape(shape), variance.reshape(shape))


def _within_sum_of_squares(
    residual: Floats, groups: npt.NDArray[np.int64], reports: Floats
) -> Floats:
    """Σ_{i∈h} (z_i − z̄_h)² for each stratum h and column: an (H, k) array."""
    sums = np.zeros((len(reports), residual.shape[1]))
    np.add.at(sums, groups, residual)
    means = np.divide(sums, reports[:, None], out=np.zeros_like(sums), where=reports[:, None] > 0)
    deviation = residual - means[groups]
    squares = np.zeros_like(sums)
    np.add.at(squares, groups, deviation**2)
    return squares
