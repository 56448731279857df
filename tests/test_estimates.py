"""The quick count from frame and reports: who counts, what is left out, and the JSON it gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from estimates import (
    EstimateRequestError,
    Frame,
    ReportColumns,
    ReportRow,
    ResultsEstimate,
    Station,
    build_frame,
    combined_ratio,
    estimate_process,
    estimate_results,
)
from parser import Form, load_forms

FORMS = load_forms("""\
deployment: test
languages: [en]
forms:
  - code: RS
    kind: checklist
    name: Results
    questions:
      - {tag: A, type: integer, label: Party A}
      - {tag: B, type: integer, label: Party B}
      - {tag: F, type: integer, label: Invalid}
      - {tag: G, type: integer, label: Registered}
    results: {votes: [A, B], invalid: F, registered: G}
  - code: OP
    kind: checklist
    name: Opening
    questions:
      - {tag: L, type: choice, label: Opened, options: {1: On time, 2: Late, 3: Not at all}}
      - {tag: M, type: multi, label: Problems, options: {1: Queue, 2: Police, 3: Ink}}
      - {tag: N, type: integer, label: Voters at noon}
""")
RS = FORMS.by_code["RS"]
OP = FORMS.by_code["OP"]
T0 = datetime(2027, 1, 15, 20, 0, tzinfo=UTC)


def country(per_stratum: int = 4, extra_unsampled: int = 6) -> list[Station]:
    """Two regions, ``per_stratum`` sampled stations each and a few that were not sampled."""
    stations = []
    for region in ("North", "South"):
        stations += [Station(f"{region[0]}{i}", region, 1000) for i in range(per_stratum)]
        stations += [
            Station(f"{region[0]}x{i}", region, 1000, in_sample=False)
            for i in range(extra_unsampled)
        ]
    return stations


def result_row(station: str, a: int, b: int, f: int = 10, **kwargs: Any) -> ReportRow:
    return ReportRow(station, {"A": a, "B": b, "F": f}, **kwargs)


def same_votes(row: ReportRow, **kwargs: Any) -> ReportRow:
    """Another observer's (or version's) checklist with ``row``'s numbers."""
    a, b, f = (row.answers[tag] for tag in "ABF")
    assert isinstance(a, int)
    assert isinstance(b, int)
    assert isinstance(f, int)
    return result_row(row.station_code, a, b, f, **kwargs)


def every_station(frame: Frame) -> list[ReportRow]:
    return [
        result_row(code, 300 + 10 * i, 200 + i, observer_code=code)
        for i, code in enumerate(frame.codes)
    ]


def estimate(
    rows: list[ReportRow], frame: Frame | None = None, form: Form = RS, **kwargs: Any
) -> ResultsEstimate:
    frame = frame or build_frame(country())
    return estimate_results(frame, ReportColumns.from_rows(rows, form), form, **kwargs)


def test_shares_and_turnout_are_the_weighted_ratios_of_the_reported_stations() -> None:
    frame = build_frame(country())
    rows = every_station(frame)
    result = estimate(rows, frame)
    votes = np.array([[row.answers["A"], row.answers["B"]] for row in rows], dtype=float)
    expected = combined_ratio(votes, votes.sum(axis=1), frame.stratum, frame.sizes)
    assert result.shares is not None
    assert result.shares["A"].estimate == pytest.approx(expected.estimate[0], abs=1e-12)
    assert result.shares["B"].moe == pytest.approx(
        1.959964 * np.sqrt(expected.variance[1]), rel=1e-6
    )
    assert result.turnout is not None
    ballots = votes.sum(axis=1) + 10
    assert result.turnout.estimate == pytest.approx(ballots.mean() / 1000, abs=1e-12)
    assert (result.sample.stations, result.sample.reported) == (8, 8)


