"""What keeps the API up for everyone: bounded exports and streams, one event poller per
process, streams that end with their token, token before body, bounded bodies, an atomic
broadcast limit, and the small leaks and costs of the security probe (issue 11, 10-21)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from api import create_app
from api.limits import Slots
from cli.deadline import HeadTimedH11, HeadTimedProtocol
from cli.serve import bind, serve
from parser import Deployment
from store.db import Database
from store.errors import DataRefusedError
from store.queries import tokens
from store.settings import ApiConfig
from tests.api_helpers import Api, make_token_of, open_api


@pytest.fixture
async def api(database: Database, demo: Deployment, tmp_path: Path) -> AsyncIterator[Api]:
    opened = await open_api(database, demo, tmp_path)
    async with opened.client:
        yield opened


def _state(api: Api) -> Any:
    return api.client._transport.app.state.api  # type: ignore[attr-defined]


async def _token_id(api: Api, scope: str) -> int:
    listed = (await api.get("/api/v1/tokens")).json()
    return int(next(t["id"] for t in listed if t["name"] == f"{scope}-token"))


# -- 11: exports ----------------------------------------------------------------------------------


async def test_exports_beyond_a_tokens_share_are_429_and_beyond_all_503_with_retry_after(
    api,
) -> None:
    state = _state(api)
    state.exports = Slots("CSV exports", per_token=2, total=3)
    reader, admin = await _token_id(api, "read"), await _token_id(api, "admin")
    held = [state.exports.take(reader), state.exports.take(reader)]
    url, params = "/api/v1/messages", {"format": "csv"}
    mine = await api.client.get(url, params=params, headers=api.as_("read"))
    assert mine.status_code == 429
    assert mine.json()["error"] == "RATE_LIMITED"
    assert int(mine.headers["Retry-After"]) >= 1
    held.append(state.exports.take(admin))
    everyone = await api.client.get(url, params=params, headers=api.as_("read:pii"))
    assert everyone.status_code == 503
    assert everyone.json()["error"] == "BUSY"
    assert int(everyone.headers["Retry-After"]) >= 1
    assert (await api.get("/api/v1/messages", "read:pii")).status_code == 200  # JSON: unlimited
    for slot in held:
        slot.release()
    for url, extra in (("/api/v1/messages", {}), ("/api/v1/reports", {"form": "OP"}),
                       ("/api/v1/checklists", {"form": "OP"}),
                       ("/api/v1/coverage", {"form": "OP"})):  # fmt: skip
        done = await api.client.get(url, params={**extra, "format": "csv"}, headers=api.as_("read"))
        assert done.status_code == 200, url
    assert state.exports.held() == 0  # each finished export gave its slot back


async def test_a_pool_with_no_connection_to_give_is_a_503_not_a_500(
    database: Database, demo: Deployment, tmp_path: Path
) -> None:
    opened = await open_api(database, demo, tmp_path)
    await opened.client.aclose()
    small = Database(database.url)
    await small.engine.dispose()
    small.engine = create_async_engine(small.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    small.sessions = async_sessionmaker(small.engine, expire_on_commit=False)
    app = create_app(small, ApiConfig(token_cache_s=0, cache_s=0))
    try:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://x") as client,
            small.engine.connect() as held,
        ):
            await held.execute(text("SELECT 1"))
            response = await client.get("/api/v1/reports", headers=opened.as_("read"))
        assert response.status_code == 503
        assert response.json()["error"] == "DATABASE_UNAVAILABLE"
        assert "Retry-After" in response.headers
    finally:
        await small.close()


# -- 12, 13: streams ------------------------------------------------------------------------------


class Served:
    """The test's app on a real uvicorn (ASGITransport would buffer a stream whole)."""

    def __init__(self, api: Api) -> None:
        self.app = api.client._transport.app  # type: ignore[attr-defined]
        self.listener = bind("127.0.0.1", 0)
        self.stop = asyncio.Event()
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.server: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Served:
        self.server = asyncio.create_task(serve(self.app, self.listener, self.stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.server is not None
        await self.server


async def _listen(url: str, token: str, until: Callable[[list[str]], bool],
                  opened: asyncio.Event | None = None) -> list[str]:  # fmt: skip
    """The event names a stream sent until ``until`` says enough, or it ended."""
    names: list[str] = []
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "GET", f"{url}/api/v1/events", headers={"Authorization": f"Bearer {token}"}
        ) as stream,  # fmt: skip
    ):
        async for line in stream.aiter_lines():
            if line.startswith("retry:") and opened is not None:
                opened.set()
            if line.startswith("event: "):
                names.append(line.removeprefix("event: "))
                if until(names):
                    break
    return names


