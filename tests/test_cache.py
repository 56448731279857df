"""The API's response cache: fresh answers from memory, stale ones refreshed behind the caller's
back, one computation for many callers."""

from __future__ import annotations

import asyncio

from api.cache import STALE_FACTOR, ResponseCache


class Counter:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.delay_s = delay_s

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return str(self.calls).encode()


async def test_a_fresh_answer_is_served_from_memory() -> None:
    cache, compute = ResponseCache(60), Counter()
    assert [await cache.get("k", compute) for _ in range(3)] == [b"1", b"1", b"1"]
    assert compute.calls == 1


async def test_concurrent_callers_share_one_computation() -> None:
    cache, compute = ResponseCache(60), Counter(delay_s=0.05)
    answers = await asyncio.gather(*(cache.get("k", compute) for _ in range(20)))
    assert set(answers) == {b"1"}
    assert compute.calls == 1


async def test_a_stale_answer_is_served_while_one_refresh_runs() -> None:
    cache, compute = ResponseCache(0.05), Counter(delay_s=0.05)
    await cache.get("k", compute)
    await asyncio.sleep(0.06)  # stale, not yet too old
    assert await cache.get("k", compute) == b"1"  # at once, the old answer
    assert await cache.get("k", compute) == b"1"  # one refresh only
    await asyncio.sleep(0.1)
    assert await cache.get("k", compute) == b"2"
    assert compute.calls == 2
    await cache.close()


async def test_a_too_old_answer_is_never_served() -> None:
    cache, compute = ResponseCache(0.01), Counter()
    await cache.get("k", compute)
    await asyncio.sleep(0.01 * STALE_FACTOR + 0.01)
    assert await cache.get("k", compute) == b"2"
    await cache.close()


async def test_a_failure_reaches_every_waiter_and_is_not_cached() -> None:
    cache = ResponseCache(60)

    async def broken() -> bytes:
        await asyncio.sleep(0.01)
        raise ConnectionError("database away")

    results = await asyncio.gather(*(cache.get("k", broken) for _ in range(3)),
                                   return_exceptions=True)  # fmt: skip
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await cache.get("k", Counter()) == b"1"


async def test_off_means_every_call_computes() -> None:
    cache, compute = ResponseCache(0), Counter()
    assert [await cache.get("k", compute) for _ in range(2)] == [b"1", b"2"]