def test_the_json_has_the_documented_shape() -> None:
    payload = json.loads(json.dumps(estimate(every_station(build_frame(country()))).to_json()))
    assert {"form", "confidence", "sample", "shares", "turnout", "reasons"} <= set(payload)
    assert payload["form"] == "RS"
    assert payload["confidence"] == 0.95
    assert {key: payload["sample"][key] for key in ("stations", "reported", "conflicts")} == {
        "stations": 8, "reported": 8, "conflicts": 0,
    }  # fmt: skip
    assert set(payload["shares"]) == {"A", "B"}
    for interval in [*payload["shares"].values(), payload["turnout"]]:
        assert set(interval) == {"estimate", "moe", "low", "high"}
        assert interval["low"] == pytest.approx(interval["estimate"] - interval["moe"])
        assert 0 < interval["estimate"] < 1
    assert payload["reasons"] == []
    assert "official" not in payload


def test_a_higher_confidence_gives_a_wider_interval() -> None:
    rows = every_station(build_frame(country()))
    usual, strict = estimate(rows), estimate(rows, confidence=0.99)
    assert usual.shares is not None
    assert strict.shares is not None
    assert strict.shares["A"].moe / usual.shares["A"].moe == pytest.approx(
        2.575829 / 1.959964, rel=1e-6
    )


def test_a_stratum_with_one_report_makes_the_estimate_unavailable_and_says_why() -> None:
    frame = build_frame(country())
    rows = [row for row in every_station(frame) if row.station_code not in ("S1", "S2", "S3")]
    result = estimate(rows, frame)
    assert result.shares is None
    assert result.turnout is None
    assert result.reasons == (
        "stratum South: 1 of 4 sampled stations reported; at least 2 are needed",
    )
    payload = result.to_json()
    assert payload["shares"] is None
    assert payload["turnout"] is None


def test_a_station_reports_only_when_every_vote_and_invalid_tag_is_answered() -> None:
    frame = build_frame(country())
    rows = every_station(frame)
    rows[0] = ReportRow("N0", {"A": 300, "B": 200})  # no F: not yet reported
    result = estimate(rows, frame)
    assert result.sample.reported == 7


def test_observers_who_disagree_put_their_station_in_conflict_and_out_of_the_estimate() -> None:
    frame = build_frame(country())
    rows = [*every_station(frame), result_row("N1", 999, 1, observer_code="second")]
    result = estimate(rows, frame)
    assert result.sample.conflict_stations == ("N1",)
    assert result.sample.reported == 7
    without = estimate([row for row in rows if row.station_code != "N1"], frame)
    assert result.shares == without.shares


def test_quarantining_one_side_of_a_conflict_resolves_it() -> None:
    frame = build_frame(country())
    rows = [
        *every_station(frame),
        result_row("N1", 999, 1, observer_code="second", quarantined=True),
    ]
    result = estimate(rows, frame)
    assert result.sample.conflict_stations == ()
    assert result.sample.reported == 8
    assert result.sample.quarantined_rows == 1


def test_observers_who_agree_count_their_station_once() -> None:
    frame = build_frame(country())
    rows = every_station(frame)
    twice = [*rows, same_votes(rows[1], observer_code="2nd")]
    assert estimate(twice, frame).shares == estimate(rows, frame).shares


def test_an_observers_latest_checklist_replaces_the_earlier_one() -> None:
    frame = build_frame(country())
    rows = every_station(frame)
    old = result_row("N1", 999, 1, observer_code="N1", updated_at=T0 - timedelta(hours=1))
    new = same_votes(rows[1], observer_code="N1", updated_at=T0)
    changed = [*rows[:1], new, old, *rows[2:]]
    assert estimate(changed, frame).sample.conflict_stations == ()
    assert estimate(changed, frame).shares == estimate(rows, frame).shares


def test_rows_for_stations_outside_the_sample_are_ignored_and_counted() -> None:
    frame = build_frame(country())
    rows = [*every_station(frame), result_row("Nx1", 1, 999), result_row("nowhere", 1, 999)]
    result = estimate(rows, frame)
    assert result.sample.outside_sample_rows == 2
    assert result.shares == estimate(every_station(frame), frame).shares


