"""The robustness analysis, declared once: behavioural tests (CheckList-style invariance) on a
stratified sample of test rows: how often a topic-preserving edit (a typo, an agency marker, a
name, ...) flips the model's prediction."""

from __future__ import annotations

from agnews.analyses.robustness.schema import PART, RobustnessSettings
from agnews.rundir.declarations import Analysis, Command, Stage, Tab

_HERE = "agnews.analyses.robustness"

ROBUSTNESS = Analysis(
    name=PART.name,
    title="Robustness",
    parts=(PART,),
    stages=(
        Stage(
            PART.name,
            (PART.name,),
            ("model", "config", "predictions"),
            "robustness tests",
            "behavioural tests: how often predictions flip under typos, agency tags, names, ...",
            function=f"{_HERE}.stage:robustness_stage",
            default=True,
            order=90,
        ),
    ),
    rank=60,
    tab=Tab("Robustness", after="errors", build=f"{_HERE}.tab:build"),
    card=f"{_HERE}.present:card",
    report=f"{_HERE}.present:report_section",
    model_card=f"{_HERE}.present:model_card_section",
    model_card_place="results",
    command=Command(
        "Perturb a run's test rows (typos, agency tags, names, ...); count flipped predictions.",
        f"{_HERE}.command:main",
    ),
    settings=RobustnessSettings,
)
