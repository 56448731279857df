"""``shailoo estimate``: the quick count, from the database or offline from files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from api.estimating import read_inputs
from cli.app import app, fail
from cli.service import run_async
from estimates import (
    DEFAULT_CONFIDENCE,
    EstimatesError,
    Frame,
    ProcessEstimate,
    ReportColumns,
    ResultsEstimate,
    build_frame,
    estimate_process,
    estimate_results,
    read_reports,
    read_stations,
    render_process,
    render_results,
)
from parser import Deployment, Form, FormsError, load_forms
from store import repository
from store.bootstrap import database_of
from store.settings import get_settings

__all__ = ["estimate"]


@app.command()
def estimate(
    form: Annotated[
        str, typer.Option("--form", help="The results form, e.g. RS.", show_default=False)
    ],
    forms: Annotated[
        Path | None,
        typer.Option(
            help="Offline: the forms file (YAML), with the form's 'results:'.", show_default=False
        ),
    ] = None,
    stations: Annotated[
        Path | None,
        typer.Option(
            help="Offline: stations.csv (the whole frame, or the sample).", show_default=False
        ),
    ] = None,
    reports: Annotated[
        Path | None,
        typer.Option(
            help="Offline: the checklists CSV ('GET /api/v1/checklists?form=RS"
            "&format=csv'; station_code and the form's tags are enough).",
            show_default=False,
        ),
    ] = None,
    confidence: Annotated[
        float, typer.Option(min=0.5, max=0.999, help="The intervals' confidence.")
    ] = DEFAULT_CONFIDENCE,
    process: Annotated[
        bool, typer.Option("--process", help="The process questions' shares instead.")
    ] = False,
    by_region: Annotated[bool, typer.Option("--by-region", help="Each region too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The quick count: each party's share and the turnout with margins of error, from the
    sampled stations (docs/estimates.md says how).

    Offline, from the files a statistician has: --forms, --stations and --reports together.
    Without them it reads the running deployment's database. Strata sizes come from the
    roster (when it lists stations outside the sample too), else the forms file's 'strata:',
    else the setting 'strata'.
    """
    strata = get_settings().strata
    if forms and stations and reports:
        deployment, frame, rows = _from_files(forms, stations, reports, form, strata)
    elif forms or stations or reports:
        fail("offline, give --forms, --stations and --reports together "
             "(or none of them, to read the database)")  # fmt: skip
    else:
        deployment, frame, rows = run_async(lambda: _from_database(form, strata))
    chosen = _form(deployment, form, process)
    try:
        result: ResultsEstimate | ProcessEstimate = (
            estimate_process(frame, rows, chosen, confidence=confidence, by_region=by_region)
            if process
            else estimate_results(frame, rows, chosen, confidence=confidence, by_region=by_region)
        )
    except EstimatesError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    elif isinstance(result, ProcessEstimate):
        typer.echo(render_process(result, chosen, deployment.default_language))
    else:
        typer.echo(render_results(result, chosen, deployment.default_language))


def _from_files(
    forms: Path, stations: Path, reports: Path, code: str, strata: Mapping[str, int]
) -> tuple[Deployment, Frame, ReportColumns]:
    try:
        deployment = load_forms(forms.read_text(encoding="utf-8"), str(forms))
        form = _form(deployment, code, process=True)
        frame = build_frame(read_stations(stations), deployment.strata or strata or None)
        return deployment, frame, read_reports(reports, form)
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}")
    except (FormsError, EstimatesError) as exc:
        fail(str(exc))


async def _from_database(
    code: str, strata: Mapping[str, int]
) -> tuple[Deployment, Frame, ReportColumns]:
    async with database_of(get_settings()) as db, db.session() as session:
        stored = await repository.latest_forms(session)
        if stored is None:
            fail("no forms loaded: run 'shailoo forms load FILE' first")
        deployment = Deployment.model_validate(stored.definition)
        form = _form(deployment, code, process=True)
        frame, rows = await read_inputs(session, deployment, form, strata)
    return deployment, frame, rows


def _form(deployment: Deployment, code: str, process: bool) -> Form:
    form = deployment.form(code)
    if form is None:
        fail(f"no form {code!r} (forms: {', '.join(f.code for f in deployment.forms)})")
    if not process and form.results is None:
        fail(f"form {code} declares no results: add 'results:' to it in the forms file, or "
             "use --process for its process questions")  # fmt: skip
    return form
