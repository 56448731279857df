"""The Modems and queues page: each modem's health, the spool, and the outbox by status."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.console.session import Viewer
from api.routes.admin import modem_views
from api.visibility import modem_seen
from store.queries import outbox, status

__all__ = ["modems_view"]


async def modems_view(session: AsyncSession, viewer: Viewer, stale_s: float) -> dict[str, Any]:
    """Every modem as ``GET /api/v1/modems`` shows it to this viewer (without ``read:pii`` by
    its name only: no IMSI, IMEI or device path), and the outbox's depth by status."""
    rows = await status.list_modems(session)
    modems = [modem_seen(modem, viewer.principal) for modem in modem_views(rows, stale_s)]
    depth = await outbox.outbox_depth(session)
    spool = max((m["spool"] or 0 for m in modems), default=0)
    return {"modems": modems, "outbox": depth, "spool": spool, "set_aside": _set_aside(rows)}


def _set_aside(rows: list[dict[str, Any]]) -> int | None:
    """Spooled parts the database refused, as the gateways report them (None: none says)."""
    counts = [
        int(row["last_status"]["set_aside"])
        for row in rows
        if isinstance((row["last_status"] or {}).get("set_aside"), int)
    ]
    return max(counts, default=None)
