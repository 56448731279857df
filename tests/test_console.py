"""The console over HTTP: signing in, what each scope is shown, CSRF, quarantine, languages.

The browser's own view (live updates, console errors, screenshots) is in
``test_console_browser.py``; these run without one.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from api import console
from api.console.i18n import translations
from api.console.messages import Segment, highlighted
from parser import Deployment
from store import repository
from store.db import Database
from tests.api_helpers import OBSERVERS, Api, open_api
from tests.console_helpers import two_reports_a_region

PAGES = ["/", "/messages", "/reports", "/estimates", "/modems", "/observers?q=1234"]
# Not inside a longer word: the pages' CSRF values are 64 hex digits, which hold "996" and three
# more digits about once in 300 pages.
PHONE_DIGITS = re.compile(r"(?<![0-9A-Za-z])\+?996\d{3}")
COMMENT = "police came"
PYPROJECT = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text("utf-8"))


@pytest.fixture
async def api(database: Database, demo: Deployment, tmp_path: Path) -> AsyncIterator[Api]:
    opened = await open_api(database, demo, tmp_path)
    async with opened.client:
        yield opened


@asynccontextmanager
async def signed_in(api: Api, scope: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same app holding a console session for a token of ``scope``."""
    transport = api.client._transport  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://shailoo") as browser:
        response = await browser.post("/sign-in", data={"token": api.tokens[scope]})
        assert response.status_code == 303
        yield browser


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


async def test_pages_send_a_browser_without_a_session_to_sign_in(api) -> None:
    for page in PAGES:
        response = await api.client.get(page)
        assert response.status_code == 303, page
        assert response.headers["location"] == "/sign-in"


async def test_signing_in_keeps_the_token_in_an_httponly_strict_cookie(api) -> None:
    response = await api.client.post("/sign-in", data={"token": api.tokens["read"]})
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303
    assert "shailoo_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie


async def test_an_unknown_token_is_refused_on_the_sign_in_page(api) -> None:
    response = await api.client.post("/sign-in", data={"token": "shl_00000000_nope"})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert 'role="alert"' in response.text


async def test_every_page_renders_for_every_scope_with_a_strict_content_policy(api) -> None:
    await api.receive("OP 1234 A1 B250")
    for scope in ("read", "read:pii", "admin"):
        async with signed_in(api, scope) as browser:
            for page in [*PAGES, "/messages/1", "/reports/1"]:
                response = await browser.get(page)
                assert response.status_code == 200, (scope, page)
                policy = response.headers["content-security-policy"]
                assert "default-src 'self'" in policy
                assert "script-src 'self'" in policy


async def test_a_read_token_is_shown_no_phone_number_no_name_and_no_comment(api) -> None:
    await api.receive(f"IN 1234 K4 @ {COMMENT}")
    await api.receive("OP 5678 A1 Z9", observer="5678", reference=2)
    async with signed_in(api, "read") as browser:
        for page in [*PAGES, "/observers?q=S002", "/messages/1", "/messages/2", "/reports/1"]:
            text = (await browser.get(page)).text
            assert not PHONE_DIGITS.search(text), page
            assert COMMENT not in text, page
            assert not any(o["name"] in text for o in OBSERVERS), page
    async with signed_in(api, "read:pii") as browser:
        assert COMMENT in (await browser.get("/reports")).text
        assert OBSERVERS[0]["phones"][0] in (await browser.get("/observers?q=1234")).text


async def test_missing_stations_list_their_observers_and_coverage_counts_reports(api) -> None:
    await api.receive("OP 1234 A1 B250")
    async with signed_in(api, "read:pii") as browser:
        page = (await browser.get("/?form=OP")).text
    assert "1/3 (33%)" in page
    missing = page.split('id="missing-count">')[1]
    assert missing.startswith("2<")
    assert "+996700111222" in page  # Bakyt at S002 has not reported: ring him
    assert "S001</td>" not in page


async def test_a_message_page_highlights_the_span_of_each_parse_error(api) -> None:
    await api.receive("OP 1234 A1 Z9")
    async with signed_in(api, "read:pii") as browser:
        page = (await browser.get("/messages/1")).text
    assert re.search(r"<mark title=\"[A-Z_]+\">Z9</mark>", page), page


async def test_quarantine_needs_the_session_csrf_value_and_changes_the_api_answer(api) -> None:
    await api.receive("OP 1234 A1 B250")
    async with signed_in(api, "admin") as browser:
        csrf = csrf_of((await browser.get("/reports/1")).text)
        form = {"action": "quarantine", "reason": "wrong station"}
        forged = await browser.post("/reports/1/quarantine", data={**form, "csrf": "0" * 64})
        assert forged.status_code == 403
        elsewhere = await browser.post("/reports/1/quarantine", data={**form, "csrf": csrf},
                                       headers={"Origin": "http://evil.example"})  # fmt: skip
        assert elsewhere.status_code == 403
        assert (await api.get("/api/v1/reports/1")).json()["quarantined"] is False
        done = await browser.post("/reports/1/quarantine", data={**form, "csrf": csrf})
        assert done.status_code == 303
        assert (await api.get("/api/v1/reports/1")).json()["quarantined"] is True
        again = await browser.post("/reports/1/quarantine", data={**form, "csrf": csrf})
        assert again.status_code == 409
        released = {"action": "release", "reason": "checked by phone", "csrf": csrf}
        assert (await browser.post("/reports/1/quarantine", data=released)).status_code == 303
    report = (await api.get("/api/v1/reports/1")).json()
    assert report["quarantined"] is False
    assert [c["actor"] for c in report["quarantine_history"]] == ["admin-token", "admin-token"]


