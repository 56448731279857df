"""The quick count: vote shares, turnout and process shares from the sampled stations.

``estimate_results`` and ``estimate_process`` take a ``Frame``, ``ReportColumns`` and the form,
and return plain values (``estimates.results``). They decide which stations count, check that
every stratum can be estimated, and hand the arithmetic to ``estimates.ratio``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from estimates.errors import EstimateRequestError
from estimates.frame import Frame
from estimates.ratio import MIN_REPORTS_PER_STRATUM, combined_ratio
from estimates.reports import ReportColumns, option_column
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
from parser import Form, Question, Results

__all__ = ["DEFAULT_CONFIDENCE", "TURNOUT", "estimate_process", "estimate_results"]

DEFAULT_CONFIDENCE = 0.95
# The key of turnout among official figures: not a tag (tags are letters only).
TURNOUT = "turnout"

Mask = npt.NDArray[np.bool_]


def estimate_results(
    frame: Frame,
    reports: ReportColumns,
    form: Form,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    official: Mapping[str, float] | None = None,
) -> ResultsEstimate:
    """Each party's share of valid votes and turnout, with margins, from the sampled stations.

    A sampled station has reported when its observers' latest non-quarantined checklists
    answer every ``votes`` tag (and ``invalid``, if declared) and agree on every results tag.
    share_j = Σ w·votes_j / Σ w·valid, turnout = Σ w·(valid + invalid) / Σ w·registered,
    both combined ratio estimators (``estimates.ratio.combined_ratio``). ``official`` maps
    vote tags (and ``"turnout"``) to official fractions, each checked against its interval.
    """
    declared = _results_of(form)
    _check_confidence(confidence)
    checks = _official_figures(official or {}, declared)
    answers = reduce_reports(frame, reports)
    conflict = answers.conflicts(declared.tags)
    votes = np.column_stack([answers.column(tag) for tag in declared.votes])
    counted = [*declared.votes, *([declared.invalid] if declared.invalid else [])]
    reported = ~conflict & np.all(
        np.column_stack([answers.column(tag) for tag in counted]) >= 0, axis=1
    )
    valid = votes.sum(axis=1)
    shares, share_reasons = _ratio(votes, valid, reported, frame, confidence, "valid votes")
    ballots = valid + (answers.column(declared.invalid) if declared.invalid else 0)
    registered = _registered(answers, declared, frame)
    turnout, turnout_reasons = _ratio(
        ballots, registered, reported & (registered > 0), frame, confidence, "registered voters"
    )
    reasons = [*share_reasons]
    reasons += [f"turnout: {reason}" for reason in turnout_reasons if reason not in reasons]
    share_map = None if shares is None else dict(zip(declared.votes, shares, strict=True))
    turnout_interval = None if turnout is None else turnout[0]
    return ResultsEstimate(
        form=form.code,
        confidence=confidence,
        sample=_status(frame, answers, reported, conflict),
        shares=share_map,
        turnout=turnout_interval,
        reasons=tuple(reasons),
        official=_inside(checks, share_map, turnout_interval),
    )


def estimate_process(
    frame: Frame, reports: ReportColumns, form: Form, *, confidence: float = DEFAULT_CONFIDENCE
) -> ProcessEstimate:
    """For every choice and multi question of ``form``, the share of stations with each option.

    A stratified proportion: the combined ratio with x_i = 1 and y_i = 1 when station i's
    answer is (or, for multi, includes) the option, over the stations that answered the
    question and whose observers agree on it.
    """
    _check_confidence(confidence)
    answers = reduce_reports(frame, reports)
    questions = [question for question in form.questions if question.type != "integer"]
    conflict = np.zeros(len(frame.codes), dtype=np.bool_)
    answered_any = np.zeros(len(frame.codes), dtype=np.bool_)
    shares: dict[str, QuestionShares] = {}
    for question in questions:
        names = _question_columns(question)
        disputed = answers.conflicts(names)
        conflict |= disputed
        chosen = np.column_stack([answers.column(name) for name in names])
        answered = ~disputed & np.all(chosen >= 0, axis=1)
        answered_any |= answered
        shares[question.tag] = _question_shares(question, chosen, answered, frame, confidence)
    return ProcessEstimate(
        form=form.code,
        confidence=confidence,
        sample=_status(frame, answers, answered_any, conflict),
        questions=shares,
    )


def _results_of(form: Form) -> Results:
    if form.results is None:
        raise EstimateRequestError(
            f"form {form.code} declares no results: add 'results: votes: [...]' to it in the "
            "forms file"
        )
    return form.results


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise EstimateRequestError(
            f"confidence should be between 0 and 1, like 0.95, not {confidence}"
        )


def _official_figures(official: Mapping[str, float], declared: Results) -> dict[str, float]:
    known = (*declared.votes, TURNOUT)
    for key, value in official.items():
        if key not in known:
            raise EstimateRequestError(
                f"official figure {key!r} is not a vote tag of the form (tags: "
                f"{', '.join(declared.votes)}) or {TURNOUT!r}"
            )
        if not 0.0 <= value <= 1.0:
            raise EstimateRequestError(
                f"official {key} should be a fraction from 0 to 1, not {value}"
            )
    return dict(official)


def _registered(
    answers: StationAnswers, declared: Results, frame: Frame
) -> npt.NDArray[np.float64]:
    """Registered voters per station: the form's count where answered, else the roster's."""
    roster = np.nan_to_num(frame.registered, nan=0.0)
    if declared.registered is None:
        return roster
    counted = answers.column(declared.registered).astype(np.float64)
    return np.where(counted >= 0, counted, roster)


def _ratio(
    y: npt.ArrayLike,
    x: npt.ArrayLike,
    reported: Mask,
    frame: Frame,
    confidence: float,
    base: str,
) -> tuple[list[Interval] | None, list[str]]:
    """Intervals for y/x over the ``reported`` stations, or None and the reasons why not."""
    reasons = _unavailable(frame, reported)
    if reasons:
        return None, reasons
    numerators = np.asarray(y, dtype=np.float64)[reported]
    denominator = np.asarray(x, dtype=np.float64)[reported]
    if not np.sum(denominator) > 0:
        return None, [f"no {base} in the reported stations yet"]
    present = frame.sizes > 0
    fit = combined_ratio(
        numerators, denominator, frame.stratum[reported], np.where(present, frame.sizes, 0.0)
    )
    estimates = np.atleast_1d(fit.estimate)
    margins = np.atleast_1d(fit.margin(confidence))
    return [Interval(float(e), float(m)) for e, m in zip(estimates, margins, strict=True)], []


def _unavailable(frame: Frame, reported: Mask) -> list[str]:
    """Why the frame and these reports cannot give an estimate: one sentence per stratum."""
    if frame.problems:
        return list(frame.problems)
    reports = np.bincount(frame.stratum[reported], minlength=len(frame.strata))
    sampled = frame.sampled
    reasons = []
    for index, name in enumerate(frame.strata):
        label = name or "(none)"
        if sampled[index] == 0:
            reasons.append(
                f"stratum {label}: none of its {frame.sizes[index]:.0f} stations was sampled"
            )
        elif reports[index] < MIN_REPORTS_PER_STRATUM:
            reasons.append(
                f"stratum {label}: {reports[index]} of {sampled[index]} sampled stations reported; "
                f"at least {MIN_REPORTS_PER_STRATUM} are needed"
            )
    return reasons


def _inside(
    official: Mapping[str, float],
    shares: Mapping[str, Interval] | None,
    turnout: Interval | None,
) -> dict[str, OfficialCheck]:
    intervals = {**(shares or {}), **({TURNOUT: turnout} if turnout else {})}
    checks = {}
    for key, value in official.items():
        interval = intervals.get(key)
        checks[key] = OfficialCheck(value, None if interval is None else interval.contains(value))
    return checks


def _question_columns(question: Question) -> tuple[str, ...]:
    if question.type == "multi":
        return tuple(option_column(question.tag, code) for code in question.options)
    return (question.tag,)


def _question_shares(
    question: Question,
    chosen: npt.NDArray[np.int64],
    answered: Mask,
    frame: Frame,
    confidence: float,
) -> QuestionShares:
    codes = list(question.options)
    if question.type == "multi":
        indicators = chosen
    else:
        indicators = (chosen[:, :1] == np.array(codes)[None, :]).astype(np.int64)
    intervals, reasons = _ratio(
        indicators, np.ones(len(answered)), answered, frame, confidence, "answers"
    )
    return QuestionShares(
        tag=question.tag,
        type=question.type,
        stations=int(np.count_nonzero(answered)),
        options=None if intervals is None else dict(zip(codes, intervals, strict=True)),
        reasons=tuple(reasons),
    )


def _status(frame: Frame, answers: StationAnswers, reported: Mask, conflict: Mask) -> SampleStatus:
    strata = len(frame.strata)
    per_reported = np.bincount(frame.stratum[reported], minlength=strata)
    per_conflict = np.bincount(frame.stratum[conflict], minlength=strata)
    sampled = frame.sampled
    return SampleStatus(
        stations=len(frame.codes),
        reported=int(np.count_nonzero(reported)),
        conflict_stations=tuple(
            code for code, bad in zip(frame.codes, conflict, strict=True) if bad
        ),
        strata=tuple(
            StratumStatus(
                stratum=name,
                frame=None if np.isnan(frame.sizes[index]) else int(frame.sizes[index]),
                sampled=int(sampled[index]),
                reported=int(per_reported[index]),
                conflicts=int(per_conflict[index]),
            )
            for index, name in enumerate(frame.strata)
        ),
        outside_sample_rows=answers.outside_sample,
        quarantined_rows=answers.quarantined,
    )
