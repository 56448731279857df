"""Spooled parts the database refused are set aside, counted in ``/metrics`` and ``/ready``,
and ``shailoo spool retry`` stores them once the problem is fixed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from gateway.ingest import part_record
from gateway.service import Gateway
from gateway.spool import Spool
from modem.backend import ModemState
from modem.records import ModemIdentity
from parser import Deployment
from store import repository
from store.db import Database
from store.models import InboundPartRow
from store.queries import status
from store.settings import Settings
from tests.api_helpers import Api, open_api
from tests.test_restart import IMSI, a_part

SHAILOO = str(Path(sys.executable).parent / "shailoo")


def spool_retry(database: Database, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHAILOO_DATABASE_URL": database.url, "SHAILOO_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [SHAILOO, "spool", "retry"], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


@pytest.fixture
async def api(database: Database, demo: Deployment, tmp_path: Path) -> AsyncIterator[Api]:
    opened = await open_api(database, demo, tmp_path)
    async with opened.client:
        yield opened


async def stored_parts(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundPartRow)) or 0)


async def test_spool_retry_stores_what_it_can_says_what_each_did_and_keeps_the_rest(
    database: Database, tmp_path: Path
) -> None:
    spool = Spool(Settings(data_dir=tmp_path, _env_file=None).spool_path)  # type: ignore[call-arg]
    good = part_record(IMSI, a_part())
    spool.set_aside(good, "refused by yesterday's schema")
    spool.set_aside({**part_record(IMSI, a_part()), "kind": "x" * 500}, "value too long")
    first = await asyncio.to_thread(spool_retry, database, tmp_path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith(f"1: stored (modem {IMSI}")
    assert lines[1].startswith("2: refused (")
    assert "value too long" in lines[1] or "StringDataRightTruncation" in lines[1]
    assert lines[-1] == "2 set-aside part(s): 1 stored, 1 refused"
    assert await stored_parts(database) == 1
    assert [entry["record"]["kind"] for entry in spool.set_aside_entries()] == ["x" * 500]
    spool.set_aside(good, "set aside again by a second gateway")  # retried: idempotent
    again = await asyncio.to_thread(spool_retry, database, tmp_path)
    assert again.stdout.splitlines()[-1] == "2 set-aside part(s): 1 refused, 1 already stored"
    assert await stored_parts(database) == 1


async def test_metrics_and_ready_count_set_aside_parts_once_per_gateway(api: Api) -> None:
    async with api.db.transaction() as session:
        for imsi, spool_file, count in (
            ("437050000000001", "/srv/a/spool-rejected.jsonl", 2),
            ("437050000000002", "/srv/a/spool-rejected.jsonl", 2),  # the same gateway
            ("437050000000003", "/srv/b/spool-rejected.jsonl", 1),
        ):
            reported = {"state": "ready", "spool": 0, "set_aside": count, "spool_file": spool_file}
            await repository.upsert_modem(
                session, imsi=imsi, imei="35000", label="", device="/dev/modem", status=reported
            )
    metrics = (await api.get("/metrics", "read")).text
    assert "shailoo_spool_set_aside 3.0" in metrics
    ready = await api.get("/ready", "read")
    assert ready.status_code == 200  # a warning: the gateway works
    assert ready.json()["checks"]["set_aside"]["status"] == "warning"
    assert ready.json()["checks"]["set_aside"]["count"] == 3


async def test_the_gateway_reports_its_set_aside_parts_with_its_modems_status(
    database: Database, demo: Deployment, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    gateway = Gateway(settings, database, demo)
    gateway.spool.set_aside(part_record(IMSI, a_part()), "refused")
    modem = SimpleNamespace(
        identity=ModemIdentity("", "", "", imei="35000", imsi=IMSI),
        state=ModemState.READY, last_error=None, status=None, device="/dev/modem0",
    )  # fmt: skip
    gateway.supervisors = [modem]  # type: ignore[list-item]
    await gateway._save_status()
    async with database.session() as session:
        count = await status.set_aside_count(session)
    assert count == 1
