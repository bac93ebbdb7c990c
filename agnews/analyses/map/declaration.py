"""The map, declared once: 2-D UMAP coordinates of every test row's base and fine-tuned [CLS]
vector, with how faithful each picture is. It answers the core's `MAP_COORDINATES` fact (Classify
places typed text on the map, Compare draws two runs' maps)."""

from __future__ import annotations

from agnews.analyses.map.schema import PART
from agnews.rundir.declarations import Analysis, Provides, Stage, Tab
from agnews.rundir.facts import MAP_COORDINATES

_HERE = "agnews.analyses.map"

MAP = Analysis(
    name=PART.name,
    title="Map",
    parts=(PART,),
    stages=(
        Stage(
            PART.name,
            (PART.name,),
            ("embeddings", "predictions"),
            "2-D map",
            "2-D UMAP maps and their quality",
            function=f"{_HERE}.stage:map_stage",
            default=True,
            order=60,
        ),
    ),
    rank=5,
    tab=Tab("Map", after="classify", build=f"{_HERE}.tab:build"),
    report=f"{_HERE}.present:report_section",
    provides=(Provides(MAP_COORDINATES, PART.name, f"{_HERE}.schema:coordinates"),),
)