def test_the_registered_count_of_the_form_wins_over_the_roster() -> None:
    frame = build_frame(country())
    rows = [ReportRow(row.station_code, {**row.answers, "G": 2000}) for row in every_station(frame)]
    halved = estimate(rows, frame).turnout
    roster = estimate(every_station(frame), frame).turnout
    assert halved is not None
    assert roster is not None
    assert halved.estimate == pytest.approx(roster.estimate / 2)


def test_without_frame_sizes_the_estimate_says_where_to_get_them() -> None:
    sample_only = [station for station in country() if station.in_sample]
    frame = build_frame(sample_only)
    result = estimate(every_station(frame), frame)
    assert result.shares is None
    assert "import the whole frame" in result.reasons[0]
    declared = build_frame(sample_only, sizes={"North": 10, "South": 10})
    assert (
        estimate(every_station(declared), declared).shares
        == estimate(every_station(frame), build_frame(country())).shares
    )


def test_a_declared_size_smaller_than_the_sample_is_a_reason() -> None:
    frame = build_frame([s for s in country() if s.in_sample], sizes={"North": 3, "South": 10})
    assert frame.problems == ("stratum North: 4 stations sampled but only 3 declared in the frame",)


def test_official_shares_are_checked_against_the_intervals() -> None:
    rows = every_station(build_frame(country()))
    result = estimate(rows, official={"A": 0.2, "turnout": 0.6})
    assert result.shares is not None
    inside = result.shares["A"].estimate
    checked = estimate(rows, official={"A": inside, "B": 0.2}).to_json()["official"]
    assert checked == {
        "A": {"official": inside, "inside": True},
        "B": {"official": 0.2, "inside": False},
    }
    assert result.official["A"].inside is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"official": {"F": 0.1}}, "not a vote tag"),
        ({"official": {"A": 41.0}}, "fraction from 0 to 1"),
        ({"confidence": 95}, "between 0 and 1"),
        ({"form": OP}, "declares no results"),
    ],
)
def test_a_request_that_makes_no_sense_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(EstimateRequestError, match=message):
        estimate([], **kwargs)


def test_process_shares_are_the_stratified_share_of_stations_with_each_option() -> None:
    frame = build_frame(country())
    late = {"N0", "S0", "S1"}
    rows = [
        ReportRow(code, {"L": 2 if code in late else 1, "M": [1, 3] if code[0] == "N" else [2]})
        for code in frame.codes
    ]
    result = estimate_process(frame, ReportColumns.from_rows(rows, OP), OP)
    opened = result.questions["L"]
    assert opened.options is not None
    assert opened.options[2].estimate == pytest.approx(0.5 * 1 / 4 + 0.5 * 2 / 4)
    assert opened.options[3].estimate == 0
    problems = result.questions["M"].options
    assert problems is not None
    assert {code: problems[code].estimate for code in problems} == pytest.approx(
        {1: 0.5, 2: 0.5, 3: 0.5}
    )
    assert set(result.questions) == {"L", "M"}
    assert (
        result.to_json()["questions"]["L"]["options"]["2"]["estimate"] == opened.options[2].estimate
    )


def test_a_process_question_in_conflict_leaves_the_station_out_of_that_question_only() -> None:
    frame = build_frame(country())
    rows = [ReportRow(code, {"L": 1, "M": [1]}, observer_code="a") for code in frame.codes]
    rows.append(ReportRow("N0", {"L": 2, "M": [1]}, observer_code="b"))
    result = estimate_process(frame, ReportColumns.from_rows(rows, OP), OP)
    assert result.questions["L"].stations == 7
    assert result.questions["M"].stations == 8
    assert result.sample.conflict_stations == ("N0",)


