"""``shailoo estimate`` offline: the files a statistician has, one JSON object or a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_api_estimates import FORMS, STATIONS, VOTES
from tests.test_cli import run


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    forms = tmp_path / "forms.yaml"
    forms.write_text(FORMS, encoding="utf-8")
    stations = tmp_path / "stations.csv"
    stations.write_text(
        "code,name,region,registered_voters,in_sample\n"
        + "".join(f"{s['code']},,{s['region']},{s['registered_voters']},"
                  f"{'yes' if s['in_sample'] else 'no'}\n" for s in STATIONS),
        encoding="utf-8",
    )  # fmt: skip
    # The checklists export's columns, as GET /api/v1/checklists?form=RS&format=csv writes them.
    reports = tmp_path / "RS.csv"
    reports.write_text(
        "id,observer_code,form_code,station_code,region,version,updated_at,A,B,F\n"
        + "".join(f"{n},{1000 + n},RS,{code},,1,2026-11-29T20:0{n}:00+00:00,{a},{b},{f}\n"
                  for n, (code, (a, b, f)) in enumerate(VOTES.items())),
        encoding="utf-8",
    )  # fmt: skip
    return {"forms": forms, "stations": stations, "reports": reports}


def _offline(files: dict[str, Path], *extra: str) -> list[str]:
    return ["estimate", "--form", "RS", *(f"--{k}={v}" for k, v in files.items()), *extra]


def test_json_is_one_object_of_the_documented_shape(files: dict[str, Path]) -> None:
    done = run(*_offline(files, "--json"))

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"form", "confidence", "sample", "shares", "turnout"} <= set(result)
    assert result["form"] == "RS"
    assert result["confidence"] == 0.95
    assert {"stations", "reported", "conflicts"} <= set(result["sample"])
    assert result["sample"]["stations"] == 6
    assert set(result["shares"]) == {"A", "B"}
    for interval in [*result["shares"].values(), result["turnout"]]:
        assert set(interval) == {"estimate", "moe", "low", "high"}
        assert 0 <= interval["low"] <= interval["estimate"] <= interval["high"] <= 1
    assert sum(share["estimate"] for share in result["shares"].values()) == pytest.approx(1)


def test_a_higher_confidence_gives_a_wider_margin(files: dict[str, Path]) -> None:
    usual = json.loads(run(*_offline(files, "--json")).stdout)
    sure = json.loads(run(*_offline(files, "--json", "--confidence", "0.99")).stdout)

    assert sure["confidence"] == 0.99
    assert sure["shares"]["A"]["moe"] > usual["shares"]["A"]["moe"]
    assert sure["shares"]["A"]["estimate"] == usual["shares"]["A"]["estimate"]


def test_without_json_a_table_a_person_reads(files: dict[str, Path]) -> None:
    done = run(*_offline(files))

    assert done.returncode == 0, done.stderr
    assert "Party A" in done.stdout
    assert "Turnout" in done.stdout
    assert "95%" in done.stdout


def test_a_stratum_with_one_report_makes_the_estimate_unavailable_with_the_reason(
    files: dict[str, Path],
) -> None:
    lines = files["reports"].read_text(encoding="utf-8").splitlines()
    files["reports"].write_text(
        "\n".join(line for line in lines if ",O1," not in line and ",O2," not in line) + "\n",
        encoding="utf-8",
    )

    result = json.loads(run(*_offline(files, "--json")).stdout)

    assert result["shares"] is None
    assert result["turnout"] is None
    assert any("Osh" in reason for reason in result["reasons"])


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda f: f.pop("reports"), "together"),
        (lambda f: f.update(stations=f["stations"].with_name("missing.csv")), "missing.csv"),
    ],
)
def test_a_wrong_call_is_one_sentence_and_exit_2(files: dict[str, Path], change, says) -> None:
    change(files)

    done = run(*_offline(files))

    assert done.returncode == 2
    assert says in done.stderr
    assert "Traceback" not in done.stderr
