"""The API as deployed: ``shailoo run`` serving it beside the gateway, ``shailoo api`` alone,
``shailoo token``, and what callers see while the database is away."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from modem.emulator import ModemEmulator
from store.db import Database
from tests.api_helpers import make_token_of
from tests.proxy import DatabaseProxy
from tests.test_gateway_process import DEMO_FORMS, eventually

SHAILOO = str(Path(sys.executable).parent / "shailoo")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(url: str, data_dir: Path, port: int) -> dict[str, str]:
    return {
        **os.environ, "SHAILOO_DATABASE_URL": url, "SHAILOO_DATA_DIR": str(data_dir),
        "SHAILOO_LOG_LEVEL": "WARNING", "SHAILOO_API__PORT": str(port),
    }  # fmt: skip


async def started(*arguments: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        SHAILOO, *arguments, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stopped(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.terminate()
    return await asyncio.wait_for(process.wait(), 20)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


async def answered(client: httpx.AsyncClient, url: str, **kwargs: object) -> httpx.Response:
    """The first answer from a server that is still starting."""
    async with asyncio.timeout(30):
        while True:
            try:
                return await client.get(url, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError:
                await asyncio.sleep(0.2)


def shailoo(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SHAILOO, *arguments], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_run_serves_the_api_and_ready_turns_200_once_the_modem_is_up(
    database: Database, emulator: ModemEmulator, tmp_path: Path, client
) -> None:
    port = free_port()
    env = environment(database.url, tmp_path, port)
    token = await make_token_of(database, "probe", "read:pii")  # sees the IMSI
    gateway = await started("run", "--modem", emulator.device, "--forms", str(DEMO_FORMS),
                            env=env)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        assert (await answered(client, f"{base}/health")).json() == {"status": "ok"}

        async def ready() -> bool:
            return (await client.get(f"{base}/ready", headers=headers)).status_code == 200

        await eventually(ready, 30)
        modems = (await client.get(f"{base}/api/v1/modems", headers=headers)).json()
        assert modems[0]["up"] is True
        assert modems[0]["imsi"] == "437051234567890"
    finally:
        assert await stopped(gateway) == 0


async def test_a_taken_port_stops_run_with_a_sentence(
    database: Database, emulator: ModemEmulator, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = environment(database.url, tmp_path, taken.getsockname()[1])
        gateway = await started("run", "--modem", emulator.device, env=env)
        code = await asyncio.wait_for(gateway.wait(), 30)
        assert gateway.stderr is not None
        error = (await gateway.stderr.read()).decode()
    assert code == 2
    assert "the API cannot listen on 127.0.0.1" in error
    assert "--no-api" in error


async def test_tokens_are_created_listed_and_revoked_from_the_command_line(
    database: Database, tmp_path: Path, client
) -> None:
    env = environment(database.url, tmp_path, free_port())
    made = await asyncio.to_thread(shailoo, env, "token", "create", "--name", "dashboard",
                                   "--scope", "read:pii")  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("shl_")
    assert "not shown again" in made.stderr
    listed = await asyncio.to_thread(shailoo, env, "token", "list")
    assert "dashboard" in listed.stdout
    assert "read:pii" in listed.stdout
    assert token not in listed.stdout
    api = await started("api", env=env)
    base = f"http://127.0.0.1:{env['SHAILOO_API__PORT']}"
    try:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await answered(client, f"{base}/api/v1/reports", headers=headers)).status_code \
            == 200  # fmt: skip
        revoked = await asyncio.to_thread(shailoo, env, "token", "revoke", "dashboard")
        assert revoked.stdout.strip() == "revoked 1 token(s)"
        missing = await asyncio.to_thread(shailoo, env, "token", "revoke", "nobody")
        assert missing.returncode == 2
        assert "token list" in missing.stderr
    finally:
        assert await stopped(api) == 0


async def test_callers_get_503_while_the_database_is_away_and_answers_after(
    database: Database, tmp_path: Path, client
) -> None:
    proxy = DatabaseProxy(database.url)
    env = environment(await proxy.start(), tmp_path, free_port())
    token = await make_token_of(database, "dashboard", "read")
    api = await started("api", env=env)
    base = f"http://127.0.0.1:{env['SHAILOO_API__PORT']}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        assert (await answered(client, f"{base}/api/v1/reports", headers=headers)).status_code \
            == 200  # fmt: skip
        proxy.cut()
        away = await client.get(f"{base}/api/v1/reports", headers=headers)
        assert away.status_code == 503
        assert away.json()["error"] == "DATABASE_UNAVAILABLE"
        not_ready = await client.get(f"{base}/ready", headers=headers)
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["database"].startswith("unreachable")
        proxy.restore()

        async def back() -> bool:
            response = await client.get(f"{base}/api/v1/reports", headers=headers)
            return response.status_code == 200

        await eventually(back, 20)
    finally:
        code = await stopped(api)
        await proxy.stop()
        assert api.stderr is not None
        assert code == 0, (await api.stderr.read()).decode()[-3000:]
