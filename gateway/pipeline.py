"""From stored parts to messages, reports and replies, one transaction per batch.

``Pipeline.process_pending`` claims the parts of this gateway's modems that are not in a message
yet (``FOR UPDATE SKIP LOCKED``), reassembles them (``gateway.assembly``), and for each message
parses it, runs the checks that need data (UNKNOWN_OBSERVER, SENDER_MISMATCH, DUPLICATE_MESSAGE),
stores the report, merges checklists, and queues the reply in the outbox, all in the same
transaction as the message itself (the transactional outbox): a crash leaves either all of it or
none of it, and the parts are claimed again.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.assembly import Assembled, assemble
from parser import (
    Deployment,
    ErrorCode,
    Form,
    ParseError,
    ParseResult,
    parse_message,
    to_json,
)
from parser.replies import render_incomplete
from store import repository
from store.db import Database
from store.metrics import PIPELINE_LATENCY
from store.models import Checklist, Message, Observer, OutboxMessage, Report
from store.settings import Settings
from store.tallies import Cells, add_cells

__all__ = ["Pipeline", "can_reply_to"]

_LOGGER = logging.getLogger(__name__)
_REPLYABLE = re.compile(r"\+?\d{7,15}")  # short codes and alphanumeric senders are robots


def can_reply_to(sender: str) -> bool:
    """Whether ``sender`` is a phone number we may answer (not a short code or a name)."""
    return _REPLYABLE.fullmatch(sender) is not None


@dataclass(slots=True)
class _Batch:
    """What one batch of messages needs from the database, fetched once."""

    results: dict[int, ParseResult]  # by the first part's id
    observers: dict[str, Observer]
    seen: set[tuple[str, str]]  # (sender, text) counted within the duplicate window
    replies: Counter[str]  # replies queued per sender in the last hour
    checklists: dict[tuple[str, str], Checklist]  # by (observer, form), locked
    regions: dict[str, str]  # by station code
    cells: Cells = field(default_factory=Cells)  # what the batch's reports add to the tallies
    messages: list[Message] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message."""

    status: str
    result: ParseResult
    observer: Observer | None


