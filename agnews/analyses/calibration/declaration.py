"""The calibration analysis, declared once: the test split's calibration before and after the
calibrator folded into the model at training, and the review threshold, which it answers the core's
`REVIEW` fact with (the page, the JSON route and big-file predictions mark rows below it)."""

from __future__ import annotations

from agnews.analyses.calibration.schema import PART
from agnews.rundir.declarations import Analysis, Provides, Stage, Tab
from agnews.rundir.facts import REVIEW

_HERE = "agnews.analyses.calibration"

CALIBRATION = Analysis(
    name=PART.name,
    title="Calibration",
    parts=(PART,),
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
    ),
    rank=30,
    tab=Tab("Calibration", after="errors", build=f"{_HERE}.tab:build"),
    card=f"{_HERE}.present:card",
    report=f"{_HERE}.present:report_section",
    model_card=f"{_HERE}.present:model_card_section",
    model_card_place="sections",
    provides=(Provides(REVIEW, PART.name, f"{_HERE}.schema:review_rule"),),
)
