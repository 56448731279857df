"""The roster: stations and observers from CSV, every mistake reported by file and line."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.errors import RosterError
from gateway.roster import read_roster
from store.db import Database
from store.models import Observer, Station

SHAILOO = str(Path(sys.executable).parent / "shailoo")

STATIONS = """code,name,region,district,registered_voters,in_sample
S001,School 1,Chui,Sokuluk,1500,yes
S002,School 2,Osh,Nookat,,no
"""
OBSERVERS = """code,name,phones,station,language
1234,Aida,+996555123456; +996700111222,S001,ky
5678,Bakyt,+996555000111,S002,
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_roster_is_read_whatever_the_order_of_the_files(tmp_path: Path) -> None:
    roster = read_roster([write(tmp_path, "o.csv", OBSERVERS), write(tmp_path, "s.csv", STATIONS)])
    assert [s["code"] for s in roster.stations] == ["S001", "S002"]
    assert roster.stations[1]["in_sample"] is False
    assert roster.observers[0]["phones"] == ["+996555123456", "+996700111222"]
    assert roster.observers[1]["language"] is None


def test_every_mistake_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    stations = write(tmp_path, "s.csv", STATIONS + "S001,again,,,many,maybe\n")
    observers = write(tmp_path, "o.csv", OBSERVERS + "12a4,X,12,S999,de\n")
    with pytest.raises(RosterError) as caught:
        read_roster([observers, stations])
    assert caught.value.problems == [
        f"{stations}:4: station S001 is listed twice",
        f"{stations}:4: registered_voters 'many' is not a whole number",
        f"{stations}:4: in_sample 'maybe' should be yes or no",
        f"{observers}:4: observer ID '12a4' should be digits, as texted",
        f"{observers}:4: '12' is not a phone number",
        f"{observers}:4: station S999 is not in the stations file",
        f"{observers}:4: language 'de' should be ky, ru or en",
    ]


def test_a_file_without_a_header_says_so(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="no 'code' column"):
        read_roster([write(tmp_path, "x.csv", "1234,Aida\n")])


async def run_cli(database: Database, tmp_path: Path, *args: str) -> tuple[int, str]:
    environment = {
        **os.environ,
        "SHAILOO_DATABASE_URL": database.url,
        "SHAILOO_DATA_DIR": str(tmp_path),
    }
    process = await asyncio.create_subprocess_exec(
        SHAILOO, *args, env=environment, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, output.decode()


async def test_roster_import_upserts_and_can_run_again(database: Database, tmp_path: Path) -> None:
    files = [str(write(tmp_path, "o.csv", OBSERVERS)), str(write(tmp_path, "s.csv", STATIONS))]
    for _ in range(2):
        code, output = await run_cli(database, tmp_path, "roster", "import", *files)
        assert code == 0, output
        assert "imported 2 station(s), 2 observer(s)" in output
    async with database.session() as session:
        assert len((await session.scalars(select(Station))).all()) == 2
        observer = await session.get(Observer, "1234")
    assert observer is not None
    assert observer.station_code == "S001"


async def test_roster_import_with_mistakes_imports_nothing_and_exits_2(
    database: Database, tmp_path: Path
) -> None:
    bad = write(tmp_path, "o.csv", OBSERVERS + "9999,X,+996555,S404,\n")
    code, output = await run_cli(database, tmp_path, "roster", "import", str(bad))
    assert code == 2
    assert "station S404 is not in the stations file" in output
    assert "Traceback" not in output
    async with database.session() as session:
        assert (await session.scalars(select(Observer))).all() == []


async def test_forms_load_and_db_upgrade_from_the_command_line(
    database: Database, tmp_path: Path
) -> None:
    code, output = await run_cli(database, tmp_path, "db", "upgrade")
    assert code == 0, output
    assert "database at revision" in output
    forms = Path(__file__).parent.parent / "examples" / "forms" / "presidential.yaml"
    code, output = await run_cli(database, tmp_path, "forms", "load", str(forms))
    assert code == 0, output
    assert "presidential-2027: 5 form(s) loaded" in output
