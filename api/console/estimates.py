"""The Estimates page's view model.

Until the estimates package lands, the page shows the running tallies (the logic of
``GET /api/v1/tallies``): each choice question's option shares among the reports that answered
it, with a 95% margin as if those reports were a simple random sample, and integer questions'
means. ``estimates_view`` is the one function to replace with the real estimates' view model;
the template draws whatever ``Bar`` rows it returns.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from api.console.charts import Bar, bar_chart
from api.console.coverage import Share
from parser import Deployment, Form, text_in
from store.queries import coverage, tallies
from store.tallies import ANSWERED

__all__ = ["estimates_view"]

Z_95: Final = 1.96
Cell = tuple[str, str, int]  # (region, tag, option)


async def estimates_view(
    session: AsyncSession,
    forms: Deployment | None,
    language: str,
    form: str | None,
    region: str | None,
) -> dict[str, Any]:
    """Shares with margins, means, and the sample's status, for ``form`` (and ``region``)."""
    codes = [f.code for f in forms.forms] if forms else []
    chosen = forms.form(form) if forms and form in codes else None
    if chosen is None and forms:
        chosen = forms.forms[0]
    if chosen is None:
        return {"forms": codes, "form": None, "region": region, "questions": [], "regions": []}
    cells = await tallies.tally_cells(session, chosen.code, region)
    stations = await coverage.coverage(session, chosen.code, datetime.now(UTC))
    sample = [s for s in stations if region is None or s["region"] == region]
    reported = sum(1 for s in sample if s["first_report_at"] is not None)
    return {
        "forms": codes, "form": chosen.code, "region": region,
        "regions": sorted({s["region"] for s in stations}),
        "sample": Share(region or "", len(sample), reported),
        "reports": _sum(cells, "", ANSWERED),
        "questions": _questions(chosen, cells, language),
        "kind": "tallies",
    }  # fmt: skip


def _sum(cells: list[dict[str, Any]], tag: str, option: int, field: str = "reports") -> int:
    return sum(int(c[field]) for c in cells if c["tag"] == tag and c["option"] == option)


def _questions(form: Form, cells: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    shown = []
    for question in form.questions:
        answered = _sum(cells, question.tag, ANSWERED)
        view: dict[str, Any] = {
            "tag": question.tag, "label": text_in(question.label, language),
            "type": question.type, "answered": answered,
        }  # fmt: skip
        if question.type == "integer":
            total = _sum(cells, question.tag, ANSWERED, "total")
            view["mean"] = total / answered if answered else None
        else:
            counts: dict[int, int] = defaultdict(int)
            for cell in cells:
                if cell["tag"] == question.tag and cell["option"] != ANSWERED:
                    counts[int(cell["option"])] += int(cell["reports"])
            bars = [
                _bar(text_in(label, language), counts.get(code, 0), answered)
                for code, label in question.options.items()
            ]
            view["chart"] = bar_chart(bars, view["label"])
        shown.append(view)
    return shown


def _bar(label: str, count: int, answered: int) -> Bar:
    if not answered:
        return Bar(label, 0.0, "–")
    share = count / answered
    margin = Z_95 * math.sqrt(share * (1 - share) / answered)
    return Bar(
        label, share, f"{share:.1%} ± {margin:.1%}",
        low=max(share - margin, 0.0), high=min(share + margin, 1.0),
    )  # fmt: skip
