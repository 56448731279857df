"""The REST API over a real database: access, resources, paging, CSV, live feed, errors."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cli.serve import bind, serve
from parser import Deployment
from store.db import Database
from tests.api_helpers import Api, open_api


@pytest.fixture
async def api(database: Database, demo: Deployment, tmp_path: Path) -> AsyncIterator[Api]:
    opened = await open_api(database, demo, tmp_path)
    async with opened.client:
        yield opened


# -- access -------------------------------------------------------------------------------------

# Every route and the smallest scope it needs (None: no token at all).
ROUTE_SCOPES = {
    ("GET", "/health"): None,
    ("GET", "/ready"): "read",
    ("GET", "/metrics"): "read",
    ("GET", "/api/v1/messages"): "read",
    ("GET", "/api/v1/messages/{message_id}"): "read",
    ("GET", "/api/v1/reports"): "read",
    ("GET", "/api/v1/reports/{report_id}"): "read",
    ("POST", "/api/v1/reports/{report_id}/quarantine"): "admin",
    ("DELETE", "/api/v1/reports/{report_id}/quarantine"): "admin",
    ("GET", "/api/v1/checklists"): "read",
    ("GET", "/api/v1/checklists/{checklist_id}/versions"): "read",
    ("GET", "/api/v1/coverage"): "read",
    ("GET", "/api/v1/tallies"): "read",
    ("GET", "/api/v1/estimates"): "read",
    ("GET", "/api/v1/estimates/process"): "read",
    ("GET", "/api/v1/stations"): "read",
    ("GET", "/api/v1/stations/{code}"): "read",
    ("POST", "/api/v1/stations"): "admin",
    ("PUT", "/api/v1/stations/{code}"): "admin",
    ("GET", "/api/v1/observers"): "read",
    ("GET", "/api/v1/observers/{code}"): "read",
    ("POST", "/api/v1/observers"): "admin",
    ("PUT", "/api/v1/observers/{code}"): "admin",
    ("POST", "/api/v1/roster/import"): "admin",
    ("GET", "/api/v1/forms"): "read",
    ("POST", "/api/v1/outbox"): "admin",
    ("GET", "/api/v1/outbox"): "admin",
    ("GET", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/tokens"): "admin",
    ("DELETE", "/api/v1/tokens/{token_id}"): "admin",
    ("GET", "/api/v1/modems"): "read",
    ("GET", "/api/v1/events"): "read",
}
LOWER = {"read": [], "read:pii": ["read"], "admin": ["read", "read:pii"]}


def _routes(api: Api) -> list[tuple[str, str]]:
    schema = api.client._transport.app.openapi()  # type: ignore[attr-defined]
    return [(method.upper(), path) for path, item in schema["paths"].items() for method in item]


def _concrete(path: str) -> str:
    for name, value in (("{message_id}", "1"), ("{report_id}", "1"), ("{checklist_id}", "1"),
                        ("{code}", "S001"), ("{token_id}", "999")):  # fmt: skip
        path = path.replace(name, value)
    return path


async def test_every_route_is_in_the_scope_table(api) -> None:
    assert sorted(_routes(api)) == sorted(ROUTE_SCOPES)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTE_SCOPES))
async def test_each_route_refuses_no_token_unknown_tokens_and_smaller_scopes(
    api, method, path
) -> None:
    needed = ROUTE_SCOPES[(method, path)]
    url = _concrete(path)
    if needed is None:
        assert (await api.client.request(method, url)).status_code == 200
        return
    for headers in ({}, {"Authorization": "Bearer shl_00000000_nope"},
                    {"Authorization": "Basic dXNlcjpwYXNz"}):  # fmt: skip
        response = await api.client.request(method, url, headers=headers)
        assert response.status_code == 401, (url, headers)
        assert response.json()["error"] == "UNAUTHORIZED"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    for scope in LOWER[needed]:
        response = await api.client.request(method, url, headers=api.as_(scope))
        assert response.status_code == 403, (url, scope)
        assert response.json() == {
            "error": "FORBIDDEN", "detail": f"this needs a token with scope {needed!r}"
        }  # fmt: skip


async def test_a_revoked_token_is_refused_and_failures_are_logged(api, caplog) -> None:
    assert (await api.get("/api/v1/reports", "read")).status_code == 200
    tokens = (await api.get("/api/v1/tokens")).json()
    reader = next(t for t in tokens if t["scope"] == "read")
    assert "token" not in reader
    assert "secret_sha256" not in reader
    deleted = await api.client.delete(f"/api/v1/tokens/{reader['id']}", headers=api.as_("admin"))
    assert deleted.status_code == 204
    refused = await api.get("/api/v1/reports", "read")
    assert refused.status_code == 401
    assert "refused an API token" in caplog.text
    assert api.tokens["read"] not in caplog.text  # never the secret itself


async def test_a_token_made_through_the_api_works_once_shown(api) -> None:
    made = await api.client.post(
        "/api/v1/tokens", json={"name": "stats", "scope": "read"}, headers=api.as_("admin")
    )
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("shl_")
    listed = (await api.get("/api/v1/tokens")).json()
    assert all("token" not in row for row in listed)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.client.get("/api/v1/forms", headers=headers)).status_code == 200


# -- messages and PII ---------------------------------------------------------------------------


async def test_messages_hide_numbers_and_texts_without_pii_scope(api) -> None:
    await api.receive("OP 1234 A1 B250")
    plain = (await api.get("/api/v1/messages", "read")).json()["items"][0]
    assert plain["sender"] == "+996*******56"
    assert plain["text"] is None
    full = (await api.get("/api/v1/messages", "read:pii")).json()["items"][0]
    assert full["sender"] == "+996555123456"
    assert full["text"] == "OP 1234 A1 B250"
    detail = (await api.get(f"/api/v1/messages/{plain['id']}", "read")).json()
    assert detail["parse"] is None
    assert all(part["pdu_hex"] is None for part in detail["parts_detail"])
    detail = (await api.get(f"/api/v1/messages/{plain['id']}", "read:pii")).json()
    assert detail["parse"]["ok"] is True
    assert detail["parts_detail"][0]["pdu_hex"]
    assert detail["report_id"] is not None


async def test_searching_texts_or_senders_needs_pii_scope(api) -> None:
    await api.receive("OP 1234 A1 B250")
    await api.receive("IN 1234 K4 @ police came", reference=2)
    for params in ({"q": "police"}, {"sender": "+996555123456"}):
        assert (await api.get("/api/v1/messages", "read", **params)).status_code == 403
    found = (await api.get("/api/v1/messages", "read:pii", q="police")).json()["items"]
    assert [m["text"] for m in found] == ["IN 1234 K4 @ police came"]
    by_sender = (await api.get("/api/v1/messages", "read:pii", sender="+996555123456")).json()
    assert len(by_sender["items"]) == 2


async def test_messages_filter_by_status_error_code_form_observer_and_station(api) -> None:
    await api.receive("OP 1234 A1 B250")
    await api.receive("OP 5678 A1 Z9", observer="5678", reference=2)
    await api.receive("IN 9012 K1", observer="9012", reference=3)
    rejected = (await api.get("/api/v1/messages", status="rejected")).json()["items"]
    assert [m["observer_code"] for m in rejected] == ["5678"]
    assert rejected[0]["error_codes"] == ["UNKNOWN_QUESTION"]
    by_code = (await api.get("/api/v1/messages", error_code="UNKNOWN_QUESTION")).json()["items"]
    assert [m["id"] for m in by_code] == [rejected[0]["id"]]
    assert len((await api.get("/api/v1/messages", form="IN")).json()["items"]) == 1
    assert len((await api.get("/api/v1/messages", station="S001")).json()["items"]) == 1
    assert len((await api.get("/api/v1/messages", observer="9012")).json()["items"]) == 1
    assert (await api.get("/api/v1/messages", direction="out")).json()["items"] == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await api.get("/api/v1/messages", since=future)).json()["items"] == []
    assert len((await api.get("/api/v1/messages", until=future)).json()["items"]) == 3


async def test_pages_neither_repeat_nor_skip_while_messages_arrive(api) -> None:
    for number in range(7):
        await api.receive(f"IN 1234 K{number % 5 + 1}", reference=number + 1)
    before = [m["id"] for m in (await api.get("/api/v1/messages", limit=100)).json()["items"]]
    seen: list[int] = []
    cursor = None
    page_number = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/api/v1/messages", **params)).json()
        seen += [m["id"] for m in page["items"]]
        if page_number == 0:  # new messages arrive between the first and second page
            await asyncio.gather(*(api.receive(f"IN 5678 K{n}", "5678", 50 + n)
                                   for n in range(1, 4)))  # fmt: skip
        page_number += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == before
    assert seen == sorted(seen, reverse=True)


async def test_a_cursor_we_did_not_hand_out_is_a_400(api) -> None:
    for cursor in ("nonsense", "djE6LTE", "djI6NQ", "!!!!"):
        response = await api.get("/api/v1/messages", cursor=cursor)
        assert response.status_code == 400
        assert response.json()["error"] == "INVALID_CURSOR"


# -- reports, quarantine, checklists ------------------------------------------------------------


async def test_reports_filter_by_region_and_quarantine_is_reversible_and_logged(api) -> None:
    await api.receive("OP 1234 A1 B250")
    await api.receive("OP 5678 A2 B300", observer="5678", reference=2)
    osh = (await api.get("/api/v1/reports", "read", region="Osh")).json()["items"]
    assert [r["observer_code"] for r in osh] == ["5678"]
    report = osh[0]
    assert report["region"] == "Osh"
    assert report["answers"] == {"A": 2, "B": 300}
    url = f"/api/v1/reports/{report['id']}/quarantine"
    reason = {"reason": "wrong station's numbers"}
    put = await api.client.post(url, json=reason, headers=api.as_("admin"))
    assert put.status_code == 200
    assert put.json()["quarantined"] is True
    again = await api.client.post(url, json=reason, headers=api.as_("admin"))
    assert again.status_code == 409
    assert again.json()["error"] == "CONFLICT"
    assert [r["id"] for r in (await api.get("/api/v1/reports", quarantined="true")).json()[
        "items"]] == [report["id"]]  # fmt: skip
    released = await api.client.delete(url, params={"reason": "checked: fine"},
                                       headers=api.as_("admin"))  # fmt: skip
    body = released.json()
    assert body["quarantined"] is False
    history = [(c["quarantined"], c["reason"], c["actor"]) for c in body["quarantine_history"]]
    assert history == [(True, "wrong station's numbers", "admin-token"),
                       (False, "checked: fine", "admin-token")]  # fmt: skip


async def test_a_missing_report_is_a_404_in_the_error_shape(api) -> None:
    response = await api.get("/api/v1/reports/424242")
    assert response.status_code == 404
    assert response.json() == {"error": "NOT_FOUND", "detail": "no report 424242"}


async def test_checklist_versions_say_which_message_changed_what(api) -> None:
    await api.receive("OP 1234 A1 B250")
    await api.receive("OP 1234 A1 B260 D10", reference=2)
    checklist = (await api.get("/api/v1/checklists", form="OP")).json()["items"][0]
    assert checklist["answers"] == {"A": 1, "B": 260, "D": 10}
    assert checklist["version"] == 2
    assert checklist["region"] == "Chui"
    versions = (await api.get(f"/api/v1/checklists/{checklist['id']}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["changes"] == [
        {"tag": "B", "old": 250, "new": 260}, {"tag": "D", "old": None, "new": 10}
    ]  # fmt: skip
    messages = (await api.get("/api/v1/messages", "read:pii")).json()["items"]
    by_text = {m["text"]: m["id"] for m in messages}
    assert versions[1]["message_id"] == by_text["OP 1234 A1 B260 D10"]


# -- coverage and tallies -----------------------------------------------------------------------


async def test_coverage_lists_every_sampled_station_as_of_a_time(api) -> None:
    await api.receive("OP 1234 A1 B250")
    between = datetime.now(UTC)
    await asyncio.sleep(0.01)
    await api.receive("OP 5678 A1 B300", observer="5678", reference=2)
    now = (await api.get("/api/v1/coverage", "read", form="OP")).json()
    assert [s["station"] for s in now["stations"]] == ["S001", "S002", "S003"]
    assert now["totals"] == {"stations": 3, "reported": 2, "missing": 1, "share": 0.6667}
    assert now["by_region"]["Osh"] == {"stations": 2, "reported": 1, "missing": 1, "share": 0.5}
    earlier = (await api.get("/api/v1/coverage", form="OP", at=between.isoformat())).json()
    assert earlier["totals"]["reported"] == 1
    missing = (await api.get("/api/v1/coverage", form="OP", reported="false")).json()
    assert [s["station"] for s in missing["stations"]] == ["S003"]
    unknown = await api.get("/api/v1/coverage", form="XX")
    assert unknown.status_code == 404
    assert "forms: OP, IN" in unknown.json()["detail"]


async def test_tallies_count_options_and_integers_and_leave_out_quarantine(api) -> None:
    await api.receive("OP 1234 A1 B250 C12 D10")
    await api.receive("OP 5678 A2 B300 C2", observer="5678", reference=2)
    await api.receive("OP 9012 A1 B100 D5", observer="9012", reference=3)
    tally = (await api.get("/api/v1/tallies", "read", form="OP", language="en")).json()
    assert tally["reports"] == 3
    assert tally["reports_by_region"] == {"Chui": 1, "Osh": 2}
    by_tag = {q["tag"]: q for q in tally["questions"]}
    assert by_tag["A"]["total"]["options"] == {"1": 2, "2": 1}
    assert by_tag["A"]["option_labels"] == {"1": "Yes", "2": "No"}
    assert by_tag["C"]["total"] == {"answered": 2, "options": {"1": 1, "2": 2}, "integer": None}
    assert by_tag["B"]["total"]["integer"] == {"sum": 650, "mean": 216.667, "min": 100,
                                               "max": 300}  # fmt: skip
    assert by_tag["B"]["by_region"]["Osh"]["integer"]["max"] == 300
    reports = (await api.get("/api/v1/reports", observer="5678")).json()["items"]
    await api.client.post(f"/api/v1/reports/{reports[0]['id']}/quarantine",
                          json={"reason": "test"}, headers=api.as_("admin"))  # fmt: skip
    after = (await api.get("/api/v1/tallies", form="OP")).json()
    by_tag = {q["tag"]: q for q in after["questions"]}
    assert after["reports"] == 2
    assert by_tag["B"]["total"]["integer"] == {"sum": 350, "mean": 175.0, "min": 100, "max": 250}
    assert by_tag["B"]["by_region"]["Osh"]["integer"]["max"] == 100
    assert by_tag["A"]["total"]["options"] == {"1": 2}


async def test_rebuilt_tallies_equal_the_running_ones(api, demo) -> None:
    from store.tallies import rebuild_tallies

    await api.receive("OP 1234 A1 B250 C12 D10")
    await api.receive("OP 5678 A2 B300 C2", observer="5678", reference=2)
    await api.receive("IN 9012 K14", observer="9012", reference=3)
    running = [(await api.get("/api/v1/tallies", form=f)).json() for f in ("OP", "IN")]
    integers = {form.code: [q.tag for q in form.questions if q.type == "integer"]
                for form in demo.forms}  # fmt: skip
    async with api.db.session() as session:
        await rebuild_tallies(session, integers)
        await session.commit()
    assert [(await api.get("/api/v1/tallies", form=f)).json() for f in ("OP", "IN")] == running


# -- CSV ----------------------------------------------------------------------------------------


def _csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


async def test_csv_exports_have_one_column_per_question(api) -> None:
    await api.receive("OP 1234 A1 B250 C12")
    response = await api.get("/api/v1/reports", "read", form="OP", format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = _csv(response.text)
    assert rows[0][-4:] == ["A", "B", "C", "D"]
    assert rows[1][-4:] == ["1", "250", "1;2", ""]
    checklists = _csv((await api.get("/api/v1/checklists", form="OP", format="csv")).text)
    assert checklists[0][-4:] == ["A", "B", "C", "D"]
    assert len(checklists) == 2
    coverage = _csv((await api.get("/api/v1/coverage", form="OP", format="csv")).text)
    assert coverage[0] == ["station", "name", "region", "district", "reported",
                           "first_report_at", "last_report_at"]  # fmt: skip
    assert [row[4] for row in coverage[1:]] == ["True", "False", "False"]
    messages = _csv((await api.get("/api/v1/messages", "read", format="csv")).text)
    assert messages[1][messages[0].index("text")] == ""  # masked without read:pii
    assert (await api.get("/api/v1/reports", format="csv")).status_code == 422


# -- roster, forms, broadcasts, modems ----------------------------------------------------------


async def test_observers_are_masked_for_readers_and_editable_by_admins(api) -> None:
    listed = (await api.get("/api/v1/observers", "read")).json()["items"]
    assert listed[0] == {"code": "1234", "name": "", "phones": ["+996*******56"],
                         "station_code": "S001", "language": "en"}  # fmt: skip
    new = {"code": "4321", "name": "Dinara", "phones": ["+996555000111"], "station_code": "S003"}
    made = await api.client.post("/api/v1/observers", json=new, headers=api.as_("admin"))
    assert made.status_code == 201
    assert made.json()["name"] == "Dinara"
    twice = await api.client.post("/api/v1/observers", json=new, headers=api.as_("admin"))
    assert twice.status_code == 409
    bad_station = {**new, "station_code": "NOPE"}
    put = await api.client.put("/api/v1/observers/4321", json=bad_station, headers=api.as_("admin"))
    assert put.status_code == 422
    assert "NOPE" in put.json()["detail"]
    imported = await api.client.post("/api/v1/roster/import", headers=api.as_("admin"), json={
        "stations": [{"code": "S004", "region": "Naryn"}],
        "observers": [{"code": "7777", "phones": ["+996555777777"], "station_code": "S004"}],
    })  # fmt: skip
    assert imported.json() == {"stations": 1, "observers": 1}
    page = (await api.get("/api/v1/stations", limit=2)).json()
    rest = (await api.get("/api/v1/stations", cursor=page["next_cursor"], limit=10)).json()
    assert [s["code"] for s in page["items"] + rest["items"]] == [
        "S001", "S002", "S003", "S004", "S900"]  # fmt: skip


async def test_forms_are_served_as_loaded(api, demo) -> None:
    forms = (await api.get("/api/v1/forms", "read")).json()
    assert forms["content_hash"] == demo.content_hash
    assert [f["code"] for f in forms["definition"]["forms"]] == ["OP", "IN"]


async def test_a_broadcast_queues_one_sms_per_observer_and_is_rate_limited(api) -> None:
    send = {"text": "Send CL after the count", "region": "Osh"}
    made = await api.client.post("/api/v1/outbox", json=send, headers=api.as_("admin"))
    assert made.status_code == 202
    assert made.json()["recipients"] == 2
    assert made.json()["audience"] == {"region": "Osh"}
    outbox = (await api.get("/api/v1/outbox", status="pending")).json()["items"]
    assert sorted(row["recipient"] for row in outbox) == ["+996700111222", "+996777333444"]
    assert {row["broadcast_id"] for row in outbox} == {made.json()["id"]}
    both = {"text": "x", "all": True, "region": "Osh"}
    response = await api.client.post("/api/v1/outbox", json=both, headers=api.as_("admin"))
    assert response.status_code == 422
    await api.client.post("/api/v1/outbox", json={"text": "2", "all": True},
                          headers=api.as_("admin"))  # fmt: skip
    limited = await api.client.post("/api/v1/outbox", json={"text": "3", "all": True},
                                    headers=api.as_("admin"))  # fmt: skip
    assert limited.status_code == 429
    assert limited.json()["error"] == "RATE_LIMITED"
    assert "Retry-After" in limited.headers


async def test_modems_show_what_the_gateway_last_reported(api) -> None:
    from store import repository

    async with api.db.session() as session:
        await repository.upsert_modem(session, imsi="437050000000001", imei="35000", label="",
                                      device="/dev/modem0", status={
            "state": "ready", "last_error": None, "spool": 0, "signal_dbm": -71,
            "registration": "home", "operator": "MegaCom",
            "storages": [{"name": "SM", "used": 3, "total": 30}]})  # fmt: skip
        await session.commit()
    modems = (await api.get("/api/v1/modems", "read")).json()
    assert modems[0]["up"] is True
    assert modems[0]["signal_dbm"] == -71
    assert modems[0]["storage"] == {"SM": {"used": 3, "total": 30}}
    ready = await api.get("/ready", "read")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True
    metrics = (await api.get("/metrics", "read")).text
    assert 'shailoo_modem_signal_dbm{modem="modem 1"} -71.0' in metrics
    assert 'shailoo_modem_storage_used{modem="modem 1",storage="SM"}' in metrics


async def test_ready_says_why_when_no_modem_is_up(api) -> None:
    response = await api.get("/ready", "read")
    assert response.status_code == 503
    assert response.json()["error"] == "NOT_READY"
    assert "no modem is up" in response.json()["detail"]


async def test_metrics_count_messages_errors_and_the_outbox(api) -> None:
    await api.receive("OP 1234 A1 B250")
    await api.receive("OP 1234 Z1", reference=2)
    metrics = (await api.get("/metrics", "read")).text
    assert 'shailoo_messages_total{direction="in",status="accepted"} 1.0' in metrics
    assert 'shailoo_parse_errors_total{code="UNKNOWN_QUESTION"} 1.0' in metrics
    assert 'shailoo_outbox{status="pending"} 2.0' in metrics
    assert "shailoo_pipeline_latency_seconds_bucket" in metrics


# -- live feed ----------------------------------------------------------------------------------


async def test_the_event_feed_resumes_after_the_last_event_id(api) -> None:
    await api.receive("OP 1234 A1 B250")
    first = _events((await api.get("/api/v1/events", "read", after=0, follow="false")).text)
    assert [e["event"] for e in first] == ["message", "report"]
    assert '"text":null' in first[0]["data"]
    await api.receive("IN 1234 K4", reference=2)
    resumed = await api.client.get(
        "/api/v1/events", params={"follow": "false"},
        headers={**api.as_("read:pii"), "Last-Event-ID": first[-1]["id"]},
    )  # fmt: skip
    later = _events(resumed.text)
    assert [e["event"] for e in later] == ["message", "report"]
    assert int(later[0]["id"]) > int(first[-1]["id"])
    assert '"text":"IN 1234 K4"' in later[0]["data"]


async def test_a_followed_feed_delivers_new_events_as_they_happen(api) -> None:
    # ASGITransport buffers whole responses, so this one goes through a real uvicorn server.
    app = api.client._transport.app  # type: ignore[attr-defined]
    listener, stop = bind("127.0.0.1", 0), asyncio.Event()
    server = asyncio.create_task(serve(app, listener, stop))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1/events"
    received: list[str] = []

    async def listen() -> None:
        async with (
            httpx.AsyncClient() as client,
            client.stream("GET", url, headers=api.as_("read")) as stream,
        ):
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    received.append(line.removeprefix("event: "))
                    if len(received) == 2:
                        return

    try:
        listening = asyncio.create_task(listen())
        await asyncio.sleep(0.5)  # the stream starts with what happens next
        await api.receive("OP 1234 A1 B250")
        await asyncio.wait_for(listening, 10)
    finally:
        stop.set()
        await server
    assert received == ["message", "report"]


def _events(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append(fields)
    return events


# -- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/messages", {"limit": "0"}),
        ("/api/v1/messages", {"limit": "100000"}),
        ("/api/v1/messages", {"since": "yesterday"}),
        ("/api/v1/messages", {"until": "268"}),
        ("/api/v1/messages", {"stauts": "rejected"}),
        ("/api/v1/messages", {"status": "ok\x00"}),
        ("/api/v1/reports", {"quarantined": "perhaps"}),
        ("/api/v1/reports/99999999999999999999999", {}),
        ("/api/v1/coverage", {}),
        ("/api/v1/tallies", {"form": "OP", "language": "fr"}),
        ("/api/v1/messages", {"format": "xml"}),
    ],
)
async def test_bad_parameters_are_a_422_that_names_the_field(api, url, params) -> None:
    response = await api.client.get(url, params=params, headers=api.as_("admin"))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "INVALID_REQUEST"
    assert body["errors"]
    assert all("field" in e and "message" in e for e in body["errors"])


async def test_unknown_routes_and_methods_answer_in_the_error_shape(api) -> None:
    missing = await api.client.get("/api/v1/nothing", headers=api.as_("read"))
    assert missing.status_code == 404
    assert missing.json()["error"] == "NOT_FOUND"
    wrong = await api.client.patch("/api/v1/reports", headers=api.as_("read"))
    assert wrong.status_code == 405
    assert wrong.json()["error"] == "METHOD_NOT_ALLOWED"
    headers = {**api.as_("admin"), "Content-Type": "application/json"}
    junk = await api.client.post("/api/v1/outbox", content=b"{not json", headers=headers)
    assert junk.status_code == 422
    assert junk.json()["error"] == "INVALID_REQUEST"


async def test_polled_answers_come_from_the_cache_but_never_cross_scopes(api) -> None:
    from api.cache import ResponseCache

    state = api.client._transport.app.state.api  # type: ignore[attr-defined]
    state.cache = ResponseCache(60)
    try:
        await api.receive("OP 1234 A1 B250")
        first = (await api.get("/api/v1/tallies", form="OP")).json()
        await api.receive("OP 5678 A2 B300", observer="5678", reference=2)
        assert (await api.get("/api/v1/tallies", form="OP")).json() == first
        assert first["reports"] == 1
        plain = (await api.get("/api/v1/messages", "read")).json()["items"]
        full = (await api.get("/api/v1/messages", "read:pii")).json()["items"]
        assert plain[0]["text"] is None
        assert full[0]["text"] is not None
    finally:
        await state.cache.close()
