"""A TCP proxy in front of PostgreSQL that a test can cut and restore (a network outage), or
make answer like a server that is starting up (SQLSTATE 57P03, the first moments after
``pg_ctl start``)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = ["DatabaseProxy"]


class DatabaseProxy:
    """Listens on 127.0.0.1 and forwards to the server behind a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        socket_dir = parsed.query.get("host")
        port = parsed.port or 5432
        self._unix = (
            str(Path(str(socket_dir)) / f".s.PGSQL.{port}")
            if socket_dir and not parsed.host
            else None
        )
        self._target = (parsed.host or "127.0.0.1", port)
        self._url = parsed
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.down = False
        self.starting_up = False
        self.refused = 0  # connections answered "starting up"

    async def start(self) -> str:
        """Start listening; the URL to give the gateway instead of the real one."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        proxied = self._url.set(host="127.0.0.1", port=port, query={})
        return proxied.render_as_string(hide_password=False)

    def cut(self) -> None:
        """Drop every connection and refuse new ones, as a dead network would."""
        self.down = True
        for writer in list(self._writers):
            writer.transport.abort()

    def restore(self) -> None:
        """Accept connections again."""
        self.down = False

    async def stop(self) -> None:
        """Close everything."""
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._links):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        if self.starting_up:
            await _answer_starting_up(reader, writer)
            self.refused += 1
            return
        if self._unix is not None:
            upstream_reader, upstream_writer = await asyncio.open_unix_connection(self._unix)
        else:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(source, sink))
            self._links.add(task)
            task.add_done_callback(self._links.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(sink)
            sink.transport.abort()


# The protocol's request codes that precede a startup message; each is answered "N" (no).
_ENCRYPTION_REQUESTS = (80877103, 80877104)  # SSLRequest, GSSENCRequest
_STARTING_UP = b"".join(
    field + b"\0"
    for field in (b"SFATAL", b"VFATAL", b"C57P03", b"Mthe database system is starting up")
)


async def _answer_starting_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the startup message and answer it with ErrorResponse 57P03, as PostgreSQL does
    while it recovers after a crash or restart."""
    try:
        while True:
            length = int.from_bytes(await reader.readexactly(4), "big")
            body = await reader.readexactly(length - 4)
            if int.from_bytes(body[:4], "big") not in _ENCRYPTION_REQUESTS:
                break
            writer.write(b"N")
        fields = _STARTING_UP + b"\0"
        writer.write(b"E" + (len(fields) + 4).to_bytes(4, "big") + fields)
        await writer.drain()
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.transport.abort()
