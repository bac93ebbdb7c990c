"""The neighbours analysis, declared once: the fine-tuned vectors of the training rows, where the
page finds the rows nearest a test row or a typed text; it answers the core's `TRAINING_VECTORS`
(the Errors tab shows a selected mistake's nearest training rows)."""

from __future__ import annotations

from agnews.analyses.neighbours.schema import PART
from agnews.rundir.declarations import Analysis, Provides, Stage, Tab
from agnews.rundir.facts import TRAINING_VECTORS

_HERE = "agnews.analyses.neighbours"

NEIGHBOURS = Analysis(
    name=PART.name,
    title="Neighbours",
    parts=(PART,),
    stages=(
        Stage(
            PART.name,
            (PART.name,),
            ("model", "config"),
            "training-row vectors",
            "fine-tuned [CLS] vectors of the training rows, for their nearest neighbours",
            function=f"{_HERE}.stage:neighbours_stage",
            default=True,
            order=70,
        ),
    ),
    rank=45,
    tab=Tab("Neighbours", after="errors", build=f"{_HERE}.tab:build"),
    provides=(Provides(TRAINING_VECTORS, PART.name),),
)
