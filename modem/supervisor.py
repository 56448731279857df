"""``ModemSupervisor``: keeps one modem receiving, across hangs, unplugs and restarts.

One task per modem owns its port. A session opens the device, sets the modem up, sweeps every
storage, then waits for ``+CMTI`` (read that index), a routed ``+CMT`` (handed up at once), the
periodic sweep (notifications get lost; some modems send them on another port) or an idle
watchdog ``AT``. Messages are handed up with ``await hand_up(parts)`` and deleted only after
that returns: the caller commits first, so a crash anywhere leaves the message on the SIM for the
next sweep. When the port vanishes or the modem stops answering, the session ends, the port is
closed, and after a capped exponential backoff the same device path is opened again. A SIM that
wants a PUK or refuses the PIN stops the supervisor for good: retries would lock it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from modem.at import Unsolicited
from modem.backend import HAND_UP_BATCH, HandUp, ModemState
from modem.driver import ATDriver, Timeouts
from modem.errors import ATCommandError, ATTimeout, ModemConnectionError
from modem.records import InboundPart, StoredPDU
from modem.sms import ModemSettings, ModemSMS, to_part
from modem.supervision import Supervised

__all__ = ["ModemSupervisor", "SupervisorSettings"]

_LOGGER = logging.getLogger(__name__)

_LINK_LOST = Unsolicited("(link lost)")
_STORED_NOTICES = ("+CMTI", "+CDSI")


@dataclass(frozen=True, slots=True)
class SupervisorSettings:
    """Intervals and limits, in seconds where timed; each can be set per modem."""

    baud: int = 115_200
    sweep_interval_s: float = 30.0
    watchdog_idle_s: float = 20.0
    watchdog_failures: int = 3
    status_interval_s: float = 60.0
    backoff_first_s: float = 1.0
    backoff_max_s: float = 60.0
    device_poll_s: float = 1.0  # while the device path is missing (unplugged)
    hand_up_s: float = 30.0  # longer, and the message stays on the SIM for the next sweep
    receiving_quiet_s: float = 0.3  # after the last arrival, before the modem sends replies
    timeouts: Timeouts = field(default_factory=Timeouts)
    modem: ModemSettings = field(default_factory=ModemSettings)


class ModemSupervisor(Supervised):
    """Runs one modem until cancelled; see the module docstring."""

    def __init__(
        self, device: str, hand_up: HandUp, settings: SupervisorSettings | None = None
    ) -> None:
        self.settings = settings or SupervisorSettings()
        super().__init__(
            device,
            self.settings.backoff_first_s,
            self.settings.backoff_max_s,
            self.settings.device_poll_s,
        )
        self.hand_up = hand_up
        self._sms: ModemSMS | None = None
        self._events: asyncio.Queue[Unsolicited] = asyncio.Queue()
        self._sweeping = False
        self._last_hand_up = 0.0

    async def send_sms(self, number: str, text: str) -> list[int]:
        """Send through this modem now; ``ModemConnectionError`` if it is not ready."""
        if self._sms is None or not self._ready.is_set():
            raise ModemConnectionError(f"{self.device}: not ready ({self.state.value})")
        return await self._sms.send_sms(number, text)

    async def _session(self) -> None:
        self.sessions += 1
        self._events = asyncio.Queue()
        driver = ATDriver(
            self.device,
            baud=self.settings.baud,
            timeouts=self.settings.timeouts,
            on_urc=self._events.put_nowait,
        )
        try:
            await driver.open()
            driver.on_lost(lambda: self._events.put_nowait(_LINK_LOST))
            sms = ModemSMS(driver, self.settings.modem)
            self.identity = await sms.initialize()
            self.status = await sms.status()
            self._sms = sms
            self.state = ModemState.READY
            self._ready.set()
            _LOGGER.info(
                "%s: ready (%s %s, IMSI %s)",
                self.device,
                self.identity.manufacturer,
                self.identity.model,
                self.identity.imsi,
            )
            await self._serve(sms)
        finally:
            self._sms = None
            await driver.close()

    async def _serve(self, sms: ModemSMS) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        next_status = loop.time() + self.settings.status_interval_s
        timeouts = 0
        while True:
            now = loop.time()
            try:
                if now >= next_sweep:
                    await self._sweep(sms)
                    next_sweep = now + self.settings.sweep_interval_s
                if now >= next_status:
                    self.status = await sms.status()
                    next_status = now + self.settings.status_interval_s
                wait_s = min(next_sweep, next_status) - loop.time()
                await self._next_event(sms, min(wait_s, self.settings.watchdog_idle_s))
                timeouts = 0
            except ATTimeout as exc:
                timeouts += 1
                _LOGGER.warning("%s: %s (%d in a row)", self.device, exc, timeouts)
                if timeouts >= self.settings.watchdog_failures:
                    raise ModemConnectionError(f"{self.device}: stopped answering") from exc

    async def _next_event(self, sms: ModemSMS, wait_s: float) -> None:
        try:
            async with asyncio.timeout(max(wait_s, 0.0)):
                event = await self._events.get()
        except TimeoutError:
            await sms.driver.command("AT")  # the watchdog: is it still there?
            return
        if event is _LINK_LOST:
            raise ModemConnectionError(f"{self.device}: the port went away")
        if event.name in _STORED_NOTICES and not self._events.empty():
            await self._burst(sms, event)
            return
        await self._unsolicited(sms, event)

    async def _burst(self, sms: ModemSMS, first: Unsolicited) -> None:
        """Several new messages announced at once: one listing reads them all, line-efficiently."""
        pending = [first]
        while not self._events.empty():
            event = self._events.get_nowait()
            if event is _LINK_LOST:
                raise ModemConnectionError(f"{self.device}: the port went away")
            pending.append(event)
        others = [event for event in pending if event.name not in _STORED_NOTICES]
        for event in others:
            await self._unsolicited(sms, event)
        await self._sweep(sms)

    async def _unsolicited(self, sms: ModemSMS, event: Unsolicited) -> None:
        if event.name in _STORED_NOTICES:
            storage, _, index = event.value.partition(",")
            if index.strip().isdigit():
                stored = await sms.read_stored(
                    storage.strip().strip('"').upper(), int(index.strip())
                )
                if stored is not None:
                    await self._hand_up_and_delete(sms, [stored])
        elif event.name in ("+CMT", "+CDS") and event.body is not None:
            # Routed despite AT+CNMI: never stored, so hand it up at once, then acknowledge.
            await self._deliver([to_part(StoredPDU("", -1, 0, event.body.strip().upper()))])
            await sms.acknowledge()
        else:
            _LOGGER.debug("%s: unsolicited %r", self.device, event.line)

    @property
    def receiving(self) -> bool:
        """Whether messages are arriving (waiting, being read, or just were): sending can wait
        until they are in, since a burst of arrivals reads in one stream."""
        recent = time.monotonic() - self._last_hand_up < self.settings.receiving_quiet_s
        return recent or self._sweeping or not self._events.empty()

    async def _sweep(self, sms: ModemSMS) -> None:
        self._sweeping = True
        try:
            for storage in sms.storages:
                await self._sweep_storage(sms, storage)
        finally:
            self._sweeping = False

    async def _sweep_storage(self, sms: ModemSMS, storage: str) -> None:
        """List ``storage``, handing messages up while the listing is still on the line (the
        caller's commits overlap the line time), then delete what was handed up."""
        arriving: asyncio.Queue[StoredPDU | None] = asyncio.Queue()
        handed: list[StoredPDU] = []
        consumer = asyncio.get_running_loop().create_task(self._hand_up_stream(arriving, handed))
        try:
            await sms.list_stored(storage, arriving.put_nowait)
        finally:
            arriving.put_nowait(None)
            await consumer
        if handed:
            await self._delete(sms, storage, handed)

    async def _hand_up_stream(
        self, arriving: asyncio.Queue[StoredPDU | None], handed: list[StoredPDU]
    ) -> None:
        """Hand up what arrives, in batches of what is there, until ``None``."""
        finished = False
        while not finished:
            batch = [item] if (item := await arriving.get()) is not None else []
            finished = item is None
            while not finished and not arriving.empty() and len(batch) < HAND_UP_BATCH:
                item = arriving.get_nowait()
                finished = item is None
                batch += [item] if item is not None else []
            if batch and await self._deliver([to_part(stored) for stored in batch]):
                handed.extend(batch)

    async def _hand_up_and_delete(self, sms: ModemSMS, batch: list[StoredPDU]) -> None:
        if not await self._deliver([to_part(stored) for stored in batch]):
            return  # kept on the SIM: the next sweep hands them up again
        for storage in dict.fromkeys(stored.storage for stored in batch):
            await self._delete(sms, storage, [s for s in batch if s.storage == storage])

    async def _delete(self, sms: ModemSMS, storage: str, listed: list[StoredPDU]) -> None:
        try:
            await sms.delete_many(storage, listed)
        except ATCommandError as exc:
            _LOGGER.warning(
                "%s: deleting in %s failed (%s); handed up again next sweep",
                self.device,
                storage,
                exc.final,
            )

    async def _deliver(self, parts: list[InboundPart]) -> bool:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.settings.hand_up_s):
                await self.hand_up(parts)
        except Exception:  # the caller did not take them (or not in time): keep them on the SIM
            _LOGGER.exception(
                "%s: hand-up of %d part(s) failed; not deleting", self.device, len(parts)
            )
            return False
        self._last_hand_up = time.monotonic()
        _LOGGER.debug(
            "%s: handed up %d part(s) in %.1f ms",
            self.device,
            len(parts),
            (time.monotonic() - started) * 1000,
        )
        return True
