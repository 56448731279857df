"""The quick count: vote shares, turnout and process shares from the sampled stations.

``estimate_results`` and ``estimate_process`` take a ``Frame``, ``ReportColumns`` and the form,
and return plain values (``estimates.results``). They decide which stations count, check that
every stratum can be estimated, and hand the arithmetic to ``estimates.ratio``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

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


@dataclass(frozen=True, eq=False)
class _Counts:
    """Per sampled station: what the results estimate reads (see ``_station_counts``)."""

    votes: npt.NDArray[np.int64]
    ballots: npt.NDArray[np.int64]
    registered: npt.NDArray[np.float64]
    reported: Mask
    conflict: Mask


def estimate_results(
    frame: Frame,
    reports: ReportColumns,
    form: Form,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    official: Mapping[str, float] | None = None,
    by_region: bool = False,
) -> ResultsEstimate:
    """Each party's share of valid votes and turnout, with margins, from the sampled stations.

    A sampled station has reported when its observers' latest non-quarantined checklists
    answer every ``votes`` tag (and ``invalid``, if declared) and agree on every results tag.
    share_j = Σ w·votes_j / Σ w·valid, turnout = Σ w·(valid + invalid) / Σ w·registered,
    both combined ratio estimators (``estimates.ratio.combined_ratio``). ``official`` maps
    vote tags (and ``"turnout"``) to official fractions, each checked against its interval.
    ``by_region`` adds the same estimates for each region (``ResultsEstimate.regions``).
    """
    declared = _results_of(form)
    _check_confidence(confidence)
    checks = _official_figures(official or {}, declared)
    answers = reduce_reports(frame, reports)
    counts = _station_counts(answers, declared, frame)

    def within(region: str | None) -> ResultsEstimate:
        return _results_within(frame, answers, counts, form.code, declared, confidence, region)

    country = within(None)
    regions = {name: within(name) for name in frame.region_names} if by_region else {}
    return replace(
        country,
        official=_inside(checks, country.shares, country.turnout),
        regions=regions,
    )


def _station_counts(answers: StationAnswers, declared: Results, frame: Frame) -> _Counts:
    conflict = answers.conflicts(declared.tags)
    votes = np.column_stack([answers.column(tag) for tag in declared.votes])
    counted = [*declared.votes, *([declared.invalid] if declared.invalid else [])]
    answered = np.column_stack([answers.column(tag) for tag in counted]) >= 0
    invalid = answers.column(declared.invalid) if declared.invalid else 0
    return _Counts(
        votes=votes,
        ballots=votes.sum(axis=1) + invalid,
        registered=_registered(answers, declared, frame),
        reported=~conflict & np.all(answered, axis=1),
        conflict=conflict,
    )


def _results_within(
    frame: Frame,
    answers: StationAnswers,
    counts: _Counts,
    form_code: str,
    declared: Results,
    confidence: float,
    region: str | None,
) -> ResultsEstimate:
    """The estimate for the whole country (``region`` None) or for one region (a domain)."""
    domain = None if region is None else frame.in_region(region)
    reported = counts.reported
    valid = counts.votes.sum(axis=1)
    shares, share_reasons = _ratio(
        counts.votes, valid, reported, frame, confidence, "valid votes", domain
    )
    turnout, turnout_reasons = _ratio(
        counts.ballots,
        counts.registered,
        reported & (counts.registered > 0),
        frame,
        confidence,
        "registered voters",
        domain,
        "reported with their registered voters known",
    )
    # Turnout counts a subset of the stations the shares count: when the shares have no
    # estimate, their reasons hold for turnout too, and repeating them helps nobody.
    reasons = share_reasons or [f"turnout: {reason}" for reason in turnout_reasons]
    members = np.ones(len(frame.codes), dtype=np.bool_) if domain is None else domain
    return ResultsEstimate(
        form=form_code,
        confidence=confidence,
        sample=_status(frame, answers, reported & members, counts.conflict & members, members),
        shares=None if shares is None else dict(zip(declared.votes, shares, strict=True)),
        turnout=None if turnout is None else turnout[0],
        reasons=tuple(reasons),
    )


def estimate_process(
    frame: Frame,
    reports: ReportColumns,
    form: Form,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    by_region: bool = False,
) -> ProcessEstimate:
    """For every choice and multi question of ``form``, the share of stations with each option.

    A stratified proportion: the combined ratio with x_i = 1 and y_i = 1 when station i's
    answer is (or, for multi, includes) the option, over the stations that answered the
    question and whose observers agree on it. ``by_region`` adds the same for each region.
    """
    _check_confidence(confidence)
    answers = reduce_reports(frame, reports)

    def within(region: str | None) -> ProcessEstimate:
        return _process_within(frame, answers, form, confidence, region)

    country = within(None)
    regions = {name: within(name) for name in frame.region_names} if by_region else {}
    return replace(country, regions=regions)


def _process_within(
    frame: Frame, answers: StationAnswers, form: Form, confidence: float, region: str | None
) -> ProcessEstimate:
    domain = None if region is None else frame.in_region(region)
    members = np.ones(len(frame.codes), dtype=np.bool_) if domain is None else domain
    conflict = np.zeros(len(frame.codes), dtype=np.bool_)
    answered_any = np.zeros(len(frame.codes), dtype=np.bool_)
    shares: dict[str, QuestionShares] = {}
    for question in form.questions:
        if question.type == "integer":
            continue
        names = _question_columns(question)
        disputed = answers.conflicts(names)
        chosen = np.column_stack([answers.column(name) for name in names])
        answered = ~disputed & np.all(chosen >= 0, axis=1)
        conflict |= disputed
        answered_any |= answered
        shares[question.tag] = _question_shares(
            question, chosen, answered, frame, confidence, domain
        )
    return ProcessEstimate(
        form=form.code,
        confidence=confidence,
        sample=_status(frame, answers, answered_any & members, conflict & members, members),
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
    domain: Mask | None = None,
    reported_as: str = "reported",
) -> tuple[list[Interval] | None, list[str]]:
    """Intervals for y/x over the ``reported`` stations, or None and the reasons why not.

    For a domain (a region that is not a stratum), y and x are set to 0 outside it and the
    strata it does not touch are left out: the usual domain estimator of a stratified sample.
    """
    inside = np.ones(len(frame.codes), dtype=np.bool_) if domain is None else domain
    strata = (
        np.unique(frame.stratum[inside]) if domain is not None else np.arange(len(frame.strata))
    )
    # The strata the domain touches need two reports each, of the domain or not: the variance
    # of a domain is estimated from the whole stratum's sample (z_i = 0 outside the domain).
    reasons = _unavailable(frame, reported, strata, reported_as)
    if reasons:
        return None, reasons
    touched = np.zeros(len(frame.strata), dtype=np.bool_)
    touched[strata] = True
    used = reported & touched[frame.stratum]
    keep = inside[used]
    numerators = np.asarray(y, dtype=np.float64)[used] * (keep[:, None] if np.ndim(y) > 1 else keep)
    denominator = np.asarray(x, dtype=np.float64)[used] * keep
    if not np.sum(denominator) > 0:
        return None, [f"no {base} in the reported stations yet"]
    sizes = np.where(touched & (frame.sizes > 0), frame.sizes, 0.0)
    fit = combined_ratio(numerators, denominator, frame.stratum[used], sizes)
    estimates = np.atleast_1d(fit.estimate)
    margins = np.atleast_1d(fit.margin(confidence))
    return [Interval(float(e), float(m)) for e, m in zip(estimates, margins, strict=True)], []


def _unavailable(
    frame: Frame, reported: Mask, strata: npt.NDArray[np.int64], reported_as: str
) -> list[str]:
    """Why the frame and these reports cannot give an estimate: one sentence per stratum."""
    if frame.problems:
        return list(frame.problems)
    reports = np.bincount(frame.stratum[reported], minlength=len(frame.strata))
    sampled = frame.sampled
    reasons = []
    for index in strata:
        label = frame.strata[index] or "(none)"
        if sampled[index] == 0:
            reasons.append(
                f"stratum {label}: none of its {frame.sizes[index]:.0f} stations was sampled"
            )
        elif reports[index] < MIN_REPORTS_PER_STRATUM:
            reasons.append(
                f"stratum {label}: {reports[index]} of {sampled[index]} sampled stations "
                f"{reported_as}; at least {MIN_REPORTS_PER_STRATUM} are needed"
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
    domain: Mask | None,
) -> QuestionShares:
    codes = list(question.options)
    if question.type == "multi":
        indicators = chosen
    else:
        indicators = (chosen[:, :1] == np.array(codes)[None, :]).astype(np.int64)
    intervals, reasons = _ratio(
        indicators, np.ones(len(answered)), answered, frame, confidence, "answers", domain
    )
    return QuestionShares(
        tag=question.tag,
        type=question.type,
        stations=int(np.count_nonzero(answered if domain is None else answered & domain)),
        options=None if intervals is None else dict(zip(codes, intervals, strict=True)),
        reasons=tuple(reasons),
    )


def _status(
    frame: Frame,
    answers: StationAnswers,
    reported: Mask,
    conflict: Mask,
    members: Mask,
) -> SampleStatus:
    """The sample's state over the ``members`` (all sampled stations, or one region's)."""
    strata = len(frame.strata)
    per_sampled = np.bincount(frame.stratum[members], minlength=strata)
    per_reported = np.bincount(frame.stratum[reported], minlength=strata)
    per_conflict = np.bincount(frame.stratum[conflict], minlength=strata)
    everywhere = bool(np.all(members))
    return SampleStatus(
        stations=int(np.count_nonzero(members)),
        reported=int(np.count_nonzero(reported)),
        conflict_stations=tuple(
            code for code, bad in zip(frame.codes, conflict, strict=True) if bad
        ),
        strata=tuple(
            StratumStatus(
                stratum=name,
                frame=None if np.isnan(frame.sizes[index]) else int(frame.sizes[index]),
                sampled=int(per_sampled[index]),
                reported=int(per_reported[index]),
                conflicts=int(per_conflict[index]),
            )
            for index, name in enumerate(frame.strata)
            if everywhere or per_sampled[index]
        ),
        outside_sample_rows=answers.outside_sample if everywhere else 0,
        quarantined_rows=answers.quarantined if everywhere else 0,
    )