async def test_a_stream_ends_soon_after_its_token_is_revoked_elsewhere(api) -> None:
    state = _state(api)
    state.feed.recheck_s = 0.1
    token = await make_token_of(api.db, "wall-screen", "read:pii")
    async with Served(api) as served:
        opened = asyncio.Event()
        listening = asyncio.create_task(_listen(served.url, token, lambda _: False, opened))
        await asyncio.wait_for(opened.wait(), 10)
        async with api.db.transaction() as session:  # as `shailoo token revoke` would
            listed = await tokens.list_tokens(session)
            wall = next(t["id"] for t in listed if t["name"] == "wall-screen")
            assert await tokens.revoke_token_id(session, wall)
        assert await asyncio.wait_for(listening, 10) == []
    assert state.feed.subscribers == set()


async def test_streams_share_one_database_reader_and_each_gets_every_event(api) -> None:
    readers: list[asyncio.Task[Any] | None] = []
    recording = False

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if recording and "FROM events" in statement:
            readers.append(asyncio.current_task())

    event.listen(api.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with Served(api) as served:
            opened = [asyncio.Event() for _ in range(4)]
            streams = [asyncio.create_task(_listen(served.url, api.tokens[scope],
                                                   lambda names: len(names) == 2, ready))
                       for scope, ready in zip(["read", "read", "read:pii", "admin"], opened,
                                               strict=True)]  # fmt: skip
            await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), 10)
            recording = True
            await api.receive("OP 1234 A1 B250")
            received = await asyncio.wait_for(asyncio.gather(*streams), 10)
    finally:
        event.remove(api.db.engine.sync_engine, "before_cursor_execute", record)
    assert received == [["message", "report"]] * 4
    assert len(readers) >= 1
    assert len(set(readers)) == 1  # one poller task, however many streams


async def test_streams_beyond_a_tokens_share_are_429_and_beyond_all_503(api) -> None:
    state = _state(api)
    state.streams = Slots("event streams", per_token=1, total=2)
    held = [state.streams.take(await _token_id(api, "read"))]
    params = {"follow": "false"}
    mine = await api.client.get("/api/v1/events", params=params, headers=api.as_("read"))
    assert (mine.status_code, mine.json()["error"]) == (429, "RATE_LIMITED")
    held.append(state.streams.take(await _token_id(api, "admin")))
    everyone = await api.client.get("/api/v1/events", params=params, headers=api.as_("read:pii"))
    assert (everyone.status_code, everyone.json()["error"]) == (503, "BUSY")
    assert "Retry-After" in everyone.headers
    for slot in held:
        slot.release()
    assert (await api.get("/api/v1/events", "read", **params)).status_code == 200
    assert state.streams.held() == 0


# -- 16: bodies -----------------------------------------------------------------------------------


