"""schemathesis over the OpenAPI document: whatever it sends, no 5xx, and every response is one
the document describes (status, content type, body schema). A real uvicorn server in a thread,
over a real database with a roster, forms, tokens and a few messages."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from cli.serve import bind, serve
from parser import Deployment
from store import repository
from store.db import Database
from tests.api_helpers import open_api
from tests.conftest import _admin, _with_database

EXAMPLES = 20  # per operation and mode: about a minute for the whole API would be too slow
_TRUE = {"true", "1", "yes", "on", "t", "y"}
CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance,
    response_schema_conformance, response_headers_conformance, negative_data_rejection,
]  # fmt: skip


# An invalid body may also be refused for its size (413, the API's body limit) before it is read.
_CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx",
    ],
}}})  # fmt: skip


class ServedApi:
    """The API on a free port, in a thread with its own event loop."""

    def __init__(self, url: str, demo: Deployment, data_dir: Path) -> None:
        self.url, self.demo, self.data_dir = url, demo, data_dir
        self.started = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self.port = 0
        self.admin = ""

    async def _main(self) -> None:
        db = Database(self.url)
        api = await open_api(db, self.demo, self.data_dir)
        for number, text in enumerate(["OP 1234 A1 B250 C12", "IN 1234 K4 @ late", "OP 1234 Z"]):
            await api.receive(text, reference=number + 1)
        await api.client.aclose()
        await _seed_modem(db)
        self.admin = api.tokens["admin"]
        listener = bind("127.0.0.1", 0)
        self.port = listener.getsockname()[1]
        self.loop, self.stop = asyncio.get_running_loop(), asyncio.Event()
        self.started.set()
        try:
            await serve(api.client._transport.app, listener, self.stop)  # type: ignore[attr-defined]
        finally:
            await db.close()

    def __enter__(self) -> ServedApi:
        self.thread.start()
        assert self.started.wait(30), "the API did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


async def _seed_modem(db: Database) -> None:
    """A modem that reported itself ready, so that /ready answers 200 (not a 5xx)."""
    async with db.session() as session:
        await repository.upsert_modem(
            session, imsi="437050000000001", imei="350000000000001", device="/dev/modem0",
            label="", status={"state": "ready", "signal_dbm": -70, "storages": []},
        )  # fmt: skip
        await session.commit()


@pytest.fixture(scope="module")
def served(
    postgres_server: str, template_database: str, demo: Deployment, tmp_path_factory
) -> Iterator[ServedApi]:
    name = f"shailoo_test_schemathesis_{os.getpid()}"
    asyncio.run(_admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(postgres_server, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    try:
        with ServedApi(_with_database(postgres_server, name), demo,
                       tmp_path_factory.mktemp("api")) as server:  # fmt: skip
            yield server
    finally:
        asyncio.run(_admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_anything_within_its_schema(served: ServedApi, mode) -> None:
    schema = schemathesis.openapi.from_url(
        f"http://127.0.0.1:{served.port}/openapi.json", config=_CONFIG
    )
    failed: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        called: list[None] = []
        try:
            _fuzz(operation, mode, served.admin, called)
        except Unsatisfiable:
            pass  # judged below by what was called
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect, then report
            failed[operation.label] = f"{type(exc).__name__}: {exc}"[:2000]
            continue
        # Only a route that takes nothing may go without an invalid request; every route must
        # have been called with valid ones.
        takes_nothing = not any(True for _ in operation.iter_parameters()) and not (
            operation.get_request_payload_content_types()
        )
        if not called and not (mode is GenerationMode.NEGATIVE and takes_nothing):
            failed[operation.label] = "never called: no generated request reached the route"
    assert not failed, "\n\n".join(f"{label}\n{why}" for label, why in failed.items())


def _fuzz(
    operation: schemathesis.APIOperation, mode: GenerationMode, token: str, called: list[None]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)  # fmt: skip
    def check(case: schemathesis.Case) -> None:
        # A query string carries text only: an "invalid" object or list for a one-value
        # parameter is sent as text that may be perfectly valid, so there is nothing to refuse.
        assume(not any(isinstance(v, dict | list) for v in (case.query or {}).values()))
        follow = str((case.query or {}).get("follow", "true")).lower()
        if case.path == "/api/v1/events" and follow in _TRUE:  # a followed feed never ends
            case.query = {**(case.query or {}), "follow": "false"}
        if case.path == "/api/v1/tokens/{token_id}":
            case.path_parameters = {"token_id": 999_999}  # keep the token this test uses
        called.append(None)
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
