"""How the map part reads: each map drawn from the points (the predictions with their coordinates,
`agnews.present.tables.map_points`), the per-class density, how far to trust the picture, and the
report section. Plain functions (no Gradio), shared by the tab and the report."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from agnews.analyses.map.schema import PART, MapInfo
from agnews.formatting import count, number, percent
from agnews.present.figures import density_figure, map_figure
from agnews.present.notices import part_notice
from agnews.present.sections import figure_html, markdown_section, section
from agnews.present.tables import map_points
from agnews.rundir.run import Run

TITLE = "Maps"
MAP_CHOICES = {"fine-tuned": "finetuned", "base (before fine-tuning)": "base"}


def visible_points(points: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """The points whose true class is among `classes` (the class filter)."""
    return points[points["label_name"].isin(classes)]


def quality_note(map_info: MapInfo | None, kind: str) -> str:
    """How far to trust the picture: silhouette and 2-D neighbour agreement, when the run has them."""
    if map_info is None or kind not in map_info.quality:
        return ""
    quality = map_info.quality[kind]
    return (
        f"Silhouette by true class **{number(quality.silhouette_true, 2)}** · the majority of a point's "
        f"{quality.k} nearest 2-D neighbours matches its true class for "
        f"**{percent(quality.knn_agreement_true, 0)}** of points and the model's prediction for "
        f"**{percent(quality.knn_agreement_pred, 0)}**. "
        "UMAP keeps neighbourhoods, not distances between clusters."
    )


def draw(
    points: pd.DataFrame,
    kind_label: str,
    colour_by: str,
    shown: list[str],
    selected: int | None,
    classes: Sequence[str],
) -> go.Figure:
    """The map `kind_label` of the points whose true class is among `shown`, coloured by `colour_by`
    (`classes`: the run's, which fix each class's colour)."""
    kind = MAP_CHOICES[kind_label]
    return map_figure(
        visible_points(points, shown),
        x=f"{kind}_x",
        y=f"{kind}_y",
        classes=classes,
        colour_by=colour_by,
        title=f"{kind_label} [CLS] vectors, UMAP to 2-D",
        selected=selected,
    )


def draw_density(points: pd.DataFrame, kind_label: str, classes: Sequence[str]) -> go.Figure:
    kind = MAP_CHOICES[kind_label]
    title = f"{kind_label}: where each class lies"
    return density_figure(points, x=f"{kind}_x", y=f"{kind}_y", classes=classes, title=title)


def report_section(run: Run) -> str:
    """The HTML report's section: both maps, coloured by true class."""
    if not run.has(PART.name):
        return section(TITLE, markdown_section(part_notice(run, PART.name, "maps")))
    points = map_points(run)
    if points is None:
        return section(
            TITLE, markdown_section("> The map's rows do not match the predictions; the maps are left out.")
        )
    figures = [
        figure_html(
            map_figure(
                points,
                x=f"{kind}_x",
                y=f"{kind}_y",
                classes=run.classes,
                title=f"{label} [CLS] vectors, UMAP to 2-D",
            ),
            f"{PART.name}-{kind}",
        )
        for label, kind in MAP_CHOICES.items()
    ]
    return section(
        TITLE,
        markdown_section(f"Every test row ({count(len(points))} points), coloured by true class."),
        *figures,
    )