def test_by_region_gives_each_region_the_estimate_of_its_own_stratum() -> None:
    frame = build_frame(country())
    rows = every_station(frame)
    result = estimate(rows, frame, by_region=True)
    assert set(result.regions) == {"North", "South"}
    north = result.regions["North"]
    votes = np.array([[row.answers["A"], row.answers["B"]] for row in rows[:4]], dtype=float)
    alone = combined_ratio(votes, votes.sum(axis=1), np.zeros(4, dtype=np.int64), [10.0])
    assert north.shares is not None
    assert north.shares["A"].estimate == pytest.approx(alone.estimate[0], abs=1e-12)
    assert north.shares["A"].moe == pytest.approx(1.959964 * np.sqrt(alone.variance[0]), rel=1e-6)
    assert (north.sample.stations, north.sample.reported) == (4, 4)
    assert [stratum.stratum for stratum in north.sample.strata] == ["North"]
    payload = result.to_json()
    assert set(payload["regions"]) == {"North", "South"}
    assert "official" not in payload["regions"]["North"]


def test_a_region_short_of_reports_is_unavailable_on_its_own() -> None:
    frame = build_frame(country())
    rows = [row for row in every_station(frame) if row.station_code not in ("S1", "S2", "S3")]
    result = estimate(rows, frame, by_region=True)
    assert result.regions["North"].shares is not None
    assert result.regions["South"].shares is None
    assert result.regions["South"].reasons[0].startswith("stratum South: 1 of 4")


def test_without_by_region_there_are_no_regions_in_the_json() -> None:
    assert "regions" not in estimate(every_station(build_frame(country()))).to_json()


def test_process_shares_by_region() -> None:
    frame = build_frame(country())
    rows = [ReportRow(code, {"L": 2 if code == "N0" else 1, "M": [1]}) for code in frame.codes]
    result = estimate_process(frame, ReportColumns.from_rows(rows, OP), OP, by_region=True)
    north = result.regions["North"].questions["L"].options
    assert north is not None
    assert north[2].estimate == pytest.approx(0.25)
    assert result.regions["North"].questions["L"].stations == 4


def test_turnout_without_registered_voters_says_so_and_leaves_the_shares_alone() -> None:
    unknown = [
        Station(station.code, station.stratum, None, station.in_sample) for station in country()
    ]
    frame = build_frame(unknown)
    result = estimate(every_station(frame), frame)
    assert result.shares is not None
    assert result.turnout is None
    assert result.reasons == (
        "turnout: stratum North: 0 of 4 sampled stations reported with their registered "
        "voters known; at least 2 are needed",
        "turnout: stratum South: 0 of 4 sampled stations reported with their registered "
        "voters known; at least 2 are needed",
    )


def test_a_declared_stratum_with_no_sampled_station_makes_the_estimate_unavailable() -> None:
    sample = [station for station in country() if station.in_sample]
    frame = build_frame(sample, sizes={"North": 10, "South": 10, "Abroad": 25})
    result = estimate(every_station(frame), frame)
    assert result.shares is None
    assert result.reasons == ("stratum Abroad: none of its 25 stations was sampled",)


def test_the_order_of_the_rows_does_not_matter_when_they_carry_their_time() -> None:
    frame = build_frame(country())
    # Each observer sent a first count, then corrected it five minutes later.
    rows = [
        same_votes(row, observer_code=f"o-{row.station_code}", updated_at=T0)
        for row in every_station(frame)
    ]
    rows += [
        result_row(code, 1, 1, observer_code=f"o-{code}", updated_at=T0 - timedelta(minutes=5))
        for code in frame.codes
    ]
    expected = estimate(rows, frame).to_json()
    for seed in range(5):
        shuffled = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
        assert estimate(shuffled, frame).to_json() == expected
    assert expected["sample"]["conflicts"] == 0
    assert expected["shares"] == estimate(rows[: len(frame.codes)], frame).to_json()["shares"]
