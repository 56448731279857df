"""What both modem backends share: the loop that keeps one modem's sessions going.

``Supervised.run`` opens a session (``_session``, the backend's), and when it ends, backs off
(capped, doubling) and opens the next; a session that got ready resets the backoff. A SIM that
needs a person (``SIMError``: PUK, a refused PIN) stops it for good, since retrying could lock
the SIM. The AT supervisor (``modem.supervisor``) and the python-gammu backend
(``modem.gammu_backend``) differ only in their sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

from modem.backend import ModemState
from modem.errors import ModemError, SIMError
from modem.records import ModemIdentity, ModemStatus

__all__ = ["Supervised"]

_LOGGER = logging.getLogger(__name__)


class Supervised(ABC):
    """One modem's sessions, one after another, until cancelled; see the module docstring."""

    def __init__(self, device: str, backoff_first_s: float, backoff_max_s: float) -> None:
        self.device = device
        self.state = ModemState.STARTING
        self.identity: ModemIdentity | None = None
        self.status: ModemStatus | None = None
        self.last_error: str | None = None
        self.sessions = 0
        self._backoff_first_s = backoff_first_s
        self._backoff_max_s = backoff_max_s
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
                failures = 0 if self._ready.is_set() else failures + 1
                self._ready.clear()
                self.state = ModemState.BACKING_OFF
                await asyncio.sleep(self._backoff(failures))
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

    def _backoff(self, failures: int) -> float:
        return float(min(self._backoff_first_s * 2 ** min(failures, 16), self._backoff_max_s))

    def _fail(self, exc: SIMError) -> None:
        self.state = ModemState.FAILED
        self.last_error = str(exc)
        _LOGGER.error("%s: %s. Fix the SIM (PIN/PUK) in a phone, then restart.", self.device, exc)
