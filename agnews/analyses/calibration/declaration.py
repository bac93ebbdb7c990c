"""The calibration analysis, declared once: the test split's calibration before and after the
calibrator folded into the model at training, and the review threshold, which it answers the core's
`REVIEW` fact with (the page, the JSON route and big-file predictions mark rows below it). A
threshold a person chose (the Calibration tab's "Use this threshold", or `agnews calibration`) is a
part of its own, `chosen_threshold`, and answers the fact first where the run has it."""

from __future__ import annotations

from agnews.analyses.calibration.schema import PART, REVIEW_PART
from agnews.rundir.declarations import Analysis, Command, Provides, Stage, Tab
from agnews.rundir.facts import REVIEW

_HERE = "agnews.analyses.calibration"

CALIBRATION = Analysis(
    name=PART.name,
    title="Calibration",
    parts=(PART, REVIEW_PART),
    stages=(
        Stage(
            PART.name,
            (PART.name,),
            ("predictions", "training", "config", "model"),
            "calibration report",
            "calibration before/after with intervals, risk-coverage, review threshold",
            function=f"{_HERE}.stage:calibration_stage",
            default=True,
            order=10,
        ),
        Stage(
            REVIEW_PART.name,
            (REVIEW_PART.name,),
            ("predictions",),  # what the chooser saw: coverage and accuracy of the stored predictions
            "chosen review threshold",
            "a review threshold a person chose in place of the calibration's",
            command="agnews calibration RUN --review-threshold T",
        ),
    ),
    rank=30,
    tab=Tab("Calibration", after="errors", build=f"{_HERE}.tab:build"),
    card=f"{_HERE}.present:card",
    report=f"{_HERE}.present:report_section",
    model_card=f"{_HERE}.present:model_card_section",
    model_card_place="sections",
    command=Command(
        "Set the run's review threshold by hand (the Calibration tab's \"Use this threshold\").",
        f"{_HERE}.command:main",
    ),
    provides=(
        Provides(REVIEW, REVIEW_PART.name, f"{_HERE}.schema:chosen_rule"),
        Provides(REVIEW, PART.name, f"{_HERE}.schema:review_rule"),
    ),
)
