"""Building the FastAPI application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api.auth import TokenCheck
from api.bodies import BodyGuard
from api.cache import ResponseCache
from api.console import install_console
from api.deps import ApiState
from api.docs import install_docs
from api.errors import install_error_handlers, strict_query
from api.feed import EventFeed
from api.limits import Slots
from api.routes import (
    admin,
    checklists,
    estimates,
    events,
    health,
    messages,
    reports,
    roster,
    stats,
)
from store.db import Database
from store.settings import ApiConfig

__all__ = ["api_state", "create_app"]

DESCRIPTION = """\
Reports, coverage, tallies and the SMS log of a shailoo gateway, for dashboards, statisticians
and other tools.

**Tokens.** Every route but `/health` needs `Authorization: Bearer shl_...`. Create one with
`shailoo token create --name dashboard --scope read`. Scopes: `read` (reports, checklists,
coverage, tallies, forms, stations, observers with phone numbers masked, the SMS log without
texts; no report comments, quarantine reasons or actors, nor the modems' IMSI, IMEI or device),
`read:pii` (adds all of those), `admin` (roster, quarantine, broadcasts, tokens). No token or an
unknown one: 401, before any request body is read; a scope too small: 403.

**Errors** all have the shape `{"error": "CODE", "detail": "sentence"}`, with `errors` listing
the fields of an INVALID_REQUEST.

**Paging.** Lists are newest first (roster lists: by code). Pass `next_cursor` back as `cursor`;
a page never repeats or skips rows because new ones arrived.
"""

TAGS = [
    {"name": "messages", "description": "The SMS log, in and out."},
    {"name": "reports", "description": "Accepted submissions, and quarantine."},
    {"name": "checklists", "description": "Merged records per observer and form."},
    {"name": "statistics", "description": "Coverage and tallies."},
    {"name": "estimates", "description": "Quick-count estimates with margins of error."},
    {"name": "roster", "description": "Stations, observers and forms."},
    {"name": "outbox", "description": "Broadcast SMS to observers."},
    {"name": "modems", "description": "Modem health."},
    {"name": "events", "description": "Live feed."},
    {"name": "tokens", "description": "API tokens."},
    {"name": "health", "description": "Liveness, readiness, metrics."},
]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # What start-up made lives until exit: out of the collector's way, so that its full passes
    # (pauses every request in flight waits for) scan only what requests allocate.
    gc.collect()
    gc.freeze()
    yield
    state: ApiState | None = getattr(app.state, "api", None)
    if state is not None:
        await state.close()


def api_state(db: Database, config: ApiConfig, strata: Mapping[str, int] | None = None) -> ApiState:
    """What the routes share: the database, settings, the token cache, the event feed;
    ``strata`` are the settings' frame sizes for the estimates."""
    return ApiState(
        db=db,
        config=config,
        tokens=TokenCheck(db, config.token_cache_s),
        cache=ResponseCache(config.cache_s),
        feed=EventFeed(db, config.events_poll_s),
        exports=Slots("CSV exports", config.exports_per_token, config.exports_max),
        streams=Slots("event streams", config.streams_per_token, config.streams_max),
        strata=dict(strata or {}),
    )


def create_app(
    db: Database | None, config: ApiConfig | None = None, strata: Mapping[str, int] | None = None
) -> FastAPI:
    """The API over ``db``; the caller opens and closes the database. With None, the caller
    sets ``app.state.api = api_state(...)`` before the first request (in a lifespan)."""
    config = config or ApiConfig()
    app = FastAPI(
        title="shailoo API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,  # api.docs serves it, with the assets from a package
        redoc_url=None,
        dependencies=[Depends(strict_query)],
        lifespan=_lifespan,
    )
    if db is not None:
        app.state.api = api_state(db, config, strata)
    install_error_handlers(app)
    app.add_middleware(BodyGuard)
    install_docs(app)
    for module in (messages, reports, checklists, stats, estimates, roster, admin, events, health):
        app.include_router(module.router)
    install_console(app)
    return app
