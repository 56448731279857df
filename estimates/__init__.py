"""Quick-count estimates: vote shares, turnout and process shares from the sampled stations.

Pure: numpy and ``parser`` only. The database and the files feed the same plain inputs::

    frame = build_frame([Station(code, stratum, registered_voters, in_sample), ...], sizes)
    reports = ReportColumns.from_rows([ReportRow(station_code, answers, ...), ...], form)
    result = estimate_results(frame, reports, form, confidence=0.95, official={"A": 0.41})
    result.to_json(); render_results(result, form)

The method, its formulas and assumptions are in docs/estimates.md.
"""

from estimates.errors import (
    EstimateRequestError,
    EstimatesError,
    InputFileError,
    ReportsFileError,
    StationsFileError,
)
from estimates.estimate import DEFAULT_CONFIDENCE, TURNOUT, estimate_process, estimate_results
from estimates.files import read_reports, read_stations
from estimates.frame import Frame, Station, build_frame
from estimates.ratio import MIN_REPORTS_PER_STRATUM, RatioFit, combined_ratio, normal_quantile
from estimates.render import render_process, render_results
from estimates.reports import MISSING, ReportColumns, ReportRow, answer_columns, option_column
from estimates.results import (
    Interval,
    OfficialCheck,
    ProcessEstimate,
    QuestionShares,
    ResultsEstimate,
    SampleStatus,
    StratumStatus,
)
from estimates.stations import StationAnswers, reduce_reports

__all__ = [
    "DEFAULT_CONFIDENCE",
    "MIN_REPORTS_PER_STRATUM",
    "MISSING",
    "TURNOUT",
    "EstimateRequestError",
    "EstimatesError",
    "Frame",
    "InputFileError",
    "Interval",
    "OfficialCheck",
    "ProcessEstimate",
    "QuestionShares",
    "RatioFit",
    "ReportColumns",
    "ReportRow",
    "ReportsFileError",
    "ResultsEstimate",
    "SampleStatus",
    "Station",
    "StationAnswers",
    "StationsFileError",
    "StratumStatus",
    "answer_columns",
    "build_frame",
    "combined_ratio",
    "estimate_process",
    "estimate_results",
    "normal_quantile",
    "option_column",
    "read_reports",
    "read_stations",
    "reduce_reports",
    "render_process",
    "render_results",
]
