"""The cross-domain analysis, declared once: the run's model, beside a TF-IDF baseline, on labelled
files from elsewhere; one part per file (a family), made by its own command or the tab's upload."""

from __future__ import annotations

from agnews.analyses.cross_domain.schema import FAMILY
from agnews.rundir.declarations import Analysis, Command, Stage, Tab

_HERE = "agnews.analyses.cross_domain"

CROSS_DOMAIN = Analysis(
    name=FAMILY.prefix,
    title="Cross-domain",
    parts=(FAMILY,),
    stages=(
        Stage(
            FAMILY.prefix,
            (FAMILY.prefix,),
            ("model", "config"),
            "cross-domain evaluation",
            "the model and a TF-IDF baseline on a labelled file from elsewhere",
            command="agnews cross-domain",
            remake=f"{_HERE}.command:remake_command",
        ),
    ),
    rank=70,
    tab=Tab("Cross-domain", after="errors", build=f"{_HERE}.tab:build"),
    card=f"{_HERE}.present:card",
    report=f"{_HERE}.present:report_section",
    model_card=f"{_HERE}.present:model_card_section",
    model_card_place="results",
    command=Command(
        "Score a run's model (and a TF-IDF baseline) on an out-of-domain labelled CSV file.",
        f"{_HERE}.command:main",
    ),
)
