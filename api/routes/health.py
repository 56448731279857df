"""``/health`` (liveness, no token), ``/ready`` and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.auth import Principal, Scope
from api.deps import ApiState, StateDep, require
from api.errors import ERROR_RESPONSES, described
from api.responses import json_response
from api.routes.admin import modem_views
from api.schemas.admin import HealthOut, ReadyOut
from api.visibility import modem_seen
from store.metrics import REGISTRY
from store.queries import outbox, status

__all__ = ["router"]

_LOGGER = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
Reader = Annotated[Principal, Depends(require(Scope.READ))]
READY_TIMEOUT_S = 2.0


@router.get("/health", response_model=HealthOut, summary="Liveness (no token needed)")
async def health() -> Response:
    return json_response({"status": "ok"})


@router.get(
    "/ready",
    response_model=ReadyOut,
    summary="Readiness: the database answers and a modem is up",
    description="200 when PostgreSQL answers within 2 s and at least one modem has "
    "reported itself ready recently; otherwise 503 NOT_READY with `checks` saying what "
    "is wrong. `checks.set_aside` warns (without failing) about spooled parts the database "
    "refused, waiting for `shailoo spool retry`.",
    responses={**ERROR_RESPONSES, 503: described("NOT_READY: see `checks`.")},
)
async def ready(state: StateDep, who: Reader) -> Response:
    checks: dict[str, Any] = {"database": "ok", "modems": []}
    try:
        async with asyncio.timeout(READY_TIMEOUT_S), state.db.session() as session:
            await status.ping(session)
            rows = await status.list_modems(session)
            checks["set_aside"] = _set_aside_check(await status.set_aside_count(session))
        modems = [modem_seen(m, who) for m in modem_views(rows, state.config.modem_stale_s)]
        checks["modems"] = [{"name": m["name"], "imsi": m["imsi"], "device": m["device"],
                             "up": m["up"], "state": m["state"]} for m in modems]  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - whatever failed, the answer is "not ready"
        _LOGGER.warning("readiness: database check failed: %s", exc)
        checks["database"] = f"unreachable ({type(exc).__name__})"
    problems = _problems(checks)
    if problems:
        body = {"error": "NOT_READY", "detail": "; ".join(problems), "checks": checks}
        return json_response(body, 503)
    return json_response({"ready": True, "checks": checks})


def _set_aside_check(count: int) -> dict[str, Any]:
    # A warning, not a failure: the gateway works, but parts wait for `shailoo spool retry`.
    if not count:
        return {"status": "ok", "count": 0}
    return {"status": "warning", "count": count,
            "detail": f"{count} spooled part(s) refused by the database; "
                      "see spool-rejected.jsonl and run 'shailoo spool retry'"}  # fmt: skip


def _problems(checks: dict[str, Any]) -> list[str]:
    if checks["database"] != "ok":
        return [f"database {checks['database']}"]
    if not any(modem["up"] for modem in checks["modems"]):
        return ["no modem is up (none has reported itself ready lately)"]
    return []


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Messages in and out by status, parse errors by code, the pipeline latency "
    "histogram (of the gateway in this process), outbox depth, spool size, parts set aside "
    "for `shailoo spool retry`, and per modem "
    "signal, storage use and whether it is up. Counts come from the database, so every API "
    "process reports the same.",
    response_class=Response,
    responses={**ERROR_RESPONSES, 200: {"content": {"text/plain": {}}}},
)
async def metrics(state: StateDep, who: Reader) -> Response:
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(_Snapshot(await _families(state)))
    body = generate_latest(REGISTRY) + generate_latest(scraped)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


class _Snapshot(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


async def _families(state: ApiState) -> list[Metric]:
    async with state.db.session() as session:
        counts = await status.message_counts(session)
        errors = await status.error_counts(session)
        depth = await outbox.outbox_depth(session)
        set_aside = await status.set_aside_count(session)
        modems = modem_views(await status.list_modems(session), state.config.modem_stale_s)
    messages = CounterMetricFamily(
        "shailoo_messages", "SMS in the log, by direction and status.",
        labels=["direction", "status"],
    )  # fmt: skip
    for direction, message_status, count in counts:
        messages.add_metric([direction, message_status], count)
    parse_errors = CounterMetricFamily(
        "shailoo_parse_errors", "Error codes found in incoming SMS.", labels=["code"]
    )
    for code, count in sorted(errors.items()):
        parse_errors.add_metric([code], count)
    queued = GaugeMetricFamily("shailoo_outbox", "Outbox rows by status.", labels=["status"])
    for row_status in ("pending", "sent", "failed"):
        queued.add_metric([row_status], depth.get(row_status, 0))
    kept = GaugeMetricFamily(
        "shailoo_spool_set_aside",
        "Spooled parts the database refused, waiting for 'shailoo spool retry'.",
    )
    kept.add_metric([], set_aside)
    return [messages, parse_errors, queued, kept, *_modem_families(modems)]


def _modem_families(modems: list[dict[str, Any]]) -> list[Metric]:
    # Labelled by name, never by IMSI or device: a `read` token scrapes these (api.visibility).
    labels = ["modem"]
    up = GaugeMetricFamily(
        "shailoo_modem_up", "1 if the modem is ready and heard of.", labels=labels
    )
    signal = GaugeMetricFamily("shailoo_modem_signal_dbm", "Signal strength.", labels=labels)
    spool = GaugeMetricFamily(
        "shailoo_spool_parts", "Parts waiting for the database, by the gateway of this modem.",
        labels=labels,
    )  # fmt: skip
    seen = GaugeMetricFamily(
        "shailoo_modem_seconds_since_seen", "Since the last status report.", labels=labels
    )
    used = GaugeMetricFamily(
        "shailoo_modem_storage_used", "SMS in a storage.", labels=[*labels, "storage"]
    )
    total = GaugeMetricFamily(
        "shailoo_modem_storage_total", "Storage capacity.", labels=[*labels, "storage"]
    )
    for modem in modems:
        key = [modem["name"]]
        up.add_metric(key, 1.0 if modem["up"] else 0.0)
        seen.add_metric(key, modem["seconds_since_seen"])
        if modem["signal_dbm"] is not None:
            signal.add_metric(key, modem["signal_dbm"])
        if modem["spool"] is not None:
            spool.add_metric(key, modem["spool"])
        for name, use in (modem["storage"] or {}).items():
            used.add_metric([*key, name], use["used"])
            total.add_metric([*key, name], use["total"])
    return [up, signal, spool, seen, used, total]
