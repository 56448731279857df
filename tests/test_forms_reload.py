"""A forms file loaded while ``shailoo run`` is running reaches it without a restart; a file
that would orphan stored reports is refused unless --force (real process, pty modem, database).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from modem.emulator import ModemEmulator
from store.db import Database
from store.models import FormSet, Message
from tests.conftest import DEMO_FORMS
from tests.helpers import eventually
from tests.test_gateway_process import SHAILOO, GatewayProcess, register_observers

WITH_QUESTION_Z = DEMO_FORMS.read_text(encoding="utf-8").replace(
    "    checks:\n",
    "      - tag: Z\n        type: integer\n        label: Queue length\n    checks:\n",
    1,
)


async def shailoo(environment: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        SHAILOO, *args, env=environment, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def statuses(db: Database) -> dict[str, tuple[str, int | None]]:
    async with db.session() as session:
        rows = await session.execute(select(Message.text, Message.status, Message.forms_id))
        return {text: (status, forms_id) for text, status, forms_id in rows.all()}


async def test_forms_loaded_while_the_gateway_runs_are_used_without_a_restart(
    tmp_path: Path, database: Database, emulator: ModemEmulator
) -> None:
    [phone] = await register_observers(database, 1)
    gateway = GatewayProcess(database.url, emulator.device, tmp_path)
    gateway.environment["SHAILOO_LOG_LEVEL"] = "INFO"
    log = tmp_path / "gateway.log"
    with log.open("wb") as sink:
        gateway.process = await asyncio.create_subprocess_exec(
            *gateway.arguments, env=gateway.environment, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=sink,
        )  # fmt: skip
    try:
        emulator.deliver(phone, "OP 1000 A1 Z5")

        async def first_judged() -> bool:
            return (await statuses(database)).get("OP 1000 A1 Z5", ("", None))[0] == "rejected"

        await eventually(first_judged, 30, interval_s=0.2)
        newer = tmp_path / "forms.yaml"
        newer.write_text(WITH_QUESTION_Z, encoding="utf-8")
        code, said, _ = await shailoo(gateway.environment, "forms", "load", str(newer))
        assert code == 0
        assert "within 5 s" in said

        async def reloaded() -> bool:
            return "forms reloaded: 'demo-election'" in log.read_text(encoding="utf-8")

        await eventually(reloaded, 10, interval_s=0.2)
        emulator.deliver(phone, "OP 1000 A2 Z7")

        async def second_judged() -> bool:
            return "OP 1000 A2 Z7" in await statuses(database)

        await eventually(second_judged, 30, interval_s=0.2)
        seen = await statuses(database)
        async with database.session() as session:
            versions = {
                row.content_hash[:8]: row.id for row in await session.scalars(select(FormSet))
            }
        assert seen["OP 1000 A2 Z7"][0] == "accepted"
        assert seen["OP 1000 A1 Z5"][1] != seen["OP 1000 A2 Z7"][1]
        assert {seen["OP 1000 A1 Z5"][1], seen["OP 1000 A2 Z7"][1]} == set(versions.values())

        code, _, error = await shailoo(gateway.environment, "forms", "load", str(DEMO_FORMS))
        assert code == 2
        assert "would orphan stored reports: it drops question OP.Z (1 answer(s))" in error
        assert "--force" in error
        assert "Traceback" not in error
        code, _, _ = await shailoo(gateway.environment, "forms", "load", "--force", str(DEMO_FORMS))
        assert code == 0
    finally:
        assert await gateway.stop() == 0
