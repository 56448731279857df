"""The Estimates page's view model: the quick count, as ``GET /api/v1/estimates`` and
``/estimates/process`` compute it (``estimates``), drawn as shares with error bars.

Vote shares and turnout come from a form that declares ``results:``; every form's choice and
multi questions give process findings (the share of stations with each answer). Both come with
the sample's status: stations sampled, reported, and in conflict (their observers disagree).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import from_json, to_json

from api.console.charts import Bar, bar_chart
from api.deps import ApiState
from api.estimating import read_inputs
from estimates import EstimateRequestError, estimate_process, estimate_results
from parser import Deployment, Form, text_in

__all__ = ["estimates_view"]


async def estimates_view(
    state: ApiState,
    forms: Deployment | None,
    language: str,
    form: str | None,
    region: str | None,
) -> dict[str, Any]:
    """The chosen form's estimates (in ``region``, if given): sample status, vote shares and
    turnout with their intervals, and process findings.

    Computed as ``/api/v1/estimates`` computes them, and kept like its answers in the API's
    response cache (``SHAILOO_API__CACHE_S``, stale while it is recomputed): re-reading every
    observer's checklist on each redraw of every open page would cost the most of any page."""
    codes = [f.code for f in forms.forms] if forms else []
    chosen = forms.form(form) if forms and form in codes else None
    if chosen is None and forms:
        chosen = next((f for f in forms.forms if f.results), forms.forms[0])
    view: dict[str, Any] = {"forms": codes, "form": None, "region": region, "regions": []}
    if forms is None or chosen is None:
        return view
    try:
        computed = from_json(await state.cache.get(
            ("console", "estimates", chosen.code), lambda: _computed(state, forms, chosen)
        ))  # fmt: skip
    except EstimateRequestError as exc:
        return {**view, "form": chosen.code, "problem": str(exc)}
    process = _within(computed["process"], region)
    results = _within(computed["results"], region) if computed["results"] else None
    return {
        **view, "form": chosen.code, "regions": computed["regions"],
        "sample": (results or process)["sample"],
        "votes": _votes(chosen, results, language) if results else None,
        "reasons": results["reasons"] if results else [],
        "questions": _findings(chosen, process, language),
        "confidence": process["confidence"],
    }  # fmt: skip


async def _computed(state: ApiState, forms: Deployment, form: Form) -> bytes:
    """Both estimates of ``form`` (each region's too) as JSON, in a session of their own."""
    async with state.db.session() as session:
        frame, rows = await read_inputs(session, forms, form, state.strata)
    results = None
    if form.results is not None:
        results = estimate_results(frame, rows, form, by_region=True).to_json()
    return to_json({
        "process": estimate_process(frame, rows, form, by_region=True).to_json(),
        "results": results, "regions": sorted(frame.region_names),
    })  # fmt: skip


def _within(payload: dict[str, Any], region: str | None) -> dict[str, Any]:
    """The country's estimate, or one region's (an empty sample if the region has none)."""
    if region is None:
        return payload
    return dict(payload.get("regions", {}).get(region) or {**payload, "regions": None})


def _bar(label: str, interval: Mapping[str, float] | None) -> Bar:
    if interval is None:
        return Bar(label, 0.0, "–")
    share, margin = interval["estimate"], interval["moe"]
    return Bar(label, share, f"{share:.1%} ± {margin:.1%}", interval["low"], interval["high"])


def _labels(form: Form, language: str) -> dict[str, str]:
    return {q.tag: text_in(q.label, language) for q in form.questions}


def _votes(form: Form, results: dict[str, Any], language: str) -> dict[str, Any]:
    labels = _labels(form, language)
    shares = results["shares"] or {}
    bars = [_bar(f"{tag} {labels.get(tag, '')}".strip(), shares.get(tag)) for tag in shares]
    if results["turnout"] is not None:
        bars.append(_bar("turnout", results["turnout"]))
    return {"chart": bar_chart(bars, "vote shares") if bars else None}


def _findings(form: Form, process: dict[str, Any], language: str) -> list[dict[str, Any]]:
    shown = []
    for question in form.questions:
        found = process["questions"].get(question.tag)
        if found is None:
            continue
        options = found["options"] or {}
        bars = [
            _bar(text_in(label, language), options.get(str(code)))
            for code, label in question.options.items()
        ]
        shown.append({
            "tag": question.tag, "label": text_in(question.label, language),
            "stations": found["stations"], "reasons": found["reasons"],
            "chart": bar_chart(bars, text_in(question.label, language)) if options else None,
        })  # fmt: skip
    return shown
