"""``/estimates``: the quick count from the random sample (docs/estimates.md has the method)."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from api.auth import Principal, Scope
from api.deps import FormsDep, StateDep, require
from api.errors import ERROR_RESPONSES, InvalidRequest, NotFound, described
from api.estimating import read_inputs
from api.responses import cached_json
from api.schemas.estimates import ProcessOut, ResultsOut
from estimates import DEFAULT_CONFIDENCE, EstimateRequestError, estimate_process, estimate_results
from parser import Deployment, Form

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["estimates"], responses=ERROR_RESPONSES)
Reader = Annotated[Principal, Depends(require(Scope.READ))]
FormCode = Annotated[str, Query(min_length=1, max_length=20, pattern=r"^[^\x00]*$",
                                description="A form code, e.g. RS.")]  # fmt: skip
Confidence = Annotated[float, Query(
    ge=0.5, le=0.999, description="The intervals' confidence: 0.95 (default) or e.g. 0.99.",
)]  # fmt: skip
By = Annotated[Literal["region"] | None, Query(
    description="`region`: the same estimates within each region too.",
)]  # fmt: skip
Official = Annotated[str | None, Query(
    max_length=2000, pattern=r"^[^\x00]*$",
    description='Official figures as a JSON object of fractions, e.g. `{"A": 0.41, '
    '"turnout": 0.62}`: each is said to lie inside its interval or not.',
)]  # fmt: skip
_UNKNOWN_FORM = described("NOT_FOUND: no such form in the loaded forms.")
_INVALID = described("INVALID_REQUEST: the form declares no results, or `official` is wrong.")


@router.get(
    "/estimates",
    response_model=ResultsOut,
    summary="Vote shares and turnout with margins of error",
    description="From the sampled stations' results (the form's `results:` declaration): each "
    "vote tag's share of valid votes and the turnout, combined ratio estimates for a "
    "stratified sample with Taylor-linearised margins; the sample's status (sampled, "
    "reported, in conflict, per stratum). An estimate that cannot be made is null, with the "
    "reasons. Quarantined reports do not count.",
    responses={404: _UNKNOWN_FORM, 422: _INVALID},
)
async def results(
    request: Request,
    state: StateDep,
    who: Reader,
    forms: FormsDep,
    form: FormCode,
    confidence: Confidence = DEFAULT_CONFIDENCE,
    by: By = None,
    official: Official = None,
) -> Response:
    deployment, definition = _form(forms, form)
    if definition.results is None:
        raise InvalidRequest(f"form {form} declares no results (see 'results:' in the forms file)")
    figures = _official(official)

    async def payload(read: AsyncConnection) -> dict[str, Any]:
        frame, rows = await read_inputs(read, deployment, definition, state.strata)
        try:
            estimate = estimate_results(frame, rows, definition, confidence=confidence,
                                        official=figures, by_region=by == "region")  # fmt: skip
        except EstimateRequestError as exc:
            raise InvalidRequest(str(exc)) from exc
        return estimate.to_json()

    return await cached_json(state, request, who, payload)


@router.get(
    "/estimates/process",
    response_model=ProcessOut,
    summary="Process findings: the share of stations with each answer",
    description="For every choice or multi question of the form, the share of sampled "
    "stations with each option (e.g. opened late, police inside), a stratified proportion "
    "with its margin of error.",
    responses={404: _UNKNOWN_FORM, 422: _INVALID},
)
async def process(
    request: Request,
    state: StateDep,
    who: Reader,
    forms: FormsDep,
    form: FormCode,
    confidence: Confidence = DEFAULT_CONFIDENCE,
    by: By = None,
) -> Response:
    deployment, definition = _form(forms, form)

    async def payload(read: AsyncConnection) -> dict[str, Any]:
        frame, rows = await read_inputs(read, deployment, definition, state.strata)
        try:
            estimate = estimate_process(frame, rows, definition, confidence=confidence,
                                        by_region=by == "region")  # fmt: skip
        except EstimateRequestError as exc:
            raise InvalidRequest(str(exc)) from exc
        return estimate.to_json()

    return await cached_json(state, request, who, payload)


def _form(forms: Deployment | None, code: str) -> tuple[Deployment, Form]:
    form = forms.form(code) if forms else None
    if forms is None or form is None:
        known = ", ".join(f.code for f in forms.forms) if forms else "none loaded"
        raise NotFound(f"no form {code!r} (forms: {known})")
    return forms, form


def _official(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    try:
        figures = json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(f"official is not JSON: {exc}") from exc
    if not isinstance(figures, dict) or not all(
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        and 0 <= value <= 1
        for value in figures.values()
    ):  # fmt: skip
        raise InvalidRequest('official must be a JSON object of fractions, e.g. {"A": 0.41}')
    return {str(tag): float(value) for tag, value in figures.items()}
