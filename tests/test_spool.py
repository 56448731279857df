"""The spool: durable while the database is away, and nothing lost while it is replayed."""

from __future__ import annotations

import threading
from pathlib import Path

from gateway.spool import Spool


def test_appends_during_a_replay_are_never_lost(tmp_path: Path) -> None:
    # Hand-ups append from one thread while a replay clears what it read from another.
    spool = Spool(tmp_path / "spool.jsonl")
    written = 400
    cleared = 0

    def hand_ups() -> None:
        for number in range(written):
            spool.append([{"n": number}])

    appender = threading.Thread(target=hand_ups)
    appender.start()
    while appender.is_alive() or spool.size():
        read = len(spool.records())
        spool.clear(read)
        cleared += read
    appender.join()
    assert cleared == written


def test_records_survive_a_round_trip(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append([{"pdu_hex": "0791", "raw": b"\x00\x01"}, {"text": "Привет"}])
    assert spool.records() == [{"pdu_hex": "0791", "raw": b"\x00\x01"}, {"text": "Привет"}]
    assert spool.size() == 2
