"""What several test files share: waiting for a condition, and a hand-up that checks the
delete-after-commit promise."""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import Awaitable, Callable

from modem.emulator import ModemEmulator
from modem.records import InboundPart

__all__ = ["Collector", "all_stored", "eventually", "on_the_modem"]


async def eventually(
    condition: Callable[[], object | Awaitable[object]],
    timeout_s: float = 5.0,
    interval_s: float = 0.02,
) -> None:
    """Return once ``condition()`` (a function or a coroutine function) is true; time out
    after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while True:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            await asyncio.sleep(interval_s)


class Collector:
    """A hand-up that records parts, checking each is still stored when it is handed up (a
    stored message is deleted only after its hand-up returns); ``fail`` makes it raise, as a
    database that is down would."""

    def __init__(self, still_stored: Callable[[InboundPart], bool]) -> None:
        self.still_stored = still_stored
        self.parts: list[InboundPart] = []
        self.fail = False

    async def __call__(self, parts: list[InboundPart]) -> None:
        for part in parts:
            assert self.still_stored(part), part
        if self.fail:
            raise RuntimeError("database down")
        self.parts.extend(parts)

    def texts(self) -> Counter[str]:
        """How many parts of each text arrived."""
        return Counter(part.text for part in self.parts)


def on_the_modem(emulator: ModemEmulator) -> Callable[[InboundPart], bool]:
    """Whether a handed-up part is still in the emulator's storage (routed ones always are)."""

    def holds(part: InboundPart) -> bool:
        if part.index < 0:  # routed with +CMT, never stored
            return True
        stored = [sms for name in emulator.commands.storages
                  for sms in emulator.stored(name).values()]  # fmt: skip
        return part.pdu_hex in [sms.pdu_hex for sms in stored]

    return holds


def all_stored(emulator: ModemEmulator) -> int:
    """How many messages the emulator holds in all its storages."""
    return sum(len(emulator.stored(name)) for name in emulator.commands.storages)
