"""The slices analysis, declared once: smart tags on the test rows (short, long, wire copy, a
near-copy of a training row, ...) and the accuracy on each tag's rows, which it answers the core's
`TEST_ROW_TAGS` fact with (the Errors tab filters by a tag, the map colours by one)."""

from __future__ import annotations

from agnews.analyses.slices.schema import PART
from agnews.rundir.declarations import Analysis, Provides, Stage, Tab
from agnews.rundir.facts import REVIEW, TEST_LABEL_ISSUES, TEST_ROW_TAGS

_HERE = "agnews.analyses.slices"

SLICES = Analysis(
    name=PART.name,
    title="Slices",
    parts=(PART,),
    stages=(
        Stage(
            PART.name,
            (PART.name,),
            ("config", "data_stats", "predictions"),
            "slices",
            "smart tags of the test rows, accuracy per slice",
            function=f"{_HERE}.stage:slices_stage",
            default=True,
            order=30,
            uses=(REVIEW, TEST_LABEL_ISSUES),
        ),
    ),
    rank=50,
    tab=Tab("Slices", after="errors", build=f"{_HERE}.tab:build"),
    card=f"{_HERE}.present:card",
    report=f"{_HERE}.present:report_section",
    model_card=f"{_HERE}.present:model_card_section",
    model_card_place="results",
    provides=(Provides(TEST_ROW_TAGS, PART.name, f"{_HERE}.schema:tag_table"),),
)