async def _asgi(
    app: Any, method: str, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[int, bytes, int]:
    """Call ``app`` directly: its status, body, and how many body chunks it read."""
    read = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read < len(chunks):
            read += 1
            return {"type": "http.request", "body": chunks[read - 1],
                    "more_body": read < len(chunks)}  # fmt: skip
        await asyncio.sleep(3600)  # the client waits for the answer
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "client": ("192.0.2.1", 4321), "server": ("shailoo", 80),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    await asyncio.wait_for(app(scope, receive, send), 10)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body, read


async def test_a_body_without_a_live_token_is_refused_before_a_byte_is_read(api) -> None:
    app = api.client._transport.app  # type: ignore[attr-defined]
    huge = [b"x" * 1_000_000] * 3
    for headers in ({}, {"Authorization": "Bearer shl_00000000_nope"}):
        headers = {**headers, "Content-Type": "application/json"}
        status, body, read = await _asgi(app, "POST", "/api/v1/outbox", headers, huge)
        assert (status, read) == (401, 0)
        assert b'"UNAUTHORIZED"' in body


async def test_bodies_over_the_limit_are_413_and_a_roster_import_may_be_larger(api) -> None:
    app = api.client._transport.app  # type: ignore[attr-defined]
    admin = {**api.as_("admin"), "Content-Type": "application/json"}
    declared = {**admin, "Content-Length": str(10_000_000)}
    status, body, read = await _asgi(app, "POST", "/api/v1/outbox", declared, [b"{}"])
    assert (status, read) == (413, 0)
    assert b'"PAYLOAD_TOO_LARGE"' in body
    chunked = {**admin, "Transfer-Encoding": "chunked"}
    status, body, read = await _asgi(app, "POST", "/api/v1/outbox", chunked,
                                     [b'{"text": "' + b"x" * 40_000] * 3)  # fmt: skip
    assert status == 413
    assert b'"PAYLOAD_TOO_LARGE"' in body
    assert read == 2  # it stopped reading at the chunk that crossed the limit
    stations = [{"code": f"L{n:05}", "name": "School " + "n" * 40, "region": "Osh"}
                for n in range(1500)]  # fmt: skip
    imported = await api.client.post("/api/v1/roster/import", json={"stations": stations},
                                     headers=api.as_("admin"))  # fmt: skip
    assert len(imported.request.content) > _state(api).config.body_max_bytes
    assert imported.status_code == 200, imported.text


# -- 17: the broadcast limit ----------------------------------------------------------------------


async def test_concurrent_broadcasts_cannot_pass_the_hourly_limit_together(api) -> None:
    limit = _state(api).config.broadcasts_per_hour
    answers = await asyncio.gather(*(
        api.client.post("/api/v1/outbox", json={"text": f"n{n}", "all": True},
                        headers=api.as_("admin"))
        for n in range(12)
    ))  # fmt: skip
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [202] * limit + [429] * (12 - limit)


# -- 18: revoking by id ---------------------------------------------------------------------------


async def test_revoking_a_token_by_id_leaves_a_token_named_like_that_id_alone(api) -> None:
    victim_id = await _token_id(api, "read")
    await make_token_of(api.db, str(victim_id), "read")
    gone = await api.client.delete(f"/api/v1/tokens/{victim_id}", headers=api.as_("admin"))
    assert gone.status_code == 204
    listed = {t["name"]: t for t in (await api.get("/api/v1/tokens")).json()}
    assert listed["read-token"]["revoked_at"] is not None
    assert listed[str(victim_id)]["revoked_at"] is None


# -- 19: Last-Event-ID, statement parameters -----------------------------------------------------


@pytest.mark.parametrize("last", ["18446744073709551616", "9223372036854775808", "-1", "1e3"])
async def test_a_last_event_id_that_is_not_one_of_ours_is_a_400(api, last) -> None:
    for follow in ("false", "true"):
        response = await api.client.get(
            "/api/v1/events", params={"follow": follow},
            headers={**api.as_("read"), "Last-Event-ID": last},
        )  # fmt: skip
        assert response.status_code == 400, (last, follow)
        assert response.json()["error"] == "INVALID_CURSOR"
    assert _state(api).streams.held() == 0


async def test_database_errors_never_carry_the_statements_values(database, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DataRefusedError) as raised:  # translated at the store boundary
        async with database.session() as session:
            await session.execute(
                text("SELECT 1 / 0 WHERE :v <> ''"), {"v": "+996555123456 secret"}
            )
    assert isinstance(raised.value.__cause__, DBAPIError)
    assert "division by zero" in str(raised.value)
    assert "secret" not in str(raised.value)
    assert "secret" not in str(raised.value.__cause__)
    assert "secret" not in caplog.text


# -- 20: unknown tokens, slow headers -------------------------------------------------------------


async def test_an_unknown_prefix_costs_one_query_and_one_log_line_for_a_while(api, caplog) -> None:
    looked_up: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM api_tokens" in statement:
            looked_up.append(statement)

    event.listen(api.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        for _ in range(20):
            unknown = {"Authorization": "Bearer shl_abcdef12_x"}
            refused = await api.client.get("/api/v1/forms", headers=unknown)
            assert refused.status_code == 401
    finally:
        event.remove(api.db.engine.sync_engine, "before_cursor_execute", record)
    assert len(looked_up) == 1
    assert caplog.text.count("refused an API token") == 1


@pytest.mark.parametrize("protocol", [HeadTimedProtocol, HeadTimedH11])
async def test_a_client_that_never_finishes_its_headers_is_disconnected(
    api, monkeypatch, protocol
) -> None:
    monkeypatch.setattr(protocol, "header_timeout_s", 0.3)
    monkeypatch.setattr("cli.serve.HeadTimedProtocol", protocol)
    async with Served(api) as served:
        host, port = served.listener.getsockname()[:2]
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: shailoo\r\nX-Slow: ")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server
        writer.close()
        async with httpx.AsyncClient() as client:  # whole requests are answered, kept alive
            for _ in range(3):
                assert (await client.get(f"{served.url}/health")).status_code == 200
                await asyncio.sleep(0.4)  # idle past the deadline: closed, and opened anew


# -- 21: docs without the internet ---------------------------------------------------------------


async def test_the_docs_load_nothing_from_outside(api) -> None:
    page = await api.client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text
    assert "https://" not in page.text
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert asset in page.text
        loaded = await api.client.get(asset)
        assert loaded.status_code == 200
        assert len(loaded.content) > 10_000
