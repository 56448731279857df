"""The REST API under load, over a database the size of a national election day.

Seeding (a timeline of its steps is printed; target: well under a minute): an embedded
PostgreSQL in a temporary folder (or an empty database at ``--database-url``), migrated; the
example presidential forms; 500 sampled stations in 9 regions and 1,000 observers
(``gateway.simulation``); a ``read`` token; then 1,000,000 reports, 200,000 per form (OP, VP,
CL, RS, IN), each with the accepted SMS it came from (``messages.parse`` left empty: no route
measured here reads it). Answers are valid for their form: 10,000 answer sets per form, drawn
question by question until the form's checks hold (the results form's figures add up, from
``ElectionDay.results_figures``), the first 200 of each checked with the real parser; reports
take them at random, from random observers, at random times within the form's hours of
yesterday (UTC+6, so that coverage "as of now" sees them all); 2% are quarantined. Reports and
messages go in with binary COPY (``copy_records_to_table``) on raw asyncpg connections, their
secondary indexes dropped first and rebuilt after from the definitions read back from the
catalogue, so the schema stays the migrations' one. The reports go first, since the running
tallies (``store.tallies.rebuild_tallies``, the longest step) wait for them, and the
rest overlaps: the foreign key from reports to messages is dropped meanwhile and added back,
checked, at the end. Then the sequences, and VACUUM ANALYZE, so that autovacuum does not wake up
in the middle of the measurements.

Load: ``shailoo api --workers 2`` as its own process, 50 keep-alive HTTP/1.1 clients (a minimal
asyncio protocol on uvloop that writes prebuilt requests and reads the status line, the headers
and Content-Length bytes, so that it takes little CPU from the server) in a closed loop for 20 s
per endpoint, after a 1 s warm-up that is not counted:

- ``/health`` (no database, no token): the baseline, the framework's ceiling on this machine;
  every endpoint's throughput is printed as a fraction of it;
- ``/api/v1/reports?limit=50``, the newest page (targets: p99 under 50 ms, 1,000 requests/s);
  for comparison the same page filtered by ``form=RS``, by a station (rotating over all 500),
  and ``cursor`` pages around the middle (rotating over 1,000 cursors);
- ``/api/v1/coverage?form=OP`` (target: p99 under 50 ms);
- ``/api/v1/tallies?form=RS`` over 200,000 results reports (target: p99 under 200 ms).

The server runs with its defaults, so the identical newest page, coverage and tallies that 50
dashboards poll are answered from the API's one-second response cache (``api/cache.py``) and
recomputed about once a second per worker. The station and cursor variants show what a query
costs, so they run against a second server with the cache off (``SHAILOO_API__CACHE_S=0``):
rotating over 500 stations or 1,000 cursors, 50 clients would otherwise revisit most keys within
the one-second window and be answered from memory. Target for the station variant, computed
every time: p99 under 50 ms. ``--no-cache`` runs every endpoint with the cache off, as the API
ran before it had one.

With a closed loop, latency and throughput are tied (Little's law): 50 clients at R requests/s
wait 50/R s on average. Each endpoint's cost is therefore printed too: its latency with one
client alone for 2 s, and the CPU time per request of the API processes and of PostgreSQL
(theirs, from /proc, under load; PostgreSQL's only when embedded), with the throughput the
machine's cores could reach at that cost. Last, the RS tallies computed straight from the
reports with one SQL aggregate against the read of the running tallies that ``/tallies`` does:
why ``tally_cells`` exists.

Run: ``python bench/api.py [--reports N] [--seconds S] [--clients C] [--database-url URL]
[--no-cache]``, or ``--quick`` for a smoke run (50,000 reports, 3 s per endpoint).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import os
import platform
import random
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

HERE = Path(__file__).resolve().parent
# Run as a script, this file's folder comes first on sys.path and this very file would shadow
# the ``api`` package it measures.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]

import asyncpg  # noqa: E402
import uvloop  # noqa: E402
from pydantic_core import to_json as dump_json  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from api.auth import make_token, token_hash  # noqa: E402
from api.estimating import read_inputs  # noqa: E402
from api.responses import encode_cursor  # noqa: E402
from estimates import estimate_results  # noqa: E402
from gateway.simulation import ElectionDay, generate_roster  # noqa: E402
from parser import Deployment, Form, load_forms, parse_message, to_json  # noqa: E402
from store import repository  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.queries import tokens  # noqa: E402
from store.tallies import rebuild_tallies  # noqa: E402

FORMS = HERE.parent / "examples" / "forms" / "presidential.yaml"
SHAILOO = str(Path(sys.executable).parent / "shailoo")
STATIONS, OBSERVERS, QUARANTINED = 500, 1000, 0.02
UTC_PLUS_6 = timezone(timedelta(hours=6))  # Kyrgyzstan
HOURS = {"OP": (7.5, 9.0), "VP": (9.0, 19.5), "CL": (20.0, 22.0), "RS": (21.0, 24.0),
         "IN": (8.0, 21.0)}  # fmt: skip
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PLACEHOLDER = "999999"  # the observer ID in pooled SMS: 6 digits, above every integer answer
POOL_PER_FORM = 10_000  # distinct answer sets per form: enough that none is cached
RESULTS_TAGS = frozenset("ABCDEFGHJKMNPQ")  # the example's results form: figures add up
REASON = "bench: figures do not match the protocol photo"
MAINTENANCE_MEMORY = "256MB"  # for the index builds after COPY
COMMENTS = (
    "очередь 40 человек", "всё спокойно", "баары тынч", "queue outside",
    "автобус с избирателями у школы", "наблюдателя не пускают", "протокол илинди",
)  # fmt: skip
MODEM_IMSI = "437050000000001"
MESSAGE_COLUMNS = (
    "id", "direction", "modem_imsi", "sender", "recipient", "text", "parts", "status",
    "error_codes", "form_code", "observer_code", "parse", "created_at",
)  # fmt: skip
REPORT_COLUMNS = (
    "id", "message_id", "form_code", "observer_code", "station_code", "answers", "comment",
    "verified", "quarantined", "quarantine_reason", "created_at",
)  # fmt: skip
# The merged record of each observer, as the pipeline keeps it: here simply the latest report
# (the bench's SMS each carry a whole checklist).
CHECKLISTS = (
    """
