"""The toy analysis, declared once."""

from __future__ import annotations

from agnews.rundir.declarations import Analysis, Command, Stage, Tab
from toy_analysis.schema import PART, WordCountSettings

WORD_COUNTS = Analysis(
    name=PART.name,
    title="Word counts",
    parts=(PART,),
    stages=(
        Stage(
            PART.name,
            (PART.name,),
            ("predictions",),
            "word counts",
            "words per test text (a toy analysis)",
            function="toy_analysis.stage:word_counts_stage",
            default=True,
            order=95,
        ),
    ),
    rank=65,
    tab=Tab("Word counts", after="robustness", build="toy_analysis.tab:build"),
    card="toy_analysis.present:card",
    report="toy_analysis.present:report_section",
    model_card="toy_analysis.present:model_card_section",
    command=Command("Print a run's word counts (a toy analysis).", "toy_analysis.command:main"),
    settings=WordCountSettings,
)