class Pipeline:
    """Turns stored parts into messages; one per gateway process."""

    def __init__(self, db: Database, deployment: Deployment, settings: Settings) -> None:
        self.db = db
        self.deployment = deployment
        self.settings = settings
        self.integer_tags = {
            form.code: {q.tag for q in form.questions if q.type == "integer"}
            for form in deployment.forms
        }

    async def process_pending(self, modems: Sequence[str]) -> int:
        """Assemble and process what is ready for ``modems``; how many messages were made."""
        now = datetime.now(UTC)
        async with self.db.transaction() as session:
            rows = await repository.claim_unassembled(session, modems)
            ready = assemble(rows, now, timedelta(seconds=self.settings.incomplete_after_s))
            # Lookups are made once per batch, not per message; flushes only where an id is due.
            with session.no_autoflush:
                batch = await self._batch(session, ready, now)
                for message in ready:
                    self._process(session, message, batch)
            await self._finish(session, batch)
        _observe_latency(ready)
        return len(ready)

    async def _finish(self, session: AsyncSession, batch: _Batch) -> None:
        """What the whole batch adds: tallies, then the events (last: they take a lock)."""
        await session.flush()
        await add_cells(session, batch.cells)
        events = [("message", message.id) for message in batch.messages]
        events += [("report", report.id) for report in batch.reports]
        await repository.record_events(session, events)

    async def _batch(self, session: AsyncSession, ready: list[Assembled], now: datetime) -> _Batch:
        results = {
            message.first.id: parse_message(message.text, self.deployment)
            for message in ready
            if message.first.decode_error is None and message.first.kind == "deliver"
        }
        codes = {result.observer for result in results.values() if result.observer}
        senders = {message.first.sender for message in ready}
        window = now - timedelta(seconds=self.settings.duplicate_window_s)
        observers = await repository.observers_by_code(session, codes)
        stations = {o.station_code for o in observers.values() if o.station_code}
        checklist_keys = {
            (result.observer, result.form) for result in results.values()
            if result.observer in observers and result.form
            and (form := self.deployment.form(result.form)) is not None
            and form.kind == "checklist"
        }  # fmt: skip
        return _Batch(
            results=results,
            observers=observers,
            seen=await repository.recent_texts(session, senders, window),
            replies=await repository.reply_counts(session, senders, now - timedelta(hours=1)),
            checklists=await repository.checklists_for_update(session, checklist_keys),
            regions=await repository.station_regions(session, stations),
        )

    def _process(self, session: AsyncSession, assembled: Assembled, batch: _Batch) -> None:
        first = assembled.first
        message = repository.add_message(session, Message(
            direction="in", modem_imsi=first.modem_imsi, sender=first.sender,
            text=assembled.text, parts=len(assembled.parts), status="received", error_codes=[],
            parse={},
        ), assembled.rows)  # fmt: skip
        batch.messages.append(message)
        result = batch.results.get(first.id)
        if result is None:
            undecodable = first.decode_error is not None
            message.status = "undecodable" if undecodable else first.kind  # or a status report
            message.error_codes = ["UNDECODABLE_PDU"] if undecodable else []
            return
        outcome = self._judge(message, result, batch)
        if not assembled.complete:
            outcome = replace(outcome, status="incomplete")
        self._record(session, message, outcome, assembled.complete, batch)

    def _judge(self, message: Message, result: ParseResult, batch: _Batch) -> Outcome:
        if result.observer is None:
            return Outcome("rejected", result, None)
        observer = batch.observers.get(result.observer)
        if observer is None:
            flagged = _flag(result, ErrorCode.UNKNOWN_OBSERVER, result.observer)
            return Outcome("rejected", flagged, None)
        if not result.ok:
            return Outcome("rejected", result, observer)
        if (message.sender, message.text) in batch.seen:
            return Outcome("duplicate", _flag(result, ErrorCode.DUPLICATE_MESSAGE, ""), observer)
        batch.seen.add((message.sender, message.text))
        if _normalized(message.sender) not in {_normalized(p) for p in observer.phones}:
            flagged = _flag(result, ErrorCode.SENDER_MISMATCH, result.observer)
            if self.settings.sender_mismatch == "reject":
                return Outcome("rejected", flagged, observer)
            return Outcome("unverified", result, observer)
        return Outcome("accepted", result, observer)

    def _record(
        self,
        session: AsyncSession,
        message: Message,
        outcome: Outcome,
        complete: bool,
        batch: _Batch,
    ) -> None:
        result = outcome.result
        status = outcome.status
        if status in ("accepted", "unverified") and complete:
            failed_check = self._store_report(session, message, result, outcome, batch)
            if failed_check is not None:
                status = "rejected"
                result = _flag(result, ErrorCode.CHECK_FAILED, "", check=failed_check)
        language = _language(outcome.observer, self.deployment)
        message.status = status
        message.form_code = result.form
        message.observer_code = result.observer
        message.error_codes = sorted({error.code.value for error in result.errors})
        message.parse = to_json(result, self.deployment, language)
        if status == "incomplete":  # no report was stored: never say "accepted"
            message.parse["reply"] = render_incomplete(self.deployment, language)
        self._queue_reply(session, message, message.parse["reply"], batch)

    def _store_report(
        self,
        session: AsyncSession,
        message: Message,
        result: ParseResult,
        outcome: Outcome,
        batch: _Batch,
    ) -> int | None:
        """Store the report and merge a checklist; the index of a check the merge fails."""
        observer = outcome.observer
        form = self.deployment.form(result.form or "")
        if observer is None or form is None:  # judged accepted: both are known
            return None
        answers = _json_answers(result)
        if form.kind == "checklist":
            failed = self._merge(session, message, observer, form, answers, batch)
            if failed is not None:
                return failed
        report = Report(
            message=message, form_code=form.code, observer_code=observer.code,
            station_code=observer.station_code, answers=answers, comment=result.comment,
            verified=outcome.status == "accepted", quarantined=False,
        )  # fmt: skip
        repository.add_report(session, report)
        batch.reports.append(report)
        region = batch.regions.get(observer.station_code or "", "")
        batch.cells.add_report(form.code, region, answers, self.integer_tags[form.code])
        return None

    def _merge(
        self,
        session: AsyncSession,
        message: Message,
        observer: Observer,
        form: Form,
        answers: dict[str, Any],
        batch: _Batch,
    ) -> int | None:
        """Merge into the observer's record, unless that fails a check: then its index."""
        key = (observer.code, form.code)
        checklist = batch.checklists.get(key) or Checklist(
            observer_code=observer.code, form_code=form.code,
            station_code=observer.station_code, answers={}, version=0,
        )  # fmt: skip
        merged = {**checklist.answers, **answers}
        values = {tag: tuple(v) if isinstance(v, list) else v for tag, v in merged.items()}
        for index, check in enumerate(form.checks):
            if values.keys() >= check.expr.tag_set and not check.expr.holds(values):
                return index  # the record stays as it was; the observer is told why
        batch.checklists[key] = checklist
        repository.merge_checklist(session, checklist, message, answers)
        return None

    def _queue_reply(
        self, session: AsyncSession, message: Message, text: str, batch: _Batch
    ) -> None:
        if not self.settings.replies.enabled or not can_reply_to(message.sender):
            return
        if batch.replies[message.sender] >= self.settings.replies.per_sender_per_hour:
            _LOGGER.info(
                "no reply to %s: %d replies in the last hour",
                message.sender,
                batch.replies[message.sender],
            )
            return
        batch.replies[message.sender] += 1
        session.add(
            OutboxMessage(
                recipient=message.sender,
                text=text,
                status="pending",
                attempts=0,
                modem_imsi=message.modem_imsi,
                message_references=[],
                reply_to=message,
            )
        )


def _observe_latency(ready: Sequence[Assembled]) -> None:
    now = datetime.now(UTC)
    for message in ready:
        stored = message.first.received_at
        if stored is not None:
            PIPELINE_LATENCY.observe(max(0.0, (now - stored).total_seconds()))


def _flag(result: ParseResult, code: ErrorCode, found: str, **params: int | str) -> ParseResult:
    error = ParseError(code, (0, len(result.text)), found=found, params=params)
    return replace(result, errors=(*result.errors, error))


def _json_answers(result: ParseResult) -> dict[str, Any]:
    return {tag: list(v) if isinstance(v, tuple) else v for tag, v in result.answers.items()}


def _language(observer: Observer | None, deployment: Deployment) -> str:
    if observer is not None and observer.language in deployment.languages:
        return observer.language
    return deployment.default_language


def _normalized(phone: str) -> str:
    digits = "".join(char for char in phone if char.isdigit())
    return digits[-9:]  # national significant number: +996 555 123456 == 0555 123456
