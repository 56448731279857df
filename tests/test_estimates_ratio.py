"""The combined ratio estimator agrees with svy, the survey library, and with the textbook."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import svy

from estimates import combined_ratio, normal_quantile

AGREEMENT = 1e-9


def stratified_sample(seed: int, columns: int = 4) -> dict[str, np.ndarray]:
    """A stratified sample of stations: strata of uneven sizes, vote counts per party."""
    rng = np.random.default_rng(seed)
    reports = np.array([5, 12, 3, 30, 9])
    sizes = np.array([40.0, 300.0, 7.0, 900.0, 60.0])
    stratum = np.repeat(np.arange(len(reports)), reports)
    valid = rng.integers(300, 2000, size=len(stratum))
    strengths = rng.dirichlet(np.ones(columns) * 2, size=len(reports))[stratum]
    votes = np.array([rng.multinomial(n, p) for n, p in zip(valid, strengths, strict=True)])
    return {"stratum": stratum, "sizes": sizes, "votes": votes, "valid": valid}


def svy_ratio(
    sample: dict[str, np.ndarray], column: np.ndarray, base: np.ndarray
) -> tuple[float, float]:
    """svy's Taylor ratio for a stratified design of stations (each its own PSU) with an fpc."""
    stratum, sizes = sample["stratum"], sample["sizes"]
    reports = np.bincount(stratum)
    data = pl.DataFrame(
        {
            "stratum": stratum,
            "station": np.arange(len(stratum)),
            "weight": sizes[stratum] / reports[stratum],
            "frame": sizes[stratum],
            "y": column.astype(float),
            "x": base.astype(float),
        }
    )
    design = svy.Design(stratum="stratum", psu="station", wgt="weight", pop_size="frame")
    estimate = svy.Sample(data, design).estimation.ratio("y", "x")
    assert not isinstance(estimate, list)
    row = estimate.to_polars().row(0, named=True)
    return float(row["est"]), float(row["se"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vote_shares_and_their_variance_agree_with_svy(seed: int) -> None:
    sample = stratified_sample(seed)
    fit = combined_ratio(sample["votes"], sample["valid"], sample["stratum"], sample["sizes"])
    for party in range(sample["votes"].shape[1]):
        estimate, error = svy_ratio(sample, sample["votes"][:, party], sample["valid"])
        assert fit.estimate[party] == pytest.approx(estimate, rel=AGREEMENT, abs=AGREEMENT)
        assert np.sqrt(fit.variance[party]) == pytest.approx(error, rel=AGREEMENT, abs=AGREEMENT)


def test_a_stratified_proportion_agrees_with_svy() -> None:
    sample = stratified_sample(4)
    opened_late = (sample["valid"] % 3 == 0).astype(np.int64)
    ones = np.ones(len(opened_late))
    fit = combined_ratio(opened_late, ones, sample["stratum"], sample["sizes"])
    estimate, error = svy_ratio(sample, opened_late, ones)
    assert float(fit.estimate) == pytest.approx(estimate, rel=AGREEMENT, abs=AGREEMENT)
    assert float(np.sqrt(fit.variance)) == pytest.approx(error, rel=AGREEMENT, abs=AGREEMENT)


def test_a_proportion_is_the_textbook_stratified_proportion() -> None:
    # p̂ = Σ W_h p_h, V = Σ W_h² (1 − f_h) p_h (1 − p_h) / (r_h − 1)  (Cochran 5.8 with fpc)
    sizes = np.array([100.0, 50.0])
    stratum = np.array([0, 0, 0, 0, 1, 1, 1])
    late = np.array([1, 0, 0, 1, 1, 1, 0])
    fit = combined_ratio(late, np.ones(7), stratum, sizes)
    share = sizes / sizes.sum()
    p = np.array([0.5, 2 / 3])
    r = np.array([4.0, 3.0])
    expected = np.sum(share**2 * (1 - r / sizes) * p * (1 - p) / (r - 1))
    assert float(fit.estimate) == pytest.approx(share @ p, abs=1e-15)
    assert float(fit.variance) == pytest.approx(expected, rel=1e-12)


def test_a_census_of_every_stratum_has_no_sampling_error() -> None:
    sample = stratified_sample(5)
    full = np.bincount(sample["stratum"]).astype(float)
    fit = combined_ratio(sample["votes"], sample["valid"], sample["stratum"], full)
    assert np.allclose(fit.variance, 0.0, atol=1e-18)
    assert np.allclose(fit.estimate, sample["votes"].sum(axis=0) / sample["valid"].sum())


def test_a_stratum_with_one_report_is_refused_not_estimated() -> None:
    with pytest.raises(ValueError, match="two reports"):
        combined_ratio([1, 2, 3], [4, 5, 6], [0, 0, 1], [10, 10])


def test_the_normal_quantiles_are_the_usual_ones() -> None:
    assert normal_quantile(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert normal_quantile(0.99) == pytest.approx(2.5758293035489004, abs=1e-12)


def test_the_worked_example_of_the_docs_gives_the_numbers_written_there() -> None:
    # docs/estimates.md, "Worked example": North N=6 (3 reported), South N=8 (2 reported).
    votes = [[60, 40], [50, 50], [70, 30], [20, 80], [30, 70]]
    fit = combined_ratio(votes, [100] * 5, [0, 0, 0, 1, 1], [6, 8])
    assert list(fit.estimate) == pytest.approx([0.4, 0.6], abs=1e-15)
    assert fit.variance[0] == pytest.approx(1800 / 1_960_000, rel=1e-12)
    assert round(float(fit.margin(0.95)[0]), 4) == 0.0594
    assert round(float(fit.margin(0.99)[0]), 3) == 0.078


def test_a_region_across_strata_is_the_domain_estimate_svy_gives() -> None:
    from estimates import ReportColumns, Station, build_frame, estimate_results
    from parser import load_forms

    form = load_forms(
        "deployment: t\nlanguages: [en]\nforms:\n  - code: RS\n    kind: checklist\n"
        "    name: R\n    questions:\n      - {tag: A, type: integer, label: A}\n"
        "      - {tag: B, type: integer, label: B}\n    results: {votes: [A, B]}\n"
    ).by_code["RS"]
    sample = stratified_sample(6, columns=2)
    stratum, sizes = sample["stratum"], sample["sizes"]
    # Regions cut across strata (an urban and a rural stratum can share a region); in the
    # stratum of three reports East has one station.
    region = np.where(np.arange(len(stratum)) % 3 == 0, "East", "West")
    stations = [Station(f"s{i}", str(h), None, True, str(region[i])) for i, h in enumerate(stratum)]
    stations += [
        Station(f"u{h}-{j}", str(h), None, False)
        for h in range(len(sizes))
        for j in range(int(sizes[h]) - int(np.sum(stratum == h)))
    ]
    frame = build_frame(stations)
    codes = np.array([f"s{i}" for i in range(len(stratum))])
    reports = ReportColumns(
        station=codes,
        observer=codes,
        order=np.zeros(len(codes)),
        quarantined=np.zeros(len(codes), dtype=bool),
        columns=("A", "B"),
        values=sample["votes"],
    )
    east = estimate_results(frame, reports, form, by_region=True).regions["East"]
    reports_per_stratum = np.bincount(stratum)
    data = pl.DataFrame(
        {
            "stratum": stratum,
            "station": np.arange(len(stratum)),
            "weight": sizes[stratum] / reports_per_stratum[stratum],
            "frame": sizes[stratum],
            "y": sample["votes"][:, 0].astype(float),
            "x": sample["votes"].sum(axis=1).astype(float),
            "region": region,
        }
    )
    design = svy.Design(stratum="stratum", psu="station", wgt="weight", pop_size="frame")
    by_region = svy.Sample(data, design).estimation.ratio("y", "x", by="region")
    assert not isinstance(by_region, list)
    table = by_region.to_polars()
    row = table.filter(pl.col("region") == "East").row(0, named=True)
    assert east.shares is not None
    assert east.shares["A"].estimate == pytest.approx(row["est"], rel=AGREEMENT, abs=AGREEMENT)
    moe = east.shares["A"].moe / normal_quantile(0.95)
    assert moe == pytest.approx(row["se"], rel=AGREEMENT, abs=AGREEMENT)
