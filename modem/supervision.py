"""What both modem backends share: the loop that keeps one modem's sessions going.

``Supervised.run`` opens a session (``_session``, the backend's), and when it ends, backs off
(capped, doubling) and opens the next; a session that got ready resets the backoff. A session
ended by a bug (any exception, not only ``ModemError``) is logged with its traceback and
reconnected the same way: one mistake must not end a modem for the day. While the device path
is missing (unplugged) it is looked for every ``device_poll_s``, and opened as soon as it is
back, whatever the backoff had reached. A SIM that needs a person (``SIMError``: PUK, a refused
PIN) stops it for good, since retrying could lock the SIM. The AT supervisor
(``modem.supervisor``) and the python-gammu backend (``modem.gammu_backend``) differ only in
their sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from abc import ABC, abstractmethod

from modem.backend import ModemState
from modem.errors import ModemError, SIMError
from modem.records import ModemIdentity, ModemStatus

__all__ = ["Supervised"]

_LOGGER = logging.getLogger(__name__)
DEVICE_POLL_S = 1.0  # while unplugged: a replugged modem is read again within seconds


class Supervised(ABC):
    """One modem's sessions, one after another, until cancelled; see the module docstring."""

    def __init__(
        self,
        device: str,
        backoff_first_s: float,
        backoff_max_s: float,
        device_poll_s: float = DEVICE_POLL_S,
    ) -> None:
        self.device = device
        self.state = ModemState.STARTING
        self.identity: ModemIdentity | None = None
        self.status: ModemStatus | None = None
        self.last_error: str | None = None
        self.sessions = 0
        self._backoff_first_s = backoff_first_s
        self._backoff_max_s = backoff_max_s
        self._device_poll_s = device_poll_s
        self._ready = asyncio.Event()

    @abstractmethod
    async def _session(self) -> None:
        """Open the modem, set ``_ready`` once it receives, and serve until it fails."""

    async def run(self) -> None:
        """Receive until cancelled (or until the SIM needs a person: ``SIMError``)."""
        failures = 0
        try:
            while True:
                try:
                    await self._session()
                except SIMError as exc:
                    self._fail(exc)
                    raise
                except ModemError as exc:
                    self.last_error = str(exc)
                    _LOGGER.warning("%s: %s; reconnecting", self.device, exc)
                except Exception as exc:  # a bug: this session ends, the modem does not
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    _LOGGER.exception("%s: unexpected error; reconnecting", self.device)
                failures = 0 if self._ready.is_set() else failures + 1
                self._ready.clear()
                self.state = ModemState.BACKING_OFF
                if await self._pause(self._backoff(failures)):
                    failures = 0  # plugged in again: a fresh start deserves a fresh backoff
        finally:
            if self.state is not ModemState.FAILED:
                self.state = ModemState.STOPPED

    async def wait_ready(self, timeout_s: float) -> None:
        """Wait until a session is up (for tests and start-up logs)."""
        async with asyncio.timeout(timeout_s):
            await self._ready.wait()

    async def stop(self, task: asyncio.Task[None]) -> None:
        """Cancel ``task`` (running ``run``) and wait for it to end."""
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, SIMError):
            await task

    async def _pause(self, backoff_s: float) -> bool:
        """Wait ``backoff_s``, or while the device is missing until it is back; whether it
        was unplugged and came back."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + backoff_s
        unplugged = False
        while True:
            present = self._device_present()
            if unplugged and present:
                _LOGGER.info("%s: the device is back; opening it", self.device)
                return True
            unplugged = unplugged or not present
            remaining = deadline - loop.time()
            if not unplugged and remaining <= 0:
                return False
            step = self._device_poll_s if unplugged else min(self._device_poll_s, remaining)
            await asyncio.sleep(step)

    def _device_present(self) -> bool:
        # Only a path can be missing; a connection string (gammu's, a socket) is always tried.
        return not self.device.startswith("/") or os.path.exists(self.device)

    def _backoff(self, failures: int) -> float:
        return float(min(self._backoff_first_s * 2 ** min(failures, 16), self._backoff_max_s))

    def _fail(self, exc: SIMError) -> None:
        self.state = ModemState.FAILED
        self.last_error = str(exc)
        _LOGGER.error("%s: %s. Fix the SIM (PIN/PUK) in a phone, then restart.", self.device, exc)
