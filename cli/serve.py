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
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.app import api_state, create_app
from cli.logs import configure_logging
from store.bootstrap import open_database
from store.errors import ConfigError
from store.settings import get_settings

__all__ = [
    "HEADER_TIMEOUT_S",
    "HeaderTimedH11",
    "bind",
    "from_settings",
    "serve",
    "uvicorn_options",
]

_LOGGER = logging.getLogger(__name__)
HEADER_TIMEOUT_S = 10.0  # a request line and its headers arrive within this, or the socket closes
KEEP_ALIVE_S = 5  # an idle kept-alive connection is closed after this
MAX_HEADER_BYTES = 16 * 1024  # a request line and headers larger than this: 400, closed


class HeaderTimedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's line and headers.

    uvicorn times out idle kept-alive connections but not a client that opens a connection and
    sends its headers a byte at a time (slowloris): each would hold a socket forever. The
    deadline starts when the connection is made and again after each response, and ends when
    a whole request head has arrived."""

    header_timeout_s = HEADER_TIMEOUT_S
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def handle_events(self) -> None:
        waiting = self.cycle
        super().handle_events()
        if self.cycle is not waiting:  # a request's head arrived
            self._cancel_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(self.header_timeout_s, self._head_late)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_late(self) -> None:
        self._deadline = None
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()


def uvicorn_options() -> dict[str, Any]:
    """What every uvicorn that serves the API is given: quiet logs and bounded waits."""
    return {
        "log_level": "warning", "access_log": False, "http": HeaderTimedH11,
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
        app.state.api = api_state(db, settings.api)
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
