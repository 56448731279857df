"""The estimates' inputs read from the database: the frame, and the observers' checklists.

The API's routes and ``shailoo estimate`` (without files) compute from the same inputs that the
offline command reads from CSV files (``estimates.read_stations``/``read_reports``).
"""

from __future__ import annotations

from collections.abc import Mapping

from estimates import Frame, ReportColumns, ReportRow, Station, build_frame
from parser import Deployment, Form
from store.queries import estimates as queries
from store.queries.rows import Reads

__all__ = ["read_inputs"]


async def read_inputs(
    session: Reads, deployment: Deployment, form: Form, strata: Mapping[str, int]
) -> tuple[Frame, ReportColumns]:
    """The frame (sizes: the roster's whole frame, else the forms file's ``strata:``, else
    ``strata`` from the settings) and each observer's checklist of ``form``."""
    stations = [
        Station(code, stratum, voters, sampled, region)
        for code, stratum, region, voters, sampled in await queries.frame(session)
    ]
    frame = build_frame(stations, deployment.strata or strata or None)
    rows = [
        ReportRow(station, answers, observer, updated)
        for observer, station, answers, updated in await queries.checklists(session, form.code)
    ]
    return frame, ReportColumns.from_rows(rows, form)
