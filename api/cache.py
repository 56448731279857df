"""A short-lived cache of identical GET answers: dashboards poll the same coverage, tallies and
newest pages all day, and fifty of them should cost one query, not fifty.

An answer is served from memory for ``ttl_s`` (``SHAILOO_API__CACHE_S``, 1 s; 0 turns it off).
When it is older, the next request still gets it at once while one background task computes
the new one (stale-while-revalidate), up to ``STALE_FACTOR`` times the TTL; past that, or the
first time, the request waits, and concurrent requests for the same answer share one
computation. Keys hold the path, the query string and whether the caller may see personal data,
so a ``read`` token never gets what was computed for ``read:pii``. Each API process has its own.

``SharedCalls`` is the same sharing for the per-request lookups that expire (tokens, forms):
the requests that find one stale at the same moment wait for one query, not one each.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["STALE_FACTOR", "ResponseCache", "SharedCalls"]

_LOGGER = logging.getLogger(__name__)
STALE_FACTOR = 5.0
MAX_ENTRIES = 2000

Compute = Callable[[], Awaitable[bytes]]
T = TypeVar("T")


class SharedCalls(Generic[T]):
    """Concurrent calls for one key share one run of the first one's ``call``.

    The run is a task of its own, shielded from its waiters: a request that gives up (its
    client went away) does not cancel what the others wait for. Its exception, if any, is
    raised in every waiter.
    """

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Task[T]] = {}

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``'s result, or that of the run for ``key`` already under way."""
        task = self._running.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(_awaited(call))
            self._running[key] = task
            task.add_done_callback(functools.partial(self._ran, key))
        return await asyncio.shield(task)

    def __contains__(self, key: Hashable) -> bool:
        """Whether a run for ``key`` is under way."""
        return key in self._running

    async def close(self) -> None:
        """Cancel the runs under way, and wait for them to end."""
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _ran(self, key: Hashable, task: asyncio.Task[T]) -> None:
        del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved: raised in each waiter, or none waits any more


async def _awaited(call: Callable[[], Awaitable[T]]) -> T:
    return await call()


class ResponseCache:
    """See the module docstring."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._computing: SharedCalls[bytes] = SharedCalls()
        self._refreshes: set[asyncio.Task[bytes]] = set()

    async def get(self, key: Hashable, compute: Compute) -> bytes:
        """The answer for ``key``: cached, or from ``compute`` (which opens its own session:
        it may outlive the request that started it)."""
        if self.ttl_s <= 0:
            return await compute()
        entry = self._entries.get(key)
        if entry is not None:
            age = time.monotonic() - entry[0]
            if age >= self.ttl_s and key not in self._computing:
                self._refresh(key, compute)
            if age < self.ttl_s * STALE_FACTOR:
                return entry[1]
        return await self._computed(key, compute)

    async def close(self) -> None:
        """Stop background refreshes and computations (the application is shutting down)."""
        for task in list(self._refreshes):
            task.cancel()
        await asyncio.gather(*self._refreshes, return_exceptions=True)
        await self._computing.close()

    async def _computed(self, key: Hashable, compute: Compute) -> bytes:
        return await self._computing.run(key, functools.partial(self._compute, key, compute))

    async def _compute(self, key: Hashable, compute: Compute) -> bytes:
        body = await compute()
        self._store(key, body)
        return body

    def _refresh(self, key: Hashable, compute: Compute) -> None:
        task = asyncio.get_running_loop().create_task(self._computed(key, compute))
        self._refreshes.add(task)
        task.add_done_callback(self._refreshed)

    def _refreshed(self, task: asyncio.Task[bytes]) -> None:
        self._refreshes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.warning("refreshing a cached answer failed (%s); serving the last one",
                            type(task.exception()).__name__)  # fmt: skip

    def _store(self, key: Hashable, body: bytes) -> None:
        self._entries[key] = (time.monotonic(), body)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
