"""The spool: durable while the database is away, and nothing lost while it is replayed."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

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


def test_an_append_after_a_torn_line_starts_on_a_fresh_line(tmp_path: Path) -> None:
    # A power cut mid-append left half a record and no newline; that part is still on the SIM.
    spool = Spool(tmp_path / "spool.jsonl")
    spool.append([{"n": 1}])
    with spool.path.open("a", encoding="utf-8") as file:
        file.write('{"n": 2, "pdu_he')
    spool.append([{"n": 3}])  # acknowledged: its SIM copy is deleted after this returns
    assert spool.records() == [{"n": 1}, {"n": 3}]
    assert spool.size() == 2


def test_clearing_counts_records_not_torn_lines(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    spool.path.write_text('{"n": 1}\n{"n": 2, "tor\n{"n": 3}\n{"n": 4}\n', encoding="utf-8")
    spool.clear(2)  # a replay stored the first two records it read: 1 and 3
    assert spool.records() == [{"n": 4}]


def test_set_aside_records_can_be_settled_while_new_ones_arrive(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    spool.set_aside({"n": 1}, "too long")
    spool.set_aside({"n": 2}, "bad value")
    read = spool.set_aside_entries()
    spool.set_aside({"n": 3}, "set aside during the retry")
    spool.settle_set_aside(len(read), [read[1]])  # the retry stored n=1, n=2 still refused
    assert [entry["record"] for entry in spool.set_aside_entries()] == [{"n": 2}, {"n": 3}]
    assert spool.set_aside_count() == 2


def test_creating_the_spool_file_fsyncs_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without it, a power cut can forget the new file's name, records and all.
    synced: list[bool] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    spool = Spool(tmp_path / "new" / "spool.jsonl")
    spool.append([{"n": 1}])
    assert synced == [False, True]  # the file, then its folder
    spool.append([{"n": 2}])
    assert synced == [False, True, False]  # an existing file: itself only
