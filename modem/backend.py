"""What the gateway needs from a modem backend, whichever way it talks to the hardware.

The AT driver's ``ModemSupervisor`` implements it, and so does ``modem.gammu_backend.GammuBackend``
(python-gammu's drivers; chosen per modem with ``backend = "gammu"``). A backend runs
until cancelled, hands every stored message up with ``await hand_up(part)`` and deletes it only
after that returns, sends SMS, and reports identity and health.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Protocol

from modem.records import InboundPart, ModemIdentity, ModemStatus

__all__ = ["HAND_UP_BATCH", "HandUp", "ModemBackend", "ModemState"]

HandUp = Callable[[list[InboundPart]], Awaitable[None]]
"""Takes parts and returns once they are safe (committed): only then are they deleted."""

HAND_UP_BATCH = 200  # parts per hand-up (one commit) when many wait


class ModemState(enum.Enum):
    """Where the supervisor is."""

    STARTING = "starting"
    READY = "ready"
    BACKING_OFF = "backing off"
    FAILED = "failed"  # the SIM needs a person (PUK, wrong PIN)
    STOPPED = "stopped"


class ModemBackend(Protocol):
    """One modem, supervised: see the module docstring."""

    device: str
    state: ModemState
    identity: ModemIdentity | None
    status: ModemStatus | None
    last_error: str | None

    @property
    def receiving(self) -> bool:
        """Whether messages wait to be read (sending can wait until they are in)."""

    async def run(self) -> None:
        """Receive until cancelled; raises only when a person must act (SIM PUK/PIN)."""

    async def send_sms(self, number: str, text: str) -> list[int]:
        """Send now; the message reference of each part."""
