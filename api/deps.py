"""What routes depend on: the database session, the caller, the forms."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Principal, Scope, TokenCheck
from api.cache import ResponseCache, SharedCalls
from api.errors import Forbidden, Unauthorized
from api.feed import EventFeed
from api.limits import Slots
from parser import Deployment
from store import repository
from store.db import Database
from store.settings import ApiConfig

__all__ = [
    "ApiState",
    "FormsDep",
    "SessionDep",
    "StateDep",
    "require",
]

_LOGGER = logging.getLogger(__name__)
_FORMS_CACHE_S = 5.0
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer shl_...`")


@dataclass
class ApiState:
    """What the application holds: the database, settings, caches, the event feed and the
    slots of long requests."""

    db: Database
    config: ApiConfig
    tokens: TokenCheck
    cache: ResponseCache
    feed: EventFeed
    exports: Slots
    streams: Slots
    forms: Deployment | None = None
    forms_read: float = 0.0
    forms_hash: str = ""
    strata: Mapping[str, int] = field(default_factory=dict)  # settings' frame sizes
    forms_reads: SharedCalls[None] = field(default_factory=SharedCalls)

    async def close(self) -> None:
        """Stop what runs in the background (the application is shutting down)."""
        await self.feed.close()
        await self.cache.close()
        await self.tokens.close()
        await self.forms_reads.close()


async def _state(request: Request) -> ApiState:
    # async, though it awaits nothing: FastAPI runs a plain ``def`` dependency in its thread
    # pool, a thread hand-off on every request (measured: 3% of a loaded worker's time).
    state: ApiState = request.app.state.api
    return state


StateDep = Annotated[ApiState, Depends(_state)]


async def _session(state: StateDep) -> AsyncIterator[AsyncSession]:
    # The one place a request's work is committed: when the route returns, before the response
    # is sent (scope "function"), so a failed commit is the request's error. A route that
    # raises is rolled back. Routes never commit themselves.
    async with state.db.transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through tokens whose scope includes ``scope``."""

    async def check(
        request: Request,
        state: StateDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthorized("send an API token: Authorization: Bearer shl_...")
        client = request.client.host if request.client else "?"
        principal = await state.tokens.principal(credentials.credentials, client)
        if principal is None:
            raise Unauthorized("unknown or revoked API token")
        if not principal.scope.allows(scope):
            raise Forbidden(f"this needs a token with scope {scope.value!r}")
        return principal

    return check


async def _forms(state: StateDep) -> Deployment | None:
    # Read again every few seconds (a session only then), so `shailoo forms load` shows soon;
    # the requests that find them stale together share one read (``SharedCalls``).
    if state.forms is None or time.monotonic() - state.forms_read > _FORMS_CACHE_S:
        await state.forms_reads.run(None, functools.partial(_read_forms, state))
    return state.forms


async def _read_forms(state: ApiState) -> None:
    now = time.monotonic()
    async with state.db.session() as session:
        stored = await repository.latest_forms(session)
    if stored is not None and (state.forms is None or stored.content_hash != state.forms_hash):
        if state.forms is not None:
            _LOGGER.info("forms reloaded: %r, version %d", stored.deployment, stored.id)
        state.forms = Deployment.model_validate(stored.definition)
        state.forms_hash = stored.content_hash
    state.forms_read = now


FormsDep = Annotated[Deployment | None, Depends(_forms)]
