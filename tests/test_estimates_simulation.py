"""The 95 % intervals cover the true result 95 % of the time: a synthetic country, many samples.

A country of 2,400 stations in 6 regions where the parties' strengths differ by region and by
station; a stratified sample of 500 stations (proportional allocation) is drawn again and
again, and each sample goes through the whole estimate (frame, report columns, reduction,
estimator). Each party's interval must contain its true national share in 93-97 % of samples.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from estimates import Frame, ReportColumns, Station, build_frame, estimate_results
from parser import load_forms

PARTIES = ("A", "B", "C", "D", "E")
FORMS = load_forms("""\
deployment: simulation
languages: [en]
forms:
  - code: RS
    kind: checklist
    name: Results
    questions:
      - {tag: A, type: integer, label: A}
      - {tag: B, type: integer, label: B}
      - {tag: C, type: integer, label: C}
      - {tag: D, type: integer, label: D}
      - {tag: E, type: integer, label: E}
      - {tag: F, type: integer, label: Invalid}
    results: {votes: [A, B, C, D, E], invalid: F}
""")
RS = FORMS.by_code["RS"]
REGIONS = 6
STATIONS_PER_REGION = np.array([700, 500, 450, 350, 250, 150])  # 2,400 stations
SAMPLE_PER_REGION = np.array([146, 104, 94, 73, 52, 31])  # 500, proportional
SAMPLES = 1200  # the binomial error of a 95 % coverage is then 0.6 points


def synthetic_country(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Stations with registered voters, turnout, party votes and invalid ballots."""
    region = np.repeat(np.arange(REGIONS), STATIONS_PER_REGION)
    # Each region has its own leader; each station scatters around its region's strengths.
    strengths = rng.dirichlet(np.array([8, 5, 3, 1.5, 0.7]), size=REGIONS)
    station_strengths = np.array([rng.dirichlet(60 * strengths[h]) for h in region])
    registered = rng.integers(400, 3000, size=len(region))
    ballots = rng.binomial(registered, rng.uniform(0.35, 0.75, size=len(region)))
    invalid = rng.binomial(ballots, 0.02)
    votes = np.array(
        [rng.multinomial(n, p) for n, p in zip(ballots - invalid, station_strengths, strict=True)]
    )
    return {"region": region, "registered": registered, "votes": votes, "invalid": invalid}


def draw_samples(rng: np.random.Generator, region: np.ndarray, count: int) -> np.ndarray:
    """``count`` stratified samples at once: (count, 500) station indexes, sorted by region."""
    keys = rng.random((count, len(region)))
    samples = []
    start = 0
    for size, take in zip(STATIONS_PER_REGION, SAMPLE_PER_REGION, strict=True):
        block = np.argpartition(keys[:, start : start + size], take - 1, axis=1)[:, :take]
        samples.append(block + start)
        start += size
    return np.concatenate(samples, axis=1)


@pytest.fixture(scope="module")
def coverage() -> dict[str, float]:
    return simulate(seed=2027)


def simulate(seed: int) -> dict[str, float]:
    """Each party's share of samples whose 95 % interval contains its true share."""
    rng = np.random.default_rng(seed)
    people = synthetic_country(rng)
    truth = people["votes"].sum(axis=0) / people["votes"].sum()
    codes = np.array([f"{h}-{i:04d}" for i, h in enumerate(people["region"])])
    samples = draw_samples(rng, people["region"], SAMPLES)
    values = np.column_stack([people["votes"], people["invalid"]])
    hits = np.zeros(len(PARTIES))
    started = time.perf_counter()
    for chosen in samples:
        # The frame as build_frame makes it from the whole roster, without 2,400 objects a draw.
        frame = Frame(
            codes=tuple(codes[chosen]),
            strata=tuple(str(h) for h in range(REGIONS)),
            stratum=people["region"][chosen],
            registered=people["registered"][chosen].astype(float),
            sizes=STATIONS_PER_REGION.astype(float),
            whole_frame=True,
        )
        reports = ReportColumns(
            station=codes[chosen],
            observer=codes[chosen],
            order=np.zeros(len(chosen)),
            quarantined=np.zeros(len(chosen), dtype=bool),
            columns=(*PARTIES, "F"),
            values=values[chosen],
        )
        result = estimate_results(frame, reports, RS)
        assert result.shares is not None
        hits += [result.shares[party].contains(truth[j]) for j, party in enumerate(PARTIES)]
    elapsed = time.perf_counter() - started
    assert elapsed < 20, f"{SAMPLES} estimates took {elapsed:.1f} s"
    return {party: float(hits[j] / SAMPLES) for j, party in enumerate(PARTIES)}


def test_the_frame_of_the_simulation_is_the_one_build_frame_makes() -> None:
    people = synthetic_country(np.random.default_rng(1))
    chosen = draw_samples(np.random.default_rng(2), people["region"], 1)[0]
    in_sample = np.zeros(len(people["region"]), dtype=bool)
    in_sample[chosen] = True
    frame = build_frame(
        Station(f"{h}-{i:04d}", str(h), int(r), bool(s))
        for i, (h, r, s) in enumerate(
            zip(people["region"], people["registered"], in_sample, strict=True)
        )
    )
    assert frame.strata == tuple(str(h) for h in range(REGIONS))
    assert list(frame.sizes) == list(STATIONS_PER_REGION)
    assert list(frame.sampled) == list(SAMPLE_PER_REGION)


@pytest.mark.parametrize("party", PARTIES)
def test_the_95_percent_interval_covers_the_true_share_95_percent_of_the_time(
    coverage: dict[str, float], party: str
) -> None:
    assert 0.93 <= coverage[party] <= 0.97, coverage