INSERT INTO checklists (observer_code, form_code, station_code, answers, counted, version,
                        updated_at)
SELECT DISTINCT ON (observer_code, form_code)
       observer_code, form_code, station_code, answers, '{}'::jsonb, 1, created_at
FROM reports WHERE form_code = ANY($1::text[])
ORDER BY observer_code, form_code, id DESC
""",
    # What counts: the latest report not in quarantine.
    """
UPDATE checklists AS checklist SET counted = latest.answers FROM (
    SELECT DISTINCT ON (observer_code, form_code) observer_code, form_code, answers
    FROM reports WHERE form_code = ANY($1::text[]) AND NOT quarantined
    ORDER BY observer_code, form_code, id DESC
) AS latest
WHERE checklist.observer_code = latest.observer_code AND checklist.form_code = latest.form_code
""",
    # A station has one count: its observers' results agree (else every station is in
    # conflict, as the pooled SMS are drawn at random).
    """
UPDATE checklists AS checklist SET answers = first.answers, counted = first.counted FROM (
    SELECT DISTINCT ON (station_code) station_code, answers, counted
    FROM checklists WHERE form_code = 'RS' ORDER BY station_code, observer_code
) AS first
WHERE checklist.form_code = 'RS' AND checklist.station_code = first.station_code
""",
)
SECONDARY_INDEXES = """
SELECT index.indexrelid::regclass::text, pg_get_indexdef(index.indexrelid)
FROM pg_index AS index
WHERE index.indrelid = $1::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = index.indexrelid)
"""
# The RS tallies the way one would compute them without tally_cells: one aggregate over the
# reports (per region and tag: answers, sum, min and max; per option for the choice tag).
DIRECT_TALLIES = """
SELECT coalesce(station.region, '') AS region, answer.key AS tag,
       CASE WHEN jsonb_typeof(answer.value) = 'number' AND answer.key <> 'R' THEN -1
            ELSE (answer.value #>> '{}')::int END AS option,
       count(*), sum((answer.value #>> '{}')::bigint),
       min((answer.value #>> '{}')::bigint), max((answer.value #>> '{}')::bigint)
FROM reports AS report
LEFT JOIN stations AS station ON station.code = report.station_code,
     jsonb_each(report.answers) AS answer
WHERE report.form_code = 'RS' AND NOT report.quarantined
GROUP BY 1, 2, 3
"""
FOREIGN_KEYS = """
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE contype = 'f' AND conrelid = $1::regclass AND confrelid = $2::regclass
"""
# The page /reports?station=... reads (store.queries.reports), for its plan.
STATION_PAGE = """
SELECT report.*, coalesce(station.region, '') AS region
FROM reports AS report LEFT JOIN stations AS station ON station.code = report.station_code
WHERE report.station_code = 'S0250' ORDER BY report.id DESC LIMIT 51
"""
TALLY_READ = """
SELECT region, tag, option, reports, total, minimum, maximum FROM tally_cells
WHERE form_code = 'RS' AND reports > 0
"""


# -- seeding ------------------------------------------------------------------------------------


def answers_for(form: Form, day: ElectionDay, rng: random.Random) -> dict[str, Any]:
    """Answers to ``form`` as the pipeline stores them, drawn until the form's checks hold:
    option codes, sorted option lists, integers in range (small ones more often); the
    results form gets figures that add up (``ElectionDay.results_figures``)."""
    for _ in range(100):
        answers: dict[str, Any] = {}
        for question in form.questions:
            if not question.required and rng.random() < 0.2:
                continue
            if question.type == "choice":
                answers[question.tag] = rng.choice(list(question.options))
            elif question.type == "multi":
                chosen = rng.sample(sorted(question.options), rng.randint(1, 3))
                answers[question.tag] = sorted(chosen)
            else:
                low, high = question.lowest, min(question.highest, 2500)
                answers[question.tag] = low + int((high - low) * rng.random() ** 2)
        if form.tags >= RESULTS_TAGS:
            answers.update({tag: int(value) for tag, value in day.results_figures().items()})
        values = {tag: tuple(v) if isinstance(v, list) else v for tag, v in answers.items()}
        if all(check.expr.holds(values) for check in form.checks
               if values.keys() >= check.expr.tag_set):  # fmt: skip
            return answers
    raise RuntimeError(f"no answers to {form.code} pass its checks")


@dataclass(frozen=True, slots=True)
class Pooled:
    """An accepted SMS of one form, with ``PLACEHOLDER`` as its observer ID."""

    text: str
    answers: str  # JSON, as in reports.answers
    comment: str | None


def sms_pool(deployment: Deployment, form: Form, size: int, rng: random.Random) -> list[Pooled]:
    """``size`` accepted SMS of ``form``, some with a comment (most incidents have one)."""
    day = ElectionDay(deployment, rng)
    pool = []
    for _ in range(size):
        answers = answers_for(form, day, rng)
        words = [f"{tag}{''.join(map(str, v)) if isinstance(v, list) else v}"
                 for tag, v in answers.items()]  # fmt: skip
        comment = None
        if rng.random() < (0.6 if form.kind == "incident" else 0.05):
            comment = rng.choice(COMMENTS)
        text = " ".join([form.code, PLACEHOLDER, *words]) + (f" @ {comment}" if comment else "")
        pool.append(Pooled(text, dump_json(answers).decode(), comment))
    return pool


def check_with_parser(deployment: Deployment, pool: Sequence[Pooled], count: int) -> None:
    """The real parser accepts the first ``count`` SMS of a pool, with the same answers."""
    for pooled in pool[:count]:
        result = parse_message(pooled.text, deployment)
        answers = to_json(result, deployment, "en")["answers"]
        if not result.ok or dump_json(answers).decode() != pooled.answers:
            raise AssertionError(f"the parser does not read {pooled.text!r} as drawn")


@dataclass(slots=True)
class Plan:
    """What every report will be, in time order (ids follow time, as they do live)."""

    rows: list[tuple[datetime, int, int, int, bool]]  # time, form, observer, SMS, quarantined
    forms: list[str]
    observers: list[tuple[str, str, str]]  # code, phone, station
    pools: list[list[Pooled]]  # by form
    day: datetime


def plan_reports(
    deployment: Deployment, observers: list[dict[str, Any]], count: int, rng: random.Random
) -> Plan:
    """The SMS pools and ``count`` reports spread evenly over the forms and the observers,
    each at a random time within its form's hours of election day."""
    pools = [sms_pool(deployment, form, POOL_PER_FORM, rng) for form in deployment.forms]
    for pool in pools:
        check_with_parser(deployment, pool, 200)
    # Election day was yesterday (UTC+6), so that "now" (coverage's default) is after it.
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    day = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=UTC_PLUS_6)
    forms = [form.code for form in deployment.forms]
    rows: list[tuple[datetime, int, int, int, bool]] = []
    for number, code in enumerate(forms):
        size = count // len(forms) + (number < count % len(forms))
        start, end = (hour * 3600 for hour in HOURS[code])
        times = [day + timedelta(seconds=start + (end - start) * rng.random()) for _ in range(size)]
        rows += zip(
            times, [number] * size, rng.choices(range(len(observers)), k=size),
            rng.choices(range(POOL_PER_FORM), k=size),
            [rng.random() < QUARANTINED for _ in range(size)], strict=True,
        )  # fmt: skip
    rows.sort(key=itemgetter(0))
    who = [(o["code"], o["phones"][0], o["station_code"]) for o in observers]
    return Plan(rows, forms, who, pools, day)


def message_rows(plan: Plan) -> Iterator[tuple[Any, ...]]:
    """The accepted SMS behind every report (ids 1..N, as the reports')."""
    for number, (at, form, observer, sms, _) in enumerate(plan.rows, start=1):
        code, phone, _ = plan.observers[observer]
        text = plan.pools[form][sms].text.replace(PLACEHOLDER, code, 1)
        yield (number, "in", MODEM_IMSI, phone, "", text, 1, "accepted", [], plan.forms[form],
               code, "{}", at)  # fmt: skip


def report_rows(plan: Plan) -> Iterator[tuple[Any, ...]]:
    """Every report, from the message of the same id."""
    for number, (at, form, observer, sms, quarantined) in enumerate(plan.rows, start=1):
        code, _, station = plan.observers[observer]
        pooled = plan.pools[form][sms]
        yield (number, number, plan.forms[form], code, station, pooled.answers, pooled.comment,
               True, quarantined, REASON if quarantined else None, at)  # fmt: skip


class Timeline:
    """When each seeding step started and ended, from one origin (steps overlap)."""

    def __init__(self) -> None:
        self.origin = time.perf_counter()
        self.steps: list[tuple[str, float, float]] = []

    @contextlib.asynccontextmanager
    async def step(self, name: str) -> AsyncIterator[None]:
        started = time.perf_counter() - self.origin
        yield
        self.steps.append((name, started, time.perf_counter() - self.origin))

    @property
    def total(self) -> float:
        return max(end for _, _, end in self.steps)


async def secondary_indexes(connection: asyncpg.Connection, table: str) -> list[str]:
    """Drop the indexes of ``table`` that back no constraint; their definitions."""
    indexes = await connection.fetch(SECONDARY_INDEXES, table)
    for name, _ in indexes:
        await connection.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes]


async def load_messages(url: str, plan: Plan, timeline: Timeline, after: asyncio.Event) -> None:
    """COPY the messages (once ``after`` is set) without their indexes, rebuild these, VACUUM
    ANALYZE."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"SET maintenance_work_mem = '{MAINTENANCE_MEMORY}'")
        indexes = await secondary_indexes(connection, "messages")
        await after.wait()
        async with timeline.step("COPY messages"):
            await connection.copy_records_to_table(
                "messages", records=message_rows(plan), columns=list(MESSAGE_COLUMNS)
            )
        async with timeline.step(f"{len(indexes)} indexes of messages"):
            for definition in indexes:
                await connection.execute(definition)
        async with timeline.step("VACUUM ANALYZE messages"):
            await connection.execute("VACUUM (ANALYZE) messages")
    finally:
        await connection.close()


async def load_reports(
    db: Database, url: str, plan: Plan, integers: dict[str, list[str]],
    checklist_forms: list[str], timeline: Timeline, copied: asyncio.Event,
) -> None:  # fmt: skip
    """COPY the reports without their indexes (then set ``copied``), then rebuild these and
    the tallies side by side, VACUUM ANALYZE."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"SET maintenance_work_mem = '{MAINTENANCE_MEMORY}'")
        indexes = await secondary_indexes(connection, "reports")
        async with timeline.step("COPY reports"):
            await connection.copy_records_to_table(
                "reports", records=report_rows(plan), columns=list(REPORT_COLUMNS)
            )
        copied.set()

        async def build_indexes() -> None:
            async with timeline.step(f"{len(indexes)} indexes of reports"):
                for definition in indexes:
                    await connection.execute(definition)

        await asyncio.gather(build_indexes(), tallies(db, integers, timeline))
        async with timeline.step("checklists (each observer's latest report)"):
            for statement in CHECKLISTS:
                await connection.execute(
                    statement, *([checklist_forms] if "$1" in statement else [])
                )
        async with timeline.step("VACUUM ANALYZE reports, tally_cells, checklists"):
            await connection.execute("VACUUM (ANALYZE) reports, tally_cells, checklists")
    finally:
        await connection.close()


async def tallies(db: Database, integers: dict[str, list[str]], timeline: Timeline) -> None:
    """``rebuild_tallies``, given the integer questions of each form."""
    async with timeline.step("rebuild_tallies"), db.session() as session:
        await rebuild_tallies(session, integers)
        await session.commit()


@dataclass(slots=True)
class Seeded:
    """What seeding made, and how long each step took."""

    reports: int
    quarantined: int
    regions: int
    token: str
    day: datetime
    timeline: Timeline


async def seed(db: Database, url: str, count: int, rng: random.Random) -> Seeded:
    """Forms, roster, token, then ``count`` reports and their messages; tallies; statistics.

    The reports go in first, since the tallies (the longest step) wait for them; so the
    foreign key from reports to messages is dropped meanwhile, and added back (which checks
    it) at the end. The rest overlaps as far as it can."""
    timeline = Timeline()
    async with timeline.step("schema, forms, roster, token"):
        await upgrade(db)
        deployment = load_forms(FORMS.read_text(encoding="utf-8"))
        token, prefix = make_token()
        # The whole frame: the sample and three times as many stations, as the estimates need.
        stations, observers = generate_roster(STATIONS, OBSERVERS, rng, unsampled=3 * STATIONS)
        async with db.session() as session:
            await repository.save_forms(
                session, deployment.deployment, deployment.content_hash,
                deployment.model_dump(mode="json"),
            )  # fmt: skip
            await repository.upsert_stations(session, stations)
            await repository.upsert_observers(session, observers)
            await tokens.add_token(session, "bench", "read", prefix, token_hash(token))
            await session.commit()
    async with timeline.step("SMS pools and the plan of reports"):
        plan = plan_reports(deployment, observers, count, rng)
    connection = await asyncpg.connect(url)
    try:
        keys = await connection.fetch(FOREIGN_KEYS, "reports", "messages")
        for name, _ in keys:
            await connection.execute(f"ALTER TABLE reports DROP CONSTRAINT {name}")
        copied = asyncio.Event()
        integers = {form.code: [q.tag for q in form.questions if q.type == "integer"]
                    for form in deployment.forms}  # fmt: skip
        checklist_forms = [form.code for form in deployment.forms if form.kind == "checklist"]
        await asyncio.gather(
            load_messages(url, plan, timeline, copied),
            load_reports(db, url, plan, integers, checklist_forms, timeline, copied),
        )
        async with timeline.step("foreign key, sequences, ANALYZE the rest"):
            for name, definition in keys:
                await connection.execute(f"ALTER TABLE reports ADD CONSTRAINT {name} {definition}")
            for table in ("messages", "reports"):
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {len(plan.rows)})"
                )
            await connection.execute("ANALYZE stations, observers, forms, api_tokens")
    finally:
        await connection.close()
    quarantined = sum(1 for row in plan.rows if row[4])
    regions = len({station["region"] for station in stations})
    return Seeded(len(plan.rows), quarantined, regions, token, plan.day, timeline)


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_api(
    url: str, port: int, workers: int, folder: str, *, cache: bool = True
) -> asyncio.subprocess.Process:
    """``shailoo api`` in its own process group, in ``folder`` (no stray shailoo.toml); with
    ``cache`` false, its response cache off."""
    environment = {
        **os.environ,
        "SHAILOO_DATABASE_URL": url,
        "SHAILOO_DATA_DIR": folder,
        "SHAILOO_LOG_LEVEL": "WARNING",
    }
    environment.pop("SHAILOO_API__CACHE_S", None)
    if not cache:
        environment["SHAILOO_API__CACHE_S"] = "0"
    return await asyncio.create_subprocess_exec(
        SHAILOO, "api", "--workers", str(workers), "--api-port", str(port),
        env=environment, cwd=folder, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


async def wait_healthy(port: int, server: asyncio.subprocess.Process, timeout_s: float) -> None:
    """Until /health answers 200 (on a fresh connection each try)."""
    deadline = time.perf_counter() + timeout_s
    request = get_request("/health", port, None)
    while True:
        if server.returncode is not None:
            raise RuntimeError(f"shailoo api exited with status {server.returncode}")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status = await reader.readline()
            writer.close()
            if status.split()[1:2] == [b"200"]:
                return
        except (OSError, IndexError):
            pass
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the API did not answer /health within {timeout_s:.0f} s")
        await asyncio.sleep(0.2)


async def stop_api(server: asyncio.subprocess.Process) -> None:
    """SIGTERM to the server's process group (the supervisor and its workers), then wait."""
    if server.returncode is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(server.wait(), 15)
        except TimeoutError:
            os.killpg(server.pid, signal.SIGKILL)
            await server.wait()


# -- the load generator -------------------------------------------------------------------------


def get_request(target: str, port: int, token: str | None) -> bytes:
    """A prebuilt keep-alive GET."""
    lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def response_head(head: bytes) -> tuple[int, int]:
    """The status and Content-Length of a response head (no chunked bodies here)."""
    lines = head.split(b"\r\n")
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ValueError(f"a response without Content-Length: {lines[0]!r}")
    return int(lines[0].split()[1]), length


@dataclass(slots=True)
class Sample:
    """What the clients of one run saw."""

    latencies: list[float] = field(default_factory=list)
    failed: int = 0  # a status other than 200
    dropped: int = 0  # connections lost before the end
    first: float = 0.0
    last: float = 0.0


class Client(asyncio.Protocol):
    """One keep-alive connection: a request, its whole response, the next request, until
    ``deadline``. No coroutine per request: callbacks only."""

    def __init__(
        self, requests: Sequence[bytes], offset: int, deadline: float, sample: Sample
    ) -> None:
        self.requests, self.next, self.deadline, self.sample = requests, offset, deadline, sample
        self.buffer = bytearray()
        self.expected = -1
        self.status = 0
        self.sent = 0.0
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        request = self.requests[self.next % len(self.requests)]
        self.next += 1
        self.sent = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        try:
            self.receive(data)
        except ValueError as exc:  # not an HTTP response we can read: stop, and say why
            assert self.transport is not None
            self.transport.close()
            if not self.finished.done():
                self.finished.set_exception(exc)

    def receive(self, data: bytes) -> None:
        self.buffer += data
        if self.expected < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status, length = response_head(bytes(self.buffer[:end]))
            self.expected = end + 4 + length
        if len(self.buffer) < self.expected:
            return
        now = time.perf_counter()
        self.sample.latencies.append(now - self.sent)
        self.sample.failed += self.status != 200
        self.sample.last = max(self.sample.last, now)
        del self.buffer[: self.expected]
        self.expected = -1
        if now < self.deadline:
            self.send()
        else:
            self.finished.set_result(None)
            assert self.transport is not None
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            self.sample.dropped += 1
            self.finished.set_result(None)


async def load(port: int, requests: Sequence[bytes], clients: int, seconds: float) -> Sample:
    """``clients`` connections sending ``requests`` (in turn, each from its own offset) for
    ``seconds``. The load generator's own garbage collector is off meanwhile: a pass pauses
    every request in flight, and the server would be blamed for it (it added about 10 ms to the
    computed station pages' p99 here)."""
    gc.collect()
    gc.disable()
    try:
        return await _loaded(port, requests, clients, seconds)
    finally:
        gc.enable()


async def _loaded(port: int, requests: Sequence[bytes], clients: int, seconds: float) -> Sample:
    loop = asyncio.get_running_loop()
    sample = Sample(first=time.perf_counter())
    deadline = sample.first + seconds
    connections = []
    for number in range(clients):
        offset = number * max(1, len(requests) // clients)
        factory = functools.partial(Client, requests, offset, deadline, sample)
        _, client = await loop.create_connection(factory, "127.0.0.1", port)
        connections.append(client)
    await asyncio.wait_for(
        asyncio.gather(*(client.finished for client in connections)), seconds + 60
    )
    return sample


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A line of the results: what is asked, and the targets that apply."""

    label: str
    requests: list[bytes]
    p99_ms: float | None = None
    per_s: float | None = None
    cached: bool = True  # False: measured against a server with the response cache off


@dataclass(frozen=True, slots=True)
class Figures:
    """One endpoint's results."""

    requests: int
    per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    failed: int
    dropped: int
    solo_p50_ms: float
    cpu_share: float  # of one core, by this process (the load generator)
    api_cpu_ms: float  # CPU time of the API processes per request
    database_cpu_ms: float | None  # of PostgreSQL's (None: not ours to watch)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_seconds(root: int | None) -> float:
    """CPU time (user and system) used so far by ``root`` and every process under it, the
    exited ones included (their parents' cutime and cstime)."""
    if root is None:
        return 0.0
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        used[int(entry.name)] = sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += used.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total


@dataclass(frozen=True, slots=True)
class Watched:
    """The processes whose CPU time is counted: the API's, PostgreSQL's (None: remote)."""

    api: int
    database: int | None


async def measure(
    port: int, endpoint: Endpoint, options: argparse.Namespace, watched: Watched
) -> Figures:
    """A warm-up, the loaded run, and a run by one client alone."""
    await load(port, endpoint.requests, options.clients, options.warmup)
    cpu = time.process_time()
    api, database = cpu_seconds(watched.api), cpu_seconds(watched.database)
    sample = await load(port, endpoint.requests, options.clients, options.seconds)
    api, database = cpu_seconds(watched.api) - api, cpu_seconds(watched.database) - database
    cpu = time.process_time() - cpu
    solo = await load(port, endpoint.requests, 1, options.solo_seconds)
    ordered = sorted(sample.latencies)
    elapsed = sample.last - sample.first
    return Figures(
        requests=len(ordered), per_s=len(ordered) / elapsed,
        p50_ms=percentile(ordered, 0.5) * 1000, p99_ms=percentile(ordered, 0.99) * 1000,
        max_ms=ordered[-1] * 1000, failed=sample.failed + solo.failed,
        dropped=sample.dropped + solo.dropped,
        solo_p50_ms=statistics.median(solo.latencies) * 1000, cpu_share=cpu / elapsed,
        api_cpu_ms=api / len(ordered) * 1000,
        database_cpu_ms=database / len(ordered) * 1000 if watched.database else None,
    )  # fmt: skip


def endpoints(port: int, token: str, reports: int) -> list[Endpoint]:
    """What is measured, the baseline first."""

    def get(target: str) -> bytes:
        return get_request(target, port, token)

    stations = [f"S{number:04d}" for number in range(1, STATIONS + 1)]
    cursors = [encode_cursor(reports // 4 + number * (reports // 2000)) for number in range(1000)]
    return [
        Endpoint("/health (baseline)", [get_request("/health", port, None)]),
        Endpoint("reports?limit=50", [get("/api/v1/reports?limit=50")], 50, 1000),
        Endpoint("reports?form=RS&limit=50", [get("/api/v1/reports?form=RS&limit=50")]),
        Endpoint(
            "reports?station=(500), uncached",
            [get(f"/api/v1/reports?station={code}&limit=50") for code in stations],
            p99_ms=50,
            cached=False,
        ),
        Endpoint(
            "reports?cursor=(1,000), uncached",
            [get(f"/api/v1/reports?cursor={cursor}&limit=50") for cursor in cursors],
            cached=False,
        ),
        Endpoint("coverage?form=OP", [get("/api/v1/coverage?form=OP")], 50),
        Endpoint("tallies?form=RS", [get("/api/v1/tallies?form=RS")], 200),
        Endpoint("estimates?form=RS", [get("/api/v1/estimates?form=RS")], 100),
        Endpoint(
            "estimates?form=RS, uncached", [get("/api/v1/estimates?form=RS")], 100, cached=False
        ),
        Endpoint(
            "estimates/process?form=OP, uncached",
            [get("/api/v1/estimates/process?form=OP")],
            cached=False,
        ),
    ]


# -- the tallies without tally_cells ------------------------------------------------------------


async def median_ms(connection: asyncpg.Connection, query: str, runs: int) -> tuple[float, int]:
    """The median time of ``query`` over ``runs`` (after one untimed run), and its row count."""
    rows = len(await connection.fetch(query))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await connection.fetch(query)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, rows


# -- reporting ----------------------------------------------------------------------------------


async def print_plan(connection: asyncpg.Connection, query: str) -> None:
    """How PostgreSQL runs the station page: whether an index gives it its 51 rows."""
    await connection.fetch(query)  # warm the cache, as the loaded runs are
    plan = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + query)
    print("\nthe station page's plan (reports?station=S0250&limit=50):")
    for row in plan:
        print(f"  {row[0]}")


def machine(server_version: str) -> str:
    cpus = len(os.sched_getaffinity(0))
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.machine(),
    )  # fmt: skip
    load_average = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"machine: {cpus} cores ({model}), load average {load_average}; "
        f"Python {platform.python_version()}, PostgreSQL {server_version}"
    )


def verdict(endpoint: Endpoint, figures: Figures) -> str:
    parts = []
    if endpoint.p99_ms is not None:
        met = figures.p99_ms < endpoint.p99_ms
        parts.append(f"p99 < {endpoint.p99_ms:.0f} ms: {'met' if met else 'NOT met'}")
    if endpoint.per_s is not None:
        met = figures.per_s >= endpoint.per_s
        parts.append(f">= {endpoint.per_s:,.0f}/s: {'met' if met else 'NOT met'}")
    return "; ".join(parts)


def print_seeding(seeded: Seeded) -> None:
    print(
        f"seeded {seeded.reports:,} reports ({seeded.reports // 5:,} per form, "
        f"{seeded.quarantined:,} quarantined) and their {seeded.reports:,} messages over "
        f"election day {seeded.day:%Y-%m-%d} (UTC+6); {STATIONS} stations in "
        f"{seeded.regions} regions, {OBSERVERS:,} observers"
    )
    for name, started, ended in seeded.timeline.steps:
        print(f"  {name:<42} {started:5.1f} to {ended:5.1f} s  ({ended - started:4.1f} s)")
    total = seeded.timeline.total
    print(f"  {'seeding in all':<42} {total:5.1f} s (target: well under a minute)", flush=True)


def print_figures(results: list[tuple[Endpoint, Figures]], options: argparse.Namespace) -> None:
    print(
        f"\n{options.clients} keep-alive clients for {options.seconds:g} s per endpoint "
        f"(after {options.warmup:g} s of warm-up); server: shailoo api --workers {options.workers}"
    )
    print(
        "response cache: off for every endpoint (--no-cache)"
        if options.no_cache
        else "response cache: on (the default), off for the endpoints marked uncached"
    )
    print(
        f"{'endpoint':<32} {'requests':>8} {'req/s':>7} {'of /health':>10} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'non-200':>7}  target"
    )
    baseline = results[0][1].per_s
    for endpoint, figures in results:
        print(
            f"{endpoint.label:<32} {figures.requests:>8} {figures.per_s:>7.0f} "
            f"{figures.per_s / baseline:>10.0%} {figures.p50_ms:>7.1f} {figures.p99_ms:>7.1f} "
            f"{figures.max_ms:>7.1f} {figures.failed + figures.dropped:>7}  "
            f"{verdict(endpoint, figures)}"
        )
    share = max(figures.cpu_share for _, figures in results)
    print(f"(the load generator used at most {share:.0%} of one core)")


def print_costs(results: list[tuple[Endpoint, Figures]], options: argparse.Namespace) -> None:
    cores = len(os.sched_getaffinity(0))
    print(
        f"\nwhat a request costs: latency with one client alone ({options.solo_seconds:g} s), "
        f"CPU time per request under load, and the requests/s that {cores} cores doing "
        "nothing else could serve at that cost"
    )
    alone, api, postgres, ceiling = "alone p50 ms", "API CPU ms", "PostgreSQL", "ceiling/s"
    print(f"{'endpoint':<32} {alone:>12} {api:>10} {postgres:>10} {ceiling:>9}")
    for endpoint, figures in results:
        database = figures.database_cpu_ms
        per_s = cores * 1000 / (figures.api_cpu_ms + (database or 0.0))
        print(
            f"{endpoint.label:<32} {figures.solo_p50_ms:>12.2f} {figures.api_cpu_ms:>10.2f} "
            f"{'-' if database is None else f'{database:.2f}':>10} {per_s:>9.0f}"
        )


def print_tallies(direct_ms: float, rows: int, read_ms: float, api: Figures, per_form: int) -> None:
    print(
        f"\nRS tallies from the reports, one SQL aggregate over {per_form:,} reports: "
        f"median {direct_ms:.1f} ms ({rows} rows)"
    )
    print(
        f"RS tallies from tally_cells (what /tallies reads):                median "
        f"{read_ms:.2f} ms, {direct_ms / read_ms:.0f}x faster; the endpoint alone: "
        f"p50 {api.solo_p50_ms:.2f} ms"
    )


async def print_estimate(db: Database, reports: int, runs: int = 9) -> None:
    """The quick count computed in this process, as the API computes it: read the frame and
    the checklists, then estimate; the median of ``runs``."""
    deployment = load_forms(FORMS.read_text(encoding="utf-8"))
    form = deployment.form("RS")
    assert form is not None
    timings: list[tuple[float, float]] = []
    for _ in range(runs):
        started = time.perf_counter()
        async with db.session() as session:
            frame, rows = await read_inputs(session, deployment, form, {})
        read = time.perf_counter()
        result = estimate_results(frame, rows, form)
        timings.append((read - started, time.perf_counter() - read))
    reading = statistics.median(t[0] for t in timings) * 1000
    computing = statistics.median(t[1] for t in timings) * 1000
    print(
        f"\nRS quick count over {result.sample.stations} sampled stations from {reports:,} "
        f"reports ({len(rows):,} checklists): median {reading + computing:.1f} ms "
        f"(reading {reading:.1f} ms, estimating {computing:.1f} ms); "
        f"{result.sample.reported} stations reported"
    )


# -- main ---------------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: embedded)")
    parser.add_argument("--reports", type=int, help="default 1,000,000 (--quick: 50,000)")
    parser.add_argument("--seconds", type=float, help="per endpoint: default 20 (--quick: 3)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="of shailoo api")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds, not counted")
    parser.add_argument("--solo-seconds", type=float, help="one client: default 2 (--quick: 1)")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument(
        "--no-cache", action="store_true", help="every endpoint with the response cache off"
    )
    options = parser.parse_args()
    defaults = (50_000, 3.0, 1.0) if options.quick else (1_000_000, 20.0, 2.0)
    for name, default in zip(("reports", "seconds", "solo_seconds"), defaults, strict=True):
        if getattr(options, name) is None:
            setattr(options, name, default)
    return options


async def run(options: argparse.Namespace, folder: str) -> None:
    db = await Database.open(options.database_url, Path(folder) / "postgres")
    url = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(url)
        try:
            print(machine(await connection.fetchval("SHOW server_version")), flush=True)
            seeded = await seed(db, url, options.reports, random.Random(2027))
            print_seeding(seeded)
            direct_ms, rows = await median_ms(connection, DIRECT_TALLIES, 5)
            read_ms, _ = await median_ms(connection, TALLY_READ, 21)
            await print_plan(connection, STATION_PAGE)
        finally:
            await connection.close()
        results = []
        for cache in (False,) if options.no_cache else (True, False):
            port = free_port()
            wanted = [
                endpoint
                for endpoint in endpoints(port, seeded.token, seeded.reports)
                if options.no_cache or endpoint.cached == cache
            ]
            results += await measure_server(url, port, folder, cache, wanted, options, db)
        order = [endpoint.label for endpoint in endpoints(0, seeded.token, seeded.reports)]
        results.sort(key=lambda result: order.index(result[0].label))
        print_figures(results, options)
        print_costs(results, options)
        tally = next(figures for endpoint, figures in results if endpoint.label.startswith("tall"))
        print_tallies(direct_ms, rows, read_ms, tally, seeded.reports // 5)
        await print_estimate(db, seeded.reports)
    finally:
        await db.close()
        if db.server is not None:  # stop it now, before its folder is deleted
            await asyncio.to_thread(db.server.cleanup)


async def measure_server(
    url: str,
    port: int,
    folder: str,
    cache: bool,
    wanted: list[Endpoint],
    options: argparse.Namespace,
    db: Database,
) -> list[tuple[Endpoint, Figures]]:
    """``wanted`` measured against one ``shailoo api``, its response cache on or off."""
    server = await start_api(url, port, options.workers, folder, cache=cache)
    watched = Watched(server.pid, db.server.get_pid() if db.server is not None else None)
    try:
        await wait_healthy(port, server, 60)
        return [(endpoint, await measure(port, endpoint, options, watched)) for endpoint in wanted]
    finally:
        await stop_api(server)


def main() -> None:
    options = arguments()
    with (
        tempfile.TemporaryDirectory(prefix="shailoo-bench-api-") as folder,
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
    ):
        runner.run(run(options, folder))
    load_average = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\n(finished {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load_average})")


if __name__ == "__main__":
    main()
