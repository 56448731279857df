"""``/api/v1/estimates``: the quick count from the stations in the database, the same as the
estimator computes from the same rows, with conflicts, quarantine and official figures."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from estimates import ReportColumns, ReportRow, Station, build_frame, estimate_results
from parser import Deployment, load_forms
from store import repository
from store.db import Database
from tests.api_helpers import Api, open_api
from tests.test_cli import SHAILOO

FORMS = """
deployment: quick-count
languages: [en]
observer_id: {min_digits: 4, max_digits: 4}
forms:
  - code: RS
    kind: checklist
    name: Results
    questions:
      - {tag: A, type: integer, label: Party A, min: 0, max: 5000}
      - {tag: B, type: integer, label: Party B, min: 0, max: 5000}
      - {tag: F, type: integer, label: Invalid, min: 0, max: 5000}
    results: {votes: [A, B], invalid: F}
  - code: OP
    kind: checklist
    name: Opening
    questions:
      - {tag: L, type: choice, label: Opened late, options: {1: "Yes", 2: "No"}}
"""

# Two regions; the roster holds the whole frame (stations outside the sample too).
STATIONS = [
    *({"code": f"C{n}", "region": "Chui", "registered_voters": 1000, "in_sample": n < 3}
      for n in range(6)),
    *({"code": f"O{n}", "region": "Osh", "registered_voters": 800, "in_sample": n < 3}
      for n in range(5)),
]  # fmt: skip
VOTES = {"C0": (300, 200, 10), "C1": (250, 250, 5), "C2": (400, 100, 20),
         "O0": (100, 300, 8), "O1": (150, 350, 2), "O2": (120, 280, 6)}  # fmt: skip
OBSERVERS = {f"{1000 + n}": code for n, code in enumerate(VOTES)}
PHONES = {observer: f"+99655510{observer}" for observer in OBSERVERS}


@pytest.fixture
async def counted(database: Database, tmp_path: Path) -> AsyncIterator[Api]:
    deployment = load_forms(FORMS)
    api = await open_api(database, deployment, tmp_path)
    stations = [{"name": "", "district": "", **s} for s in STATIONS]
    observers = [{"code": o, "name": "", "phones": [PHONES[o]], "station_code": s,
                  "language": "en"} for o, s in OBSERVERS.items()]  # fmt: skip
    async with database.transaction() as session:
        # This roster is the whole frame: the API helpers' stations are not part of it.
        await session.execute(text("DELETE FROM observers"))
        await session.execute(text("DELETE FROM stations"))
        await repository.upsert_stations(session, stations)
        await repository.upsert_observers(session, observers)
    for observer, station in OBSERVERS.items():
        a, b, f = VOTES[station]
        await _send(api, observer, f"RS {observer} A{a} B{b} F{f}")
    yield api
    await api.client.aclose()


async def _send(api: Api, observer: str, text: str) -> None:
    from tests.test_pipeline import IMSI, parts_of  # the pipeline tests' own SMS maker

    await api.ingest.store(IMSI, parts_of(text, PHONES[observer], int(observer) % 256))
    await api.pipeline.process_pending([IMSI])


def _expected(deployment: Deployment) -> dict[str, object]:
    frame = build_frame(
        Station(s["code"], s["region"], s["registered_voters"], s["in_sample"], s["region"])
        for s in STATIONS
    )
    rows = [ReportRow(station, {"A": a, "B": b, "F": f}, f"obs-{station}")
            for station, (a, b, f) in VOTES.items()]  # fmt: skip
    form = deployment.form("RS")
    assert form is not None
    return estimate_results(frame, ReportColumns.from_rows(rows, form), form).to_json()


async def test_the_estimate_is_the_estimator_over_the_stored_checklists(counted: Api) -> None:
    answer = await counted.get("/api/v1/estimates", "read", form="RS")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = _expected(load_forms(FORMS))
    shares = expected["shares"]
    assert isinstance(shares, dict)
    for tag, interval in shares.items():
        assert body["shares"][tag] == pytest.approx(interval)
    assert body["turnout"] == pytest.approx(expected["turnout"])
    assert body["sample"]["stations"] == 6
    assert body["sample"]["reported"] == 6
    assert {s["stratum"]: s["frame"] for s in body["sample"]["strata"]} == {"Chui": 6, "Osh": 5}
    share = body["shares"]["A"]
    assert share["low"] < share["estimate"] < share["high"]


async def test_observers_who_disagree_put_their_station_in_conflict_until_one_is_quarantined(
    counted: Api, database: Database
) -> None:
    async with database.transaction() as session:
        await repository.upsert_observers(session, [{
            "code": "2000", "name": "", "phones": ["+996555102000"], "station_code": "C0",
            "language": "en"}])  # fmt: skip
    PHONES["2000"] = "+996555102000"
    await _send(counted, "2000", "RS 2000 A301 B200 F10")

    conflict = (await counted.get("/api/v1/estimates", "read", form="RS")).json()
    assert conflict["sample"]["conflict_stations"] == ["C0"]
    assert conflict["sample"]["reported"] == 5

    listed = (await counted.get("/api/v1/reports", "admin", observer="2000")).json()
    report_id = listed["items"][0]["id"]
    quarantined = await counted.client.post(
        f"/api/v1/reports/{report_id}/quarantine", headers=counted.as_("admin"),
        json={"reason": "typed 301 for 300"},
    )  # fmt: skip
    assert quarantined.status_code == 200, quarantined.text

    settled = (await counted.get("/api/v1/estimates", "read", form="RS")).json()
    assert settled["sample"]["conflicts"] == 0
    assert settled["sample"]["reported"] == 6


async def test_official_figures_are_said_to_lie_inside_or_outside_the_interval(
    counted: Api,
) -> None:
    body = (await counted.get("/api/v1/estimates", "read", form="RS")).json()
    inside = body["shares"]["A"]["estimate"]
    official = f'{{"A": {inside:.6f}, "B": 0.99}}'

    checked = (await counted.get("/api/v1/estimates", "read", form="RS", official=official)).json()

    assert checked["official"]["A"] == {"official": pytest.approx(inside), "inside": True}
    assert checked["official"]["B"]["inside"] is False


async def test_by_region_gives_each_region_its_own_estimate(counted: Api) -> None:
    body = (await counted.get("/api/v1/estimates", "read", form="RS", by="region")).json()

    assert set(body["regions"]) == {"Chui", "Osh"}
    assert body["regions"]["Chui"]["shares"]["A"]["estimate"] > 0.5
    assert body["regions"]["Osh"]["shares"]["A"]["estimate"] < 0.5


async def test_process_questions_are_shares_of_stations(counted: Api) -> None:
    for observer, station in OBSERVERS.items():
        await _send(counted, observer, f"OP {observer} L{1 if station in ('C0', 'O0') else 2}")

    body = (await counted.get("/api/v1/estimates/process", "read", form="OP")).json()

    late = body["questions"]["L"]["options"]["1"]
    assert late["estimate"] == pytest.approx(
        (6 / 3 * 1 + 5 / 3 * 1) / 11  # one sampled station of three in each region, weighted
    )


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"form": "XX"}, 404, "NOT_FOUND"),
        ({"form": "OP"}, 422, "INVALID_REQUEST"),  # declares no results
        ({"form": "RS", "official": "{not json"}, 422, "INVALID_REQUEST"),
        ({"form": "RS", "official": '{"A": 41}'}, 422, "INVALID_REQUEST"),  # not a fraction
        ({"form": "RS", "official": '{"Z": 0.4}'}, 422, "INVALID_REQUEST"),  # no such vote tag
        ({"form": "RS", "confidence": "1.5"}, 422, "INVALID_REQUEST"),
    ],
)
async def test_a_wrong_request_is_a_defined_error(
    counted: Api, query: dict[str, str], status: int, code: str
) -> None:
    answer = await counted.get("/api/v1/estimates", "read", **query)

    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code


async def test_the_command_without_files_reads_the_same_estimate_from_the_database(
    counted: Api, database: Database
) -> None:
    api = (await counted.get("/api/v1/estimates", "read", form="RS")).json()
    env = {**os.environ, "SHAILOO_DATABASE_URL": database.url}

    done = await asyncio.to_thread(
        subprocess.run, [SHAILOO, "estimate", "--form", "RS", "--json"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == api
