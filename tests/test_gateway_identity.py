"""Two modems are told apart: a label from the settings is stored with each, and two modems
that report one IMSI (emulators started alike) are warned of (real database, real ptys)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway import service
from gateway.service import Gateway
from modem.emulator import ModemEmulator
from parser import Deployment
from store.db import Database
from store.models import Modem
from store.settings import ModemConfig, Settings
from tests.helpers import eventually


async def test_two_modems_with_one_imsi_are_warned_of_and_labels_are_stored(
    tmp_path: Path,
    database: Database,
    demo: Deployment,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "STATUS_EVERY_S", 0.2)
    caplog.set_level(logging.WARNING, logger="gateway.service")
    twins = [ModemEmulator(link=str(tmp_path / name)) for name in ("north", "south")]
    for twin in twins:
        await twin.start()
    modems = [ModemConfig(device=twin.device, label=f"{name} desk")
              for twin, name in zip(twins, ("north", "south"), strict=True)]  # fmt: skip
    settings = Settings(data_dir=tmp_path, modems=modems, _env_file=None)  # type: ignore[call-arg]
    gateway = Gateway(settings, database, demo)
    stop = asyncio.Event()
    running = asyncio.create_task(gateway.run(stop))
    try:

        async def warned() -> bool:
            return "report the same IMSI 437051234567890" in caplog.text

        await eventually(warned, 30, interval_s=0.1)

        async def labelled() -> bool:
            async with database.session() as session:
                return (await session.scalar(select(Modem.label))) in ("north desk", "south desk")

        await eventually(labelled, 30, interval_s=0.1)
    finally:
        stop.set()
        await running
        for twin in twins:
            await twin.stop()
    assert caplog.text.count("report the same IMSI") == 1  # once, not every status round
