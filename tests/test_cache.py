"""The API's response cache: fresh answers from memory, stale ones refreshed behind the caller's
back, one computation for many callers; and the shared lookups of tokens and forms."""

from __future__ import annotations

import asyncio

import pytest

from api.auth import Principal, Scope, TokenCheck, make_token, token_hash
from api.cache import STALE_FACTOR, ResponseCache, SharedCalls
from store.db import Database
from store.queries import tokens


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


async def test_shared_calls_run_once_for_the_callers_of_the_moment_and_again_after() -> None:
    shared, compute = SharedCalls[bytes](), Counter(delay_s=0.05)
    answers = await asyncio.gather(*(shared.run("k", compute) for _ in range(20)))
    assert set(answers) == {b"1"}
    assert await shared.run("k", compute) == b"2"  # nothing is kept once it has run


async def test_a_shared_call_goes_on_for_the_others_when_one_caller_gives_up() -> None:
    shared, compute = SharedCalls[bytes](), Counter(delay_s=0.05)
    leaving = asyncio.ensure_future(shared.run("k", compute))
    staying = asyncio.ensure_future(shared.run("k", compute))
    await asyncio.sleep(0.01)
    leaving.cancel()
    assert await staying == b"1"
    assert leaving.cancelled()


async def test_a_shared_call_that_fails_fails_for_every_caller() -> None:
    async def broken() -> bytes:
        await asyncio.sleep(0.01)
        raise RuntimeError("down")

    shared = SharedCalls[bytes]()
    results = await asyncio.gather(*(shared.run("k", broken) for _ in range(3)),
                                   return_exceptions=True)  # fmt: skip
    assert [type(result) for result in results] == [RuntimeError] * 3


async def test_requests_that_find_a_token_expired_together_make_one_query(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, prefix = make_token()
    async with database.transaction() as session:
        await tokens.add_token(session, "dashboard", "read", prefix, token_hash(token))
    lookups = 0
    looked_up = tokens.token_by_prefix

    async def counted(*args: object) -> object:
        nonlocal lookups
        lookups += 1
        return await looked_up(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(tokens, "token_by_prefix", counted)
    check = TokenCheck(database, cache_s=0)  # every request finds it expired
    found = await asyncio.gather(*(check.principal(token, "test") for _ in range(25)))
    assert {(p.name, p.scope) for p in found if isinstance(p, Principal)} == {
        ("dashboard", Scope.READ)
    }
    assert len(found) == 25
    assert lookups == 1


async def test_closing_the_token_check_cancels_a_lookup_under_way(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    never = asyncio.Event()

    async def stuck(*args: object) -> object:
        await never.wait()  # a lookup the server never answers
        return None

    monkeypatch.setattr(tokens, "token_by_prefix", stuck)
    check = TokenCheck(database, cache_s=0)
    waiting = asyncio.create_task(check.principal(make_token()[0], "test"))
    await asyncio.sleep(0.05)  # the lookup is under way
    await check.close()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 5)  # not left waiting for ever
