"""The running gateway: modems, ingest, the pipeline, the outbox and the spool, composed.

Each modem has its own supervisor task; one failing (a SIM that wants its PUK, a stick that
never comes back) never stops the others. Stored parts wake the pipeline at once; it also runs
every ``PIPELINE_POLL_S`` for multipart timeouts. The outbox is polled every
``OUTBOX_POLL_S`` and woken after each batch of replies; the spool is replayed every
``SPOOL_RETRY_S`` while it holds anything. ``run`` returns when ``stop`` is set, after the tasks
have finished what they were doing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from gateway.ingest import DATABASE_AWAY, Ingest
from gateway.outbox import OutboxSender
from gateway.pipeline import Pipeline
from gateway.spool import Spool
from modem.backend import ModemBackend
from modem.driver import Timeouts
from modem.errors import SIMError
from modem.gammu_backend import GammuBackend, GammuSettings
from modem.records import InboundPart
from modem.sms import ModemSettings
from modem.supervisor import ModemSupervisor, SupervisorSettings
from parser import Deployment
from store import repository
from store.db import Database
from store.settings import ModemConfig, Settings

__all__ = ["Gateway", "supervisor_settings"]

_LOGGER = logging.getLogger(__name__)

PIPELINE_POLL_S = 1.0
OUTBOX_POLL_S = 1.0
SPOOL_RETRY_S = 5.0
STATUS_EVERY_S = 3.0  # cheap: the supervisors cache what they last read
ERROR_PAUSE_S = 1.0


class Gateway:
    """One gateway process: see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        deployment: Deployment,
    ) -> None:
        self.settings = settings
        self.db = db
        self.deployment = deployment
        self._wake_pipeline = asyncio.Event()
        self.spool = Spool(settings.spool_path)
        self.ingest = Ingest(db, self.spool, self._stored)
        self.pipeline = Pipeline(db, deployment, settings)
        self.supervisors = [
            _backend(modem, self._hand_up_for(index)) for index, modem in enumerate(settings.modems)
        ]
        self.by_imsi: dict[str, ModemBackend] = {}
        self.outbox = OutboxSender(db, self.by_imsi, settings.replies)
        self._tasks: list[asyncio.Task[None]] = []

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set."""
        self._spawn(self._pipeline_loop())
        self._spawn(self._outbox_loop())
        self._spawn(self._spool_loop())
        self._spawn(self._status_loop())
        for supervisor in self.supervisors:
            self._spawn(self._supervise(supervisor))
        _LOGGER.info(
            "gateway running with %d modem(s); forms %r",
            len(self.supervisors),
            self.deployment.deployment,
        )
        try:
            await stop.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop every task; each finishes or rolls back what it was doing."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coroutine))

    def _hand_up_for(self, index: int) -> Callable[[list[InboundPart]], Awaitable[None]]:
        async def hand_up(parts: list[InboundPart]) -> None:
            supervisor = self.supervisors[index]
            imsi = supervisor.identity.imsi if supervisor.identity else supervisor.device
            self.by_imsi.setdefault(imsi, supervisor)
            await self.ingest.store(imsi, parts)

        return hand_up

    def _stored(self) -> None:
        self._wake_pipeline.set()

    async def _supervise(self, supervisor: ModemBackend) -> None:
        with contextlib.suppress(SIMError):  # logged by the supervisor; the others carry on
            await supervisor.run()

    def _imsis(self) -> list[str]:
        for supervisor in self.supervisors:
            if supervisor.identity is not None:
                self.by_imsi.setdefault(supervisor.identity.imsi, supervisor)
        return list(self.by_imsi)

    async def _pipeline_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PIPELINE_POLL_S):
                    await self._wake_pipeline.wait()
            self._wake_pipeline.clear()
            async with _surviving("pipeline"):
                await self.pipeline.process_pending(self._imsis())

    async def _outbox_loop(self) -> None:
        while True:
            sent = 0
            async with _surviving("outbox"):
                sent = await self.outbox.send_due()
            if not sent:
                await asyncio.sleep(OUTBOX_POLL_S)

    async def _spool_loop(self) -> None:
        while True:
            await asyncio.sleep(SPOOL_RETRY_S)
            async with _surviving("spool replay"):
                if self.spool.size():
                    await self.ingest.replay_spool()

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(STATUS_EVERY_S)
            async with _surviving("modem status"):
                await self._save_status()

    async def _save_status(self) -> None:
        spool = {
            "spool": self.spool.size(),
            # Counted once per spool file by /metrics and /ready, whichever modem says it.
            "set_aside": self.spool.set_aside_count(),
            "spool_file": str(self.spool.rejected_path.resolve()),
        }
        async with self.db.transaction() as session:
            for supervisor in self.supervisors:
                identity = supervisor.identity
                if identity is None:
                    continue
                status = {
                    "state": supervisor.state.value,
                    "last_error": supervisor.last_error,
                    **spool,
                    **(dataclasses.asdict(supervisor.status) if supervisor.status else {}),
                }
                await repository.upsert_modem(
                    session,
                    imsi=identity.imsi,
                    imei=identity.imei,
                    device=supervisor.device,
                    label="",
                    status=status,
                )


@contextlib.asynccontextmanager
async def _surviving(activity: str) -> AsyncIterator[None]:
    """Log what goes wrong in one round of a loop, and let the loop go on: the database may be
    away (it comes back), or a bug may hit one batch (the rest of the day must not stop)."""
    try:
        yield
    except DATABASE_AWAY as exc:
        _LOGGER.warning("%s waits for the database (%s)", activity, exc)
        await asyncio.sleep(ERROR_PAUSE_S)
    except Exception:
        _LOGGER.exception("%s failed; trying again shortly", activity)
        await asyncio.sleep(ERROR_PAUSE_S)


def _backend(
    modem: ModemConfig,
    hand_up: Callable[[list[InboundPart]], Awaitable[None]],
) -> ModemBackend:
    """The modem's backend as configured: shailoo's AT driver, or python-gammu's."""
    if modem.backend == "gammu":
        pin = modem.pin.get_secret_value() if modem.pin else None
        settings = GammuSettings(connection=modem.connection, pin=pin)
        return GammuBackend(modem.device, hand_up, settings)
    return ModemSupervisor(modem.device, hand_up, supervisor_settings(modem))


def supervisor_settings(modem: ModemConfig) -> SupervisorSettings:
    """The AT supervisor's settings for ``modem``: what its settings set, defaults elsewhere."""
    pin = modem.pin.get_secret_value() if modem.pin else None
    return SupervisorSettings(
        baud=modem.baud,
        timeouts=Timeouts(**modem.timeouts.model_dump(exclude_none=True)),
        modem=ModemSettings(pin=pin, storage=modem.storage),
        **modem.supervisor.model_dump(exclude_none=True),
    )
