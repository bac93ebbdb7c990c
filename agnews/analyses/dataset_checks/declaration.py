"""The dataset checks, declared once: class balance, the train/test length shift and train/test
near-duplicates, shown on the Data tab beside what the run was trained and tested on."""

from __future__ import annotations

from agnews.analyses.dataset_checks.schema import PART
from agnews.rundir.declarations import Analysis, Stage, Tab

_HERE = "agnews.analyses.dataset_checks"

DATASET_CHECKS = Analysis(
    name=PART.name,
    title="Dataset checks",
    parts=(PART,),
    stages=(
        Stage(
            PART.name,
            (PART.name,),
            ("config", "data_stats", "predictions", "model"),
            "dataset warnings",
            "class balance, train/test length shift, near-duplicates and unknown tokens",
            function=f"{_HERE}.stage:dataset_checks_stage",
            default=True,
            order=35,
        ),
    ),
    rank=80,
    tab=Tab("Data", after="compare", build=f"{_HERE}.tab:build"),
    card=f"{_HERE}.present:card",
    report=f"{_HERE}.present:report_section",
)
