"""What each scope sees: a `read` token never gets free text, SIM identities or whole phone
numbers, in any route, as JSON, CSV or events; and a CSV cell never runs as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.visibility import mask_phone
from parser import Deployment
from store import repository
from store.db import Database
from tests.api_helpers import Api, open_api


@pytest.fixture
async def api(database: Database, demo: Deployment, tmp_path: Path) -> AsyncIterator[Api]:
    opened = await open_api(database, demo, tmp_path)
    async with opened.client:
        yield opened


IMSI, IMEI, DEVICE = "437059999999999", "359999999999999", "/dev/secret-modem"
COMMENT, REASON = "zebracomment", "zebrareason"
# Nothing of these may reach a `read` token: free text, who quarantined, SIM identities, and
# phone numbers whole or with more than the first four characters ("+99655..." was shown).
SECRETS = [COMMENT, REASON, "admin-token", IMSI, IMEI, DEVICE, "+996555123456", "+99655",
           "555123456"]  # fmt: skip


async def _everything_there_is(api: Api) -> int:
    await api.receive(f"IN 1234 K4 @ {COMMENT}")
    async with api.db.transaction() as session:
        await repository.upsert_modem(session, imsi=IMSI, imei=IMEI, label="", device=DEVICE,
                                      status={"state": "ready", "signal_dbm": -70, "spool": 0,
                                              "storages": [{"name": "SM", "used": 1,
                                                            "total": 30}]})  # fmt: skip
    report = (await api.get("/api/v1/reports", form="IN")).json()["items"][0]
    url = f"/api/v1/reports/{report['id']}/quarantine"
    quarantined = await api.client.post(url, json={"reason": REASON}, headers=api.as_("admin"))
    assert quarantined.status_code == 200
    return int(report["id"])


def _read_urls(api: Api, report_id: int, message_id: int, checklist_id: int) -> list[str]:
    """Every GET route with concrete path and query, CSV too where a route has it."""
    schema = api.client._transport.app.openapi()  # type: ignore[attr-defined]
    values = {"message_id": message_id, "report_id": report_id, "checklist_id": checklist_id,
              "code": "S001"}  # fmt: skip
    urls = []
    for path, item in schema["paths"].items():
        if "get" not in item:
            continue
        names = {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "query"}
        url = path.format(**{name: values[name] for name in values if f"{{{name}}}" in path})
        query = {"form": "IN"} if "form" in names else {}
        if "follow" in names:
            query |= {"follow": "false", "after": "0"}
        urls.append(url + "?" + "&".join(f"{k}={v}" for k, v in query.items()))
        if "format" in names:
            urls.append(urls[-1] + "&format=csv")
    return urls


async def test_a_read_token_sees_no_free_text_sim_identity_or_whole_number_anywhere(api) -> None:
    report_id = await _everything_there_is(api)
    detail = (await api.get(f"/api/v1/reports/{report_id}")).json()
    checklists = (await api.get("/api/v1/checklists")).json()["items"]
    urls = _read_urls(api, report_id, detail["message_id"],
                      checklists[0]["id"] if checklists else 1)  # fmt: skip
    assert len(urls) >= 20
    walked = 0
    for url in urls:
        response = await api.client.get(url, headers=api.as_("read"))
        if response.status_code in (403, 404, 422):  # not for read, or not for form IN
            continue
        assert response.status_code in (200, 503), (url, response.text)
        walked += 1
        for secret in SECRETS:
            assert secret not in response.text, (url, secret)
    assert walked >= 18
    # ...while read:pii sees it all, so the walk above had something to hide.
    full = (await api.get(f"/api/v1/reports/{report_id}", "read:pii")).json()
    assert full["comment"] == COMMENT
    assert full["quarantine_history"][0]["actor"] == "admin-token"
    modems = (await api.get("/api/v1/modems", "read:pii")).json()
    assert (modems[0]["imsi"], modems[0]["imei"], modems[0]["device"]) == (IMSI, IMEI, DEVICE)


async def test_modems_keep_a_name_that_says_nothing_of_the_sim(api) -> None:
    await _everything_there_is(api)
    modem = (await api.get("/api/v1/modems", "read")).json()[0]
    assert modem["name"] == "modem 1"
    assert (modem["imsi"], modem["imei"], modem["device"]) == (None, None, None)
    metrics = (await api.get("/metrics", "read")).text
    assert 'shailoo_modem_signal_dbm{modem="modem 1"} -70.0' in metrics
    ready = (await api.get("/ready", "read")).json()["checks"]["modems"]
    assert ready == [{"name": "modem 1", "imsi": None, "device": None, "up": True,
                      "state": "ready"}]  # fmt: skip


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+996555123456", "+996*******56"),
        ("996555123456", "9965******56"),
        ("555123456", "5******56"),
        ("12345678", "******78"),
        ("1234567", "*******"),
        ("+4917", "*****"),
        ("", ""),
    ],
)
def test_a_masked_number_shows_at_most_four_leading_and_two_trailing_characters(
    phone, masked
) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone", ["+996555123456", "+79161234567", "12345678", "5551234567890"])
def test_a_masked_number_always_hides_at_least_six_characters(phone) -> None:
    shown = mask_phone(phone)
    assert len(shown) == len(phone)
    assert shown.count("*") >= 6
    assert shown[:5] != phone[:5]


# -- CSV formula injection ----------------------------------------------------------------------


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


async def test_csv_cells_that_would_run_as_formulas_are_quoted_but_numbers_stay(api) -> None:
    async with api.db.transaction() as session:
        await repository.upsert_stations(session, [
            {"code": "S001", "name": '=HYPERLINK("http://evil","x")',
             "region": "+cmd|' /C calc'!A0", "district": "@SUM(1)", "registered_voters": 1,
             "in_sample": True},
            {"code": "-S9", "name": "\tTabbed", "region": "\rReturn", "district": "-2+3",
             "registered_voters": 1, "in_sample": True},
        ])  # fmt: skip
    await api.receive("OP 1234 A1 B250")
    coverage = _csv((await api.get("/api/v1/coverage", form="OP", format="csv")).text)
    rows = {row[0]: row for row in coverage[1:]}
    assert rows["S001"][1:4] == ["'=HYPERLINK(\"http://evil\",\"x\")", "'+cmd|' /C calc'!A0",
                                 "'@SUM(1)"]  # fmt: skip
    assert rows["'-S9"][1:4] == ["'\tTabbed", "'\rReturn", "'-2+3"]
    messages = _csv((await api.get("/api/v1/messages", "read:pii", format="csv")).text)
    sender = messages[1][messages[0].index("sender")]
    assert sender == "+996555123456"  # a sign and digits only: a phone number, kept as it is
    reports = _csv((await api.get("/api/v1/reports", form="OP", format="csv")).text)
    assert reports[1][reports[0].index("region")] == "'+cmd|' /C calc'!A0"


def test_a_signed_number_is_data_and_any_other_formula_start_is_quoted() -> None:
    from api.responses import defused

    cells: dict[Any, Any] = {
        "+996555100001": "+996555100001", "-42": "-42", 42: 42, None: None, "plain": "plain",
        "=1+2": "'=1+2", "+1-2": "'+1-2", "-": "'-", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
    }  # fmt: skip
    assert {cell: defused(cell) for cell in cells} == cells
