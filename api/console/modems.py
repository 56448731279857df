"""The Modems and queues page: each modem's health, the spool, and the outbox by status."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.console.session import Viewer
from api.routes.admin import modem_view
from store.queries import outbox, status

__all__ = ["modems_view"]


async def modems_view(session: AsyncSession, viewer: Viewer, stale_s: float) -> dict[str, Any]:
    """Every modem as ``GET /api/v1/modems`` shows it, and the outbox's depth by status.

    A ``read`` viewer sees a modem by its label and position only: the SIM's IMSI, the IMEI and
    the device path identify hardware and subscribers."""
    modems = []
    rows = await status.list_modems(session)
    for number, row in enumerate(rows, start=1):
        modem = modem_view(row, stale_s)
        if not viewer.sees_pii:
            modem = {**modem, "imsi": None, "imei": None, "device": None}
        modems.append({**modem, "number": number})
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
