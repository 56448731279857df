"""Serving the API with uvicorn: inside another asyncio program, or as worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn
from fastapi import FastAPI

from api.app import api_state, create_app
from cli.deadline import HeadTimedProtocol
from cli.logs import configure_logging
from store.bootstrap import open_database
from store.errors import ConfigError
from store.settings import get_settings

__all__ = [
    "bind",
    "from_settings",
    "serve",
    "uvicorn_options",
]

_LOGGER = logging.getLogger(__name__)
KEEP_ALIVE_S = 5  # an idle kept-alive connection is closed after this
MAX_HEADER_BYTES = 16 * 1024  # a request line and headers larger than this: 400, closed


def uvicorn_options() -> dict[str, Any]:
    """What every uvicorn that serves the API is given: quiet logs and bounded waits."""
    return {
        "log_level": "warning", "access_log": False, "http": HeadTimedProtocol,
        "timeout_keep_alive": KEEP_ALIVE_S, "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }  # fmt: skip


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the program it runs in."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so that a taken port stops start-up with a sentence."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)  # connections queue from now on, before uvicorn accepts them
    except OSError as exc:
        listener.close()
        raise ConfigError(
            f"the API cannot listen on {host}:{port} ({exc.strerror}); another shailoo may be "
            "running there: set SHAILOO_API__PORT, pass --api-port, or use --no-api"
        ) from exc
    return listener


async def serve(app: FastAPI, listener: socket.socket, stop: asyncio.Event) -> None:
    """Serve ``app`` on a socket from ``bind`` until ``stop`` is set (the caller handles
    signals)."""
    config = uvicorn.Config(app, lifespan="on", **uvicorn_options())
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    host, port = listener.getsockname()[:2]
    _LOGGER.info("API on http://%s:%d (OpenAPI at /docs)", host, port)
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([task, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        server.should_exit = True
        await task
        listener.close()


def from_settings() -> FastAPI:
    """The app for uvicorn worker processes (``shailoo api --workers N``): each opens the
    database from the settings itself."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = await open_database(settings)
        app.state.api = api_state(db, settings.api, settings.strata)
        gc.collect()
        gc.freeze()  # as create_app's own lifespan does, which this one replaces
        try:
            yield
        finally:
            await app.state.api.close()
            await db.close()

    app = create_app(None, settings.api)
    app.router.lifespan_context = lifespan
    return app
