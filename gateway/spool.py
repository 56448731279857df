"""The spool: where handed-up parts wait, on local disk, while PostgreSQL is unreachable.

A modem must be able to delete what it handed up even during a database outage, or the SIM
fills and the network stops delivering. So a part that cannot be committed is appended to a
JSON-lines file and ``fsync``'ed before the hand-up returns; once the database is back the file
is replayed (inserts are idempotent by the same key as always) and emptied. A torn last line
(power cut mid-write) is skipped, and reported.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["Spool"]

_LOGGER = logging.getLogger(__name__)


class Spool:
    """An append-only, fsync'ed file of part records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Hand-ups append from worker threads while a replay rewrites the file in another: an
        # append landing between the rewrite's read and its rename would be lost.
        self._lock = threading.Lock()

    def append(self, records: list[dict[str, Any]]) -> None:
        """Write ``records`` and make them durable (one fsync) before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(
            json.dumps(record, default=_encode, ensure_ascii=False) + "\n" for record in records
        )
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, lines.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)

    @property
    def rejected_path(self) -> Path:
        """Where records the database refused are kept, with the reason."""
        return self.path.with_name(self.path.stem + "-rejected.jsonl")

    def set_aside(self, record: dict[str, Any], reason: str) -> None:
        """Keep ``record`` (durably) in the rejected file, with why it was refused."""
        line = (
            json.dumps({"reason": reason, "record": record}, default=_encode, ensure_ascii=False)
            + "\n"
        )
        with self.rejected_path.open("a", encoding="utf-8") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())

    def records(self) -> list[dict[str, Any]]:
        """Every complete record, oldest first."""
        if not self.path.exists():
            return []
        records = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                records.append(json.loads(line, object_hook=_decode))
            except json.JSONDecodeError:
                _LOGGER.warning(
                    "%s line %d is torn (power cut mid-write?); skipped", self.path, number
                )
        return records

    def size(self) -> int:
        """How many records wait (for logs and status)."""
        if not self.path.exists():
            return 0
        with self.path.open("rb") as file:
            return sum(1 for _ in file)

    def clear(self, count: int) -> None:
        """Drop the first ``count`` records, which the database now holds; keep any newer."""
        with self._lock:
            if not self.path.exists():
                return
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text("".join(lines[count:]), encoding="utf-8")
            with temporary.open("rb") as file:
                os.fsync(file.fileno())
            os.replace(temporary, self.path)


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