async def test_only_admin_may_quarantine_or_send(api) -> None:
    await api.receive("OP 1234 A1 B250")
    async with signed_in(api, "read:pii") as browser:
        page = (await browser.get("/reports/1")).text
        assert "quarantine-button" not in page
        csrf = csrf_of(page)
        refused = await browser.post("/reports/1/quarantine",
                                     data={"reason": "nope", "csrf": csrf})  # fmt: skip
        assert refused.status_code == 403
        sent = await browser.post("/observers/1234/sms", data={"text": "hi", "csrf": csrf})
        assert sent.status_code == 403
    queued = (await api.get("/api/v1/outbox")).json()["items"]
    assert [m for m in queued if m["broadcast_id"] is not None] == []


async def test_an_admin_sends_one_sms_to_an_observer_through_the_outbox(api) -> None:
    async with signed_in(api, "admin") as browser:
        csrf = csrf_of((await browser.get("/observers?q=1234")).text)
        sent = await browser.post("/observers/1234/sms",
                                  data={"text": "Please send OP now", "csrf": csrf})  # fmt: skip
        assert sent.status_code == 303
    queued = (await api.get("/api/v1/outbox")).json()["items"]
    assert [(m["recipient"], m["text"]) for m in queued if m["broadcast_id"]] == [
        ("+996555123456", "Please send OP now")
    ]


async def test_sign_out_forgets_the_session(api) -> None:
    async with signed_in(api, "read") as browser:
        csrf = csrf_of((await browser.get("/")).text)
        forged = await browser.post("/sign-out", data={"csrf": "0" * 64})
        assert forged.status_code == 403
        assert (await browser.get("/")).status_code == 200  # still signed in
        out = await browser.post("/sign-out", data={"csrf": csrf})
        assert out.status_code == 303
        assert "shailoo_session=\"\"" in out.headers["set-cookie"] or "Max-Age=0" in \
            out.headers["set-cookie"]  # fmt: skip
        assert (await browser.get("/")).status_code == 303


async def test_the_language_is_chosen_per_browser(api) -> None:
    async with signed_in(api, "read") as browser:
        assert "<h1>Камтуу</h1>" in (await browser.get("/")).text  # Kyrgyz until chosen
        chosen = await browser.get("/language/ru", params={"back": "/messages"})
        assert chosen.headers["location"] == "/messages"
        assert "Сообщения" in (await browser.get("/messages")).text
        await browser.get("/language/ky")
        assert "Билдирүүлөр" in (await browser.get("/messages")).text
        await browser.get("/language/en")
        assert "<h1>Messages</h1>" in (await browser.get("/messages")).text
        assert (await browser.get("/language/ky", params={"back": "//evil.example"})).status_code \
            == 422  # fmt: skip


async def test_the_estimates_page_draws_process_findings_with_error_bars(api) -> None:
    await two_reports_a_region(api)
    async with signed_in(api, "read") as browser:
        page = (await browser.get("/estimates?form=OP")).text
        region = (await browser.get("/estimates?form=OP&region=Osh")).text
    assert page.count('class="error-bar"') >= 2  # question A: Yes and No
    assert "70.0% ±" in page  # Chui 2/2 yes; Osh 1/2, weighted by its 3 stations
    assert "<strong>4/4</strong>" in page
    assert "<strong>2/2</strong>" in region
    assert "50.0% ±" in region


async def test_the_live_feed_needs_a_session(api) -> None:
    response = await api.client.get("/console/events")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"


def test_every_text_of_the_pages_is_translated_to_kyrgyz_and_russian() -> None:
    templates = Path(console.__file__).parent / "templates"
    wanted = {
        text
        for page in templates.glob("*.html")
        for text in re.findall(r'_\("([^"]+)"\)', page.read_text(encoding="utf-8"))
    }
    for language in ("ky", "ru"):
        catalog = translations(language)
        missing = sorted(text for text in wanted if catalog.gettext(text) == text)
        assert missing == [], language


def test_the_package_data_globs_ship_every_console_file() -> None:
    root = Path(console.__file__).parent
    globs = PYPROJECT["tool"]["setuptools"]["package-data"]["api"]
    shipped = [p for p in root.rglob("*") if p.is_file() and p.suffix != ".py"
               and "__pycache__" not in p.parts]  # fmt: skip
    assert shipped
    for path in shipped:
        relative = path.relative_to(root.parent).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in globs), relative


def test_an_error_span_is_highlighted_where_it_lies() -> None:
    errors = [{"code": "UNKNOWN_QUESTION", "span": [11, 13]}, {"code": "MISSING", "span": [13, 13]}]
    assert highlighted("OP 5678 A1 Z9", errors) == [
        Segment("OP 5678 A1 "),
        Segment("Z9", ("UNKNOWN_QUESTION",)),
    ]


async def test_the_modems_page_shows_queues_and_hides_the_sim_from_read(api) -> None:
    async with api.db.transaction() as session:
        await repository.upsert_modem(
            session, imsi="437051234567890", imei="356938035643809", device="/dev/ttyUSB0",
            label="", status={"state": "ready", "signal_dbm": -71, "spool": 4, "set_aside": 2,
                              "storages": [{"name": "SM", "used": 3, "total": 30}]},
        )  # fmt: skip
    async with signed_in(api, "admin") as browser:
        page = (await browser.get("/modems")).text
        assert '<p class="big" id="spool">4</p>' in page
        assert '<strong id="set-aside">2</strong>' in page
        assert "437051234567890" in page
        assert "SM 3/30" in page
    async with signed_in(api, "read") as browser:
        page = (await browser.get("/modems")).text
        assert "437051234567890" not in page
        assert "356938035643809" not in page
        assert "/dev/ttyUSB0" not in page
