"""The spool: where handed-up parts wait, on local disk, while PostgreSQL is unreachable.

A modem must be able to delete what it handed up even during a database outage, or the SIM
fills and the network stops delivering. So a part that cannot be committed is appended to a
JSON-lines file and ``fsync``'ed before the hand-up returns; once the database is back the file
is replayed (inserts are idempotent by the same key as always) and emptied.

A power cut mid-append leaves a torn last line. The next append starts on a fresh line, so a
torn line never swallows the record after it; a torn line is skipped (and reported), and
``clear`` drops records, not lines. Records the database refuses (its data, never its absence)
are set aside in ``spool-rejected.jsonl`` with the reason, where ``shailoo spool retry`` finds
them.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["Spool"]

_LOGGER = logging.getLogger(__name__)
_NEWLINE = b"\n"


class Spool:
    """An append-only, fsync'ed file of part records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Hand-ups append from worker threads while a replay rewrites the file in another: an
        # append landing between the rewrite's read and its rename would be lost.
        self._lock = threading.Lock()
        self._size: int | None = None  # counted once, then kept up to date (a hand-up asks)

    @property
    def rejected_path(self) -> Path:
        """Where records the database refused are kept, with the reason."""
        return self.path.with_name(self.path.stem + "-rejected.jsonl")

    def append(self, records: list[dict[str, Any]]) -> None:
        """Write ``records`` and make them durable (one fsync) before returning."""
        with self._lock:
            _append_lines(self.path, [_dumps(record) for record in records])
            if self._size is not None:
                self._size += len(records)

    def set_aside(self, record: dict[str, Any], reason: str) -> None:
        """Keep ``record`` (durably) in the rejected file, with why it was refused."""
        with self._lock, _locked(self.rejected_path):
            _append_lines(self.rejected_path, [_dumps({"reason": reason, "record": record})])

    def set_aside_entries(self) -> list[dict[str, Any]]:
        """Every set-aside entry (``reason`` and ``record``), oldest first."""
        return [entry for _, entry in _read(self.rejected_path) if entry is not None]

    def set_aside_count(self) -> int:
        """How many records are set aside (for status and ``/metrics``)."""
        return sum(entry is not None for _, entry in _read(self.rejected_path, quiet=True))

    def settle_set_aside(self, read: int, kept: list[dict[str, Any]]) -> None:
        """Replace the first ``read`` set-aside entries by ``kept`` (a retry stored the
        others); entries set aside since (by a running gateway) stay after them."""
        with self._lock, _locked(self.rejected_path):
            newer = self.set_aside_entries()[read:]
            _rewrite(self.rejected_path, [_dumps(entry) + "\n" for entry in kept + newer])

    def records(self) -> list[dict[str, Any]]:
        """Every complete record, oldest first."""
        return [record for _, record in _read(self.path) if record is not None]

    def size(self) -> int:
        """How many records wait (for logs and status)."""
        with self._lock:
            if self._size is None:
                self._size = sum(record is not None for _, record in _read(self.path, quiet=True))
            return self._size

    def clear(self, count: int) -> None:
        """Drop the first ``count`` records, which the database now holds; keep any newer.
        Torn lines among them go too: their part was never acknowledged, so it is still on
        the SIM."""
        with self._lock:
            kept: list[str] = []
            dropped = left = 0
            for line, record in _read(self.path, quiet=True):
                if dropped < count:
                    dropped += record is not None
                    continue
                kept.append(line + "\n")
                left += record is not None
            if self.path.exists():
                _rewrite(self.path, kept)
            self._size = left


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, default=_encode, ensure_ascii=False)


def _append_lines(path: Path, lines: list[str]) -> None:
    """Append ``lines`` on a fresh line of ``path`` and fsync (the folder too, if new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        end = os.fstat(fd).st_size
        if end and os.pread(fd, 1, end - 1) != _NEWLINE:
            data = _NEWLINE + data  # the last append was torn: never glue onto it
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_folder(path.parent)  # or a power cut may forget the file itself


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold ``path``'s lock file: ``shailoo spool retry`` and a running gateway share the
    set-aside file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _rewrite(path: Path, lines: list[str]) -> None:
    """Replace ``path``'s content by ``lines`` atomically and durably."""
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write("".join(lines))
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: Path, *, quiet: bool = False) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """Each line of ``path`` with its record, or None for a torn line (logged unless
    ``quiet``)."""
    if not path.exists():
        return
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = _parse(line)
        if record is None and not quiet:
            _LOGGER.warning("%s line %d is torn (power cut mid-write?); skipped", path, number)
        yield line, record


def _parse(line: str) -> dict[str, Any] | None:
    try:
        record: dict[str, Any] = json.loads(line, object_hook=_decode)
    except json.JSONDecodeError:
        return None
    return record


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    raise TypeError(f"cannot spool {type(value).__name__}")


def _decode(value: dict[str, Any]) -> object:
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    return value
