"""The offline inputs (stations.csv, the checklists CSV export) and the text table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from estimates import (
    ReportsFileError,
    Station,
    StationsFileError,
    build_frame,
    estimate_process,
    estimate_results,
    read_reports,
    read_stations,
    render_process,
    render_results,
)
from parser import Deployment
from tests.conftest import EXAMPLES
from tests.test_estimates import FORMS

RS = FORMS.by_code["RS"]
OP = FORMS.by_code["OP"]
# The columns GET /api/v1/checklists?form=RS&format=csv sends, BOM included.
EXPORT_HEADER = "\ufeffid,observer_code,form_code,station_code,region,version,updated_at,A,B,F,G"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def stations_csv(tmp_path: Path) -> Path:
    lines = ["code,name,region,registered_voters,in_sample"]
    for region in ("North", "South"):
        lines += [f"{region[0]}{i},School {i},{region},1000,yes" for i in range(3)]
        lines += [f"{region[0]}x{i},Club {i},{region},900,no" for i in range(7)]
    return write(tmp_path, "stations.csv", "\n".join(lines) + "\n")


def test_the_example_roster_reads_as_a_whole_frame() -> None:
    stations = read_stations(EXAMPLES / "roster" / "stations.csv")
    assert stations[0] == Station("001-001", "Bishkek", 1850, in_sample=True, region="Bishkek")
    assert stations[-1] == Station("045-010", "Osh", 640, in_sample=False, region="Osh")
    frame = build_frame(stations)
    assert frame.whole_frame
    assert (frame.strata, list(frame.sizes), list(frame.sampled)) == (
        ("Bishkek", "Chui", "Osh"), [2, 1, 2], [2, 1, 1],
    )  # fmt: skip


def test_a_sample_only_roster_says_the_frame_sizes_are_unknown(tmp_path: Path) -> None:
    frame = build_frame(read_stations(write(tmp_path, "s.csv", "code,region\n1,Osh\n2,Osh\n")))
    assert not frame.whole_frame
    assert "frame sizes are unknown" in frame.problems[0]


def test_a_stratum_column_overrides_the_region(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "code,region,stratum\n1,Osh,Osh city\n2,Osh,\n")
    stations = read_stations(path)
    assert [station.stratum for station in stations] == ["Osh city", "Osh"]
    assert [station.region for station in stations] == ["Osh", "Osh"]
    assert build_frame(stations).region_names == ("Osh",)


def test_without_a_region_column_the_strata_are_the_regions(tmp_path: Path) -> None:
    path = write(tmp_path, "s.csv", "code,stratum\n1,Urban\n2,Rural\n")
    assert build_frame(read_stations(path)).region_names == ("Rural", "Urban")


def test_every_mistake_in_the_stations_file_is_told_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.csv", "code,registered_voters,in_sample\n1,12a,yes\n1,5,maybe\n,3,no\n"
    )
    with pytest.raises(StationsFileError) as caught:
        read_stations(path)
    assert caught.value.problems == (
        f"{path}:2: registered_voters '12a' is not a whole number",
        f"{path}:3: station 1 is listed twice",
        f"{path}:3: in_sample 'maybe' should be yes or no",
        f"{path}:4: the station code is empty",
    )


def test_the_checklists_export_gives_the_same_estimate_as_the_rows(tmp_path: Path) -> None:
    frame = build_frame(read_stations(stations_csv(tmp_path)))
    lines = [EXPORT_HEADER]
    for number, code in enumerate(frame.codes, start=1):
        lines.append(
            f"{number},10{number},RS,{code},x,1,2027-01-15 20:0{number}:00+00:00,"
            f"{300 + number},{200 - number},7,"
        )
    lines.append("99,999,OP,N0,x,1,2027-01-15 21:00:00+00:00,1,1,1,")  # another form: skipped
    reports = read_reports(write(tmp_path, "r.csv", "\n".join(lines) + "\n"), RS)
    result = estimate_results(frame, reports, RS)
    assert result.sample.reported == 6
    assert result.shares is not None
    # Both strata: 10 stations, 3 reported, so equal weights: ΣA / Σ(A + B).
    assert result.shares["A"].estimate == pytest.approx(sum(range(301, 307)) / (6 * 500))
    assert result.turnout is not None


def test_quarantined_rows_of_a_reports_export_are_skipped(tmp_path: Path) -> None:
    frame = build_frame(read_stations(stations_csv(tmp_path)))
    text = "station_code,quarantined,A,B,F\n" + "".join(
        f"{code},False,10,20,1\n" for code in frame.codes
    )
    text += "N0,True,500,1,1\n"
    result = estimate_results(frame, read_reports(write(tmp_path, "r.csv", text), RS), RS)
    assert result.sample.conflict_stations == ()
    assert result.sample.quarantined_rows == 1


def test_a_reports_file_without_a_vote_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "station_code,A,F\nN0,1,2\n")
    with pytest.raises(ReportsFileError) as caught:
        read_reports(path, RS)
    assert caught.value.problems == (
        f"{path}:1: no column b (the first line must name the columns)",
    )


def test_every_bad_cell_of_a_reports_file_is_told_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.csv",
        "station_code,updated_at,quarantined,A,B,F\n"
        "N0,yesterday,no,1,2,3\nN1,,perhaps,x,2,3\n,,,1,2,3\n",
    )
    with pytest.raises(ReportsFileError) as caught:
        read_reports(path, RS)
    assert caught.value.problems == (
        f"{path}:2: updated_at 'yesterday' is not a date and time (ISO 8601)",
        f"{path}:3: A 'x' should be a whole number",
        f"{path}:3: quarantined 'perhaps' should be true or false",
        f"{path}:4: the station code is empty",
    )


def test_multi_answers_are_read_as_codes_joined_by_semicolons(tmp_path: Path) -> None:
    frame = build_frame(read_stations(stations_csv(tmp_path)))
    text = "station_code,L,M\n" + "".join(f"{code},1,1;3\n" for code in frame.codes)
    result = estimate_process(frame, read_reports(write(tmp_path, "r.csv", text), OP), OP)
    shares = result.questions["M"].options
    assert shares is not None
    assert [shares[code].estimate for code in (1, 2, 3)] == [1.0, 0.0, 1.0]


def test_the_text_table_shows_labels_percentages_and_the_strata(tmp_path: Path) -> None:
    frame = build_frame(read_stations(stations_csv(tmp_path)))
    text = "station_code,A,B,F\n" + "".join(
        f"{code},{300 + i},{200 - i},5\n" for i, code in enumerate(frame.codes)
    )
    reports = read_reports(write(tmp_path, "r.csv", text), RS)
    result = estimate_results(frame, reports, RS, official={"A": 0.9})
    table = render_results(result, RS)
    assert table.splitlines()[:2] == [
        "Form RS: quick count at 95% confidence",
        "Sample: 6 of 6 sampled stations reported",
    ]
    assert "A Party A" in table
    assert "Turnout" in table
    assert "NO" in table  # 90 % for A is outside its interval
    assert table.splitlines()[-3:] == [
        "stratum  frame  sampled  reported  conflicts",
        "North       10        3         3          0",
        "South       10        3         3          0",
    ]


def test_an_unavailable_estimate_prints_its_reasons(tmp_path: Path) -> None:
    frame = build_frame(read_stations(stations_csv(tmp_path)))
    result = estimate_results(
        frame, read_reports(write(tmp_path, "r.csv", "station_code,A,B,F\n"), RS), RS
    )
    assert "Unavailable:\n  stratum North: 0 of 3 sampled stations reported" in render_results(
        result
    )
    assert json.loads(json.dumps(result.to_json()))["shares"] is None


def test_the_process_table_names_the_options(tmp_path: Path) -> None:
    frame = build_frame(read_stations(stations_csv(tmp_path)))
    text = "station_code,L,M\n" + "".join(f"{code},2,2\n" for code in frame.codes)
    result = estimate_process(frame, read_reports(write(tmp_path, "r.csv", text), OP), OP)
    table = render_process(result, OP)
    assert "L Opened (6 stations answered)" in table
    assert "2 Late" in table


def test_the_presidential_example_estimates_from_its_own_export(
    tmp_path: Path, presidential: Deployment
) -> None:
    form = presidential.by_code["RS"]
    frame = build_frame(read_stations(stations_csv(tmp_path)))
    tags = [question.tag for question in form.questions]
    lines = ["station_code," + ",".join(tags)]
    for code in frame.codes:
        answers = dict.fromkeys(tags, "") | {
            "A": "1500", "F": "10", "H": "400", "J": "300", "K": "100", "M": "50", "N": "40",
            "P": "30", "Q": "20",
        }  # fmt: skip
        lines.append(code + "," + ",".join(answers[tag] for tag in tags))
    result = estimate_results(
        frame, read_reports(write(tmp_path, "r.csv", "\n".join(lines)), form), form
    )
    assert result.shares is not None
    assert result.shares["H"].estimate == pytest.approx(400 / 940)
    assert result.turnout is not None
    assert result.turnout.estimate == pytest.approx(950 / 1500)


def test_the_text_table_adds_each_region_when_asked(tmp_path: Path) -> None:
    frame = build_frame(read_stations(stations_csv(tmp_path)))
    text = "station_code,A,B,F\n" + "".join(f"{code},300,200,5\n" for code in frame.codes)
    reports = read_reports(write(tmp_path, "r.csv", text), RS)
    table = render_results(estimate_results(frame, reports, RS, by_region=True), RS)
    assert "Region North: 3 of 3 sampled stations reported" in table
    assert "Region South: 3 of 3 sampled stations reported" in table
