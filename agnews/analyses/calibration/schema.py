"""What the calibration analysis's parts hold: `calibration.json`, the test split's calibration before
and after the calibrator folded into the model, the risk-coverage curve and the review threshold; and
`chosen_threshold.json`, a review threshold a person chose in its place."""

from __future__ import annotations

from dataclasses import dataclass

from agnews.rundir.facts import ReviewRule
from agnews.rundir.parts import CalibratorScore, Count, Interval, JsonFile, Part, Rate


@dataclass
class ReliabilityBin:
    """One equal-width confidence bin: its bounds, rows, mean confidence and accuracy (None if empty)."""

    lower: Rate
    upper: Rate
    count: Count
    confidence: Rate | None
    accuracy: Rate | None


@dataclass
class CalibrationScores:
    """Calibration of one set of test probabilities: top-label ECE (equal-width bins), adaptive ECE
    (equal-mass bins), NLL and Brier score with intervals, and the reliability bins (their counts
    are the confidence histogram)."""

    ece: Interval
    adaptive_ece: Interval
    nll: Interval
    brier: Interval
    bins: list[ReliabilityBin]


@dataclass
class RiskCoverage:
    """The risk-coverage curve of the served probabilities: keep the most confident share `coverage`
    of the test rows, and `risk` is the error rate among them; `threshold` the lowest kept confidence."""

    coverage: list[Rate]
    risk: list[Rate]
    threshold: list[Rate]
    aurc: Rate


@dataclass
class Calibration:
    """`calibration.json`: test-split calibration before (raw logits) and after the kept calibration,
    the paired change (after - before) with intervals, the risk-coverage curve, and the review
    threshold chosen on validation for `target_accuracy` with what it gives on test."""

    method: str
    reason: str
    parameters: dict[str, list[float]]
    candidates: dict[str, CalibratorScore]
    bins: int
    bootstrap_resamples: int
    bootstrap_seed: int
    rows: int
    validation_rows: int
    before: CalibrationScores
    after: CalibrationScores
    change: dict[str, Interval]
    risk_coverage: RiskCoverage
    target_accuracy: Rate
    review_threshold: Rate | None
    validation_coverage: Rate | None
    validation_accuracy: Rate | None
    test_coverage: Rate | None
    test_accuracy: Rate | None
    seconds: float
    schema_version: int = 1


PART: Part[Calibration] = Part("calibration", ("calibration.json",), False, (JsonFile(Calibration),))


def review_rule(calibration: Calibration) -> ReviewRule:
    """The part's answer to `agnews.rundir.facts.REVIEW`."""
    return ReviewRule(calibration.review_threshold, calibration.target_accuracy)


@dataclass
class ReviewChoice:
    """`chosen_threshold.json`: a review threshold a person chose (on the Calibration tab, or with
    `agnews calibration RUN --review-threshold T`), used in place of the calibration part's own.
    A part of its own, so the calibration part and its provenance stay as the stage made them."""

    threshold: Rate
    who: str  # the login name, or where it was set without one ("local page", "command line")
    when: str  # UTC, ISO 8601
    schema_version: int = 1


REVIEW_PART: Part[ReviewChoice] = Part(
    "chosen_threshold", ("chosen_threshold.json",), False, (JsonFile(ReviewChoice),)
)


def chosen_rule(choice: ReviewChoice) -> ReviewRule:
    """The chosen threshold's answer to `agnews.rundir.facts.REVIEW` (no target accuracy: a person
    chose the value, not a target)."""
    return ReviewRule(choice.threshold, None, choice.who, choice.when)
