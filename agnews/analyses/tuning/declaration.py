"""The tuning analysis, declared once: the Optuna search over the training recipe that chose a run's
settings (made by its own command, which trains the run)."""

from __future__ import annotations

from agnews.analyses.tuning.schema import PART
from agnews.rundir.declarations import Analysis, Command, Stage, Tab

_HERE = "agnews.analyses.tuning"

TUNING = Analysis(
    name=PART.name,
    title="Tuning",
    parts=(PART,),
    stages=(
        Stage(
            PART.name,
            (PART.name,),
            ("config",),
            "tuning search",
            "the Optuna search that chose the run's settings",
            command="agnews tuning --data DIR --out runs/tuned",
        ),
    ),
    rank=90,
    tab=Tab("Tuning", after="compare", build=f"{_HERE}.tab:build"),
    report=f"{_HERE}.present:report_section",
    model_card=f"{_HERE}.present:model_card_sentence",
    model_card_place="training",
    command=Command(
        "Search the training recipe on validation (Optuna), then train the run with the best settings.",
        f"{_HERE}.command:main",
    ),
)
