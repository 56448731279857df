"""API tokens and scopes.

A token reads ``shl_<prefix>_<secret>``. Only the SHA-256 of the whole token is stored; the
prefix finds the row and the hashes are compared in constant time. Scopes nest:
``read`` < ``read:pii`` < ``admin``. Known tokens are cached for ``token_cache_s`` so that a busy
dashboard does not cost a query per request; a revoked token stops working within that time.
A prefix that matches no token is remembered for ``MISS_CACHE_S`` too (a new token's prefix is
random, so no real token is kept out by it), and refusals are logged at most once every
``REFUSAL_LOG_EVERY_S`` with a count: a flood of made-up tokens costs neither a query each nor
a log line each. When a cached token expires, the requests that find it so share one lookup:
each of them querying at once took as many connections, opened anew, and stalled every request
in flight for a fifth of a second (bench/api.py).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass

from api.cache import SharedCalls
from store.db import Database
from store.queries import tokens

__all__ = ["Principal", "Scope", "TokenCheck", "make_token", "token_hash"]

_LOGGER = logging.getLogger(__name__)
_PREFIX_CHARS = 8
_TOUCH_EVERY_S = 60.0  # last_used_at is kept to the minute, not written per request
MISS_CACHE_S = 5.0  # an unknown prefix is not looked up again for this long
MAX_MISSES = 10_000  # unknown prefixes remembered at most (then forgotten all at once)
REFUSAL_LOG_EVERY_S = 10.0


class Scope(enum.StrEnum):
    """What a token may do; each includes the ones before it."""

    READ = "read"
    READ_PII = "read:pii"
    ADMIN = "admin"

    def allows(self, needed: Scope) -> bool:
        """Whether this scope includes ``needed``."""
        return _RANK[self] >= _RANK[needed]


_RANK = {scope: rank for rank, scope in enumerate(Scope)}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the token's id, name and scope."""

    token_id: int
    name: str
    scope: Scope

    @property
    def sees_pii(self) -> bool:
        """Whether phone numbers and raw texts are shown unmasked."""
        return self.scope.allows(Scope.READ_PII)


def make_token() -> tuple[str, str]:
    """A new token and its public prefix."""
    prefix = secrets.token_hex(_PREFIX_CHARS // 2)
    return f"shl_{prefix}_{secrets.token_urlsafe(32)}", prefix


def token_hash(token: str) -> bytes:
    """What is stored of a token."""
    return hashlib.sha256(token.encode("utf-8", errors="replace")).digest()


@dataclass(frozen=True, slots=True)
class _Known:
    principal: Principal | None  # None: revoked
    digest: bytes
    fetched: float


class TokenCheck:
    """Checks bearer tokens against the database, with a short cache."""

    def __init__(self, db: Database, cache_s: float) -> None:
        self.db = db
        self.cache_s = cache_s
        self._known: dict[str, _Known] = {}
        self._missed: dict[str, float] = {}
        self._fetching: SharedCalls[_Known | None] = SharedCalls()
        self._touched: dict[int, float] = {}
        self._refused_logged = -REFUSAL_LOG_EVERY_S
        self._refused_since = 0

    async def close(self) -> None:
        """Cancel a token lookup under way (the application is shutting down)."""
        await self._fetching.close()

    async def principal(self, token: str, client: str) -> Principal | None:
        """Who ``token`` is, or None (and a log line) when it is not a live token."""
        prefix = _prefix(token)
        known = await self._lookup(prefix) if prefix else None
        # Compare even when nothing was found, so that timing tells nothing either way.
        expected = known.digest if known else b"\0" * 32
        matches = hmac.compare_digest(token_hash(token), expected)
        if known is None or known.principal is None or not matches:
            self._log_refusal(client, prefix)
            return None
        await self._touch(known.principal.token_id)
        return known.principal

    def forget(self) -> None:
        """Drop the cache (after a revocation made in this process)."""
        self._known.clear()

    def _log_refusal(self, client: str, prefix: str | None) -> None:
        now = time.monotonic()
        self._refused_since += 1
        if now - self._refused_logged < REFUSAL_LOG_EVERY_S:
            return
        more = self._refused_since - 1
        also = f"; {more} more refused since the last such line" if more else ""
        _LOGGER.warning("refused an API token from %s (prefix %r)%s", client, prefix or "?", also)
        self._refused_logged = now
        self._refused_since = 0

    async def _lookup(self, prefix: str) -> _Known | None:
        now = time.monotonic()
        known = self._known.get(prefix)
        if known is not None and now - known.fetched < self.cache_s:
            return known
        if now - self._missed.get(prefix, -MISS_CACHE_S) < MISS_CACHE_S:
            return None
        return await self._fetching.run(prefix, functools.partial(self._fetch, prefix, now))

    async def _fetch(self, prefix: str, now: float) -> _Known | None:
        async with self.db.session() as session:
            row = await tokens.token_by_prefix(session, prefix)
        if row is None:
            if len(self._missed) >= MAX_MISSES:
                self._missed.clear()
            self._missed[prefix] = now
            return None
        principal = None
        if row.revoked_at is None:
            principal = Principal(row.id, row.name, Scope(row.scope))
        known = _Known(principal, row.secret_sha256, now)
        self._known[prefix] = known
        return known

    async def _touch(self, token_id: int) -> None:
        now = time.monotonic()
        if now - self._touched.get(token_id, -_TOUCH_EVERY_S) < _TOUCH_EVERY_S:
            return
        self._touched[token_id] = now
        async with self.db.transaction() as session:
            await tokens.touch_token(session, token_id)


def _prefix(token: str) -> str | None:
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != "shl" or len(parts[1]) != _PREFIX_CHARS:
        return None
    return parts[1]
