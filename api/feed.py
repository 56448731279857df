"""One reader of the ``events`` table per process, fanning new events out to every open stream.

Each ``/events`` stream used to poll the database itself: thousands of dashboards meant
thousands of queries a second. Now one poller task (started with the first stream, stopped
after the last) reads what is new every ``events_poll_s`` and hands it to each stream's
``Subscriber``. A stream that resumes from an older id, or falls more than ``MAX_PENDING``
events behind, first catches up from the database in batches of its own, then listens again.

The same poller re-checks, every ``recheck_s`` (well under the 10 s promised), that the
tokens of open streams are still live, in one query, and ends the streams of revoked ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from api.auth import Principal
from store.db import Database
from store.queries import events, tokens

__all__ = ["BATCH", "EventFeed", "Subscriber"]

_LOGGER = logging.getLogger(__name__)
BATCH = 500  # events read per query
MAX_PENDING = 5000  # events kept for one slow stream before it must catch up by itself
RECHECK_S = 5.0  # how often open streams' tokens are checked against revocation
QUERY_TIMEOUT_S = 10.0  # one poll or catch-up query
RETRY_S = 2.0  # after a failed poll (the database is away): streams stay open, quiet


class Subscriber:
    """One open stream's place in the feed: the events fanned out to it and its cursor."""

    def __init__(self, feed: EventFeed, who: Principal, cursor: int) -> None:
        self.feed = feed
        self.who = who
        self.cursor = cursor
        self.pending: list[dict[str, Any]] = []
        self.behind = False  # must read from the database before listening again
        self.ended = False  # its token was revoked: the stream closes
        self.wake = asyncio.Event()

    def push(self, batch: list[dict[str, Any]]) -> None:
        """Events the poller read (called by the feed)."""
        if self.behind:
            return
        self.pending.extend(batch)
        if len(self.pending) > MAX_PENDING:
            self.pending.clear()
            self.behind = True
        self.wake.set()

    def end(self) -> None:
        """Close the stream (its token was revoked)."""
        self.ended = True
        self.wake.set()

    async def next_events(self, wait_s: float) -> list[dict[str, Any]]:
        """Events after this stream's cursor, oldest first; [] after ``wait_s`` of quiet or
        when the stream ended."""
        if self.behind:
            return await self._caught_up()
        if not self.pending and not self.ended:
            self.wake.clear()
            try:
                async with asyncio.timeout(wait_s):
                    await self.wake.wait()
            except TimeoutError:
                return []
            if self.behind:
                return await self._caught_up()
        batch = [event for event in self.pending if event["id"] > self.cursor]
        self.pending.clear()
        if batch:
            self.cursor = batch[-1]["id"]
        return [] if self.ended else batch

    async def _caught_up(self) -> list[dict[str, Any]]:
        # Listen again first: whatever the poller reads from now on is kept, and whatever it
        # read before is in the database for the query below; ids above the cursor dedupe.
        self.behind = False
        self.pending.clear()
        batch = await self.feed.read_after(self.cursor)
        if len(batch) == BATCH:
            self.behind = True  # more to read before listening
        if batch:
            self.cursor = batch[-1]["id"]
        return batch


class EventFeed:
    """See the module docstring."""

    def __init__(self, db: Database, poll_s: float, recheck_s: float = RECHECK_S) -> None:
        self.db = db
        self.poll_s = poll_s
        self.recheck_s = recheck_s
        self.subscribers: set[Subscriber] = set()
        self._cursor = 0
        self._poller: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    async def subscribe(self, who: Principal, start: int | None) -> Subscriber:
        """A place in the feed from after ``start`` (None: from what happens next)."""
        async with self._starting:
            if self._poller is None:
                self._cursor = await self.newest()
                self._poller = asyncio.get_running_loop().create_task(self._poll())
        subscriber = Subscriber(self, who, self._cursor if start is None else start)
        subscriber.behind = subscriber.cursor < self._cursor
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """The stream ended."""
        self.subscribers.discard(subscriber)

    def end_streams_of(self, token_id: int) -> None:
        """Close every open stream of a token (it was just revoked here)."""
        for subscriber in list(self.subscribers):
            if subscriber.who.token_id == token_id:
                subscriber.end()

    async def close(self) -> None:
        """Stop the poller (the application is shutting down)."""
        for subscriber in list(self.subscribers):
            subscriber.end()
        self.subscribers.clear()
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)

    async def newest(self) -> int:
        """The newest event's id."""
        async with asyncio.timeout(QUERY_TIMEOUT_S), self.db.session() as session:
            return await events.last_event_id(session)

    async def read_after(self, cursor: int) -> list[dict[str, Any]]:
        """Up to ``BATCH`` events after ``cursor`` (a catch-up, or a ``follow=false`` page)."""
        async with asyncio.timeout(QUERY_TIMEOUT_S), self.db.session() as session:
            return await events.events_after(session, cursor, BATCH)

    async def _poll(self) -> None:
        checked = time.monotonic()
        try:
            while self.subscribers:
                try:
                    full = await self._poll_once()
                    if time.monotonic() - checked >= self.recheck_s:
                        checked = time.monotonic()
                        await self._recheck_tokens()
                except Exception as exc:  # noqa: BLE001 - the database away, mostly: retry
                    await self._wait_out(exc)
                    continue
                if not full:
                    await asyncio.sleep(self.poll_s)
        finally:
            self._poller = None  # no await since the loop's check: a new stream starts anew

    async def _poll_once(self) -> bool:
        batch = await self.read_after(self._cursor)
        if batch:
            self._cursor = batch[-1]["id"]
            for subscriber in list(self.subscribers):
                subscriber.push(batch)
        return len(batch) == BATCH

    async def _recheck_tokens(self) -> None:
        ids = {subscriber.who.token_id for subscriber in self.subscribers}
        async with asyncio.timeout(QUERY_TIMEOUT_S), self.db.session() as session:
            live = await tokens.live_token_ids(session, ids)
        for subscriber in list(self.subscribers):
            if subscriber.who.token_id not in live:
                subscriber.end()

    async def _wait_out(self, exc: Exception) -> None:
        _LOGGER.warning("event feed: reading new events failed (%s); retrying in %.0f s",
                        type(exc).__name__, RETRY_S)  # fmt: skip
        await asyncio.sleep(RETRY_S)
