"""Map tab: the stored 2-D UMAP coordinates of every test text, before and after fine-tuning.

Plotly's own click events do not reach Gradio's `gr.Plot`, so a point is inspected through the
linked table under the map: clicking a row shows its full text and probabilities and rings it on the map.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from agnews.labels import LABELS
from agnews.rundir import Run
from agnews.rundir.parts import MapInfo, to_plain
from agnews.ui.common import TABLE_WIDTHS, notice, row_details, rows_table, selected_row_id
from agnews.ui.figures import COLOUR_BY, density_figure, map_figure

MAP_CHOICES = {"fine-tuned": "finetuned", "base (before fine-tuning)": "base"}


def visible_points(points: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """The points whose true class is among `classes` (the class filter)."""
    return points[points["label_name"].isin(classes)]


def quality_note(map_info: MapInfo | None, kind: str) -> str:
    """How far to trust the picture: silhouette and 2-D neighbour agreement, when the run has them."""
    quality = to_plain(map_info.quality[kind]) if map_info is not None and kind in map_info.quality else None
    if not quality:
        return ""
    return (
        f"Silhouette by true class **{quality['silhouette_true']:.2f}** · the majority of a point's "
        f"{quality.get('k', 10)} nearest 2-D neighbours matches its true class for "
        f"**{quality['knn_agreement_true']:.0%}** of points and the model's prediction for "
        f"**{quality['knn_agreement_pred']:.0%}**. UMAP keeps neighbourhoods, not distances between clusters."
    )


def draw(
    points: pd.DataFrame, kind_label: str, colour_by: str, classes: list[str], selected: int | None
) -> go.Figure:
    kind = MAP_CHOICES[kind_label]
    return map_figure(
        visible_points(points, classes),
        x=f"{kind}_x",
        y=f"{kind}_y",
        colour_by=colour_by,
        title=f"{kind_label} [CLS] vectors, UMAP to 2-D",
        selected=selected,
    )


def draw_density(points: pd.DataFrame, kind_label: str) -> go.Figure:
    kind = MAP_CHOICES[kind_label]
    return density_figure(points, x=f"{kind}_x", y=f"{kind}_y", title=f"{kind_label}: where each class lies")


def build(run: Run, points: pd.DataFrame | None) -> None:
    """Lay out the tab inside the current `gr.Tab` and wire its events (`points` as in classify)."""
    if points is None:
        notice(
            "This run has no map; run `agnews analyze RUN --stages embed,map` "
            "to compute embeddings and UMAP coordinates."
        )
        return
    first_kind = next(iter(MAP_CHOICES))
    with gr.Row():
        kind = gr.Radio(list(MAP_CHOICES), value=first_kind, label="Map")
        colour_by = gr.Radio(list(COLOUR_BY), value="true label", label="Colour by")
        classes = gr.CheckboxGroup(list(LABELS), value=list(LABELS), label="True classes shown")
    quality = gr.Markdown(quality_note(run.map_info, MAP_CHOICES[first_kind]))
    selected = gr.State(None)
    with gr.Row():
        figure = gr.Plot(
            draw(points, first_kind, "true label", list(LABELS), None),
            show_label=False,
            elem_id="map-plot",
            scale=3,
        )
        with gr.Column(scale=2):
            details = gr.Markdown(row_details(points, None)[0], elem_id="map-details")
            probabilities = gr.Label(label="Probabilities", num_top_classes=4)
    with gr.Accordion("Per-class density (the hexbin view)", open=False):
        density = gr.Plot(draw_density(points, first_kind), show_label=False, elem_id="map-density")
    table = gr.Dataframe(
        rows_table(points),
        label="Points shown (click a row to inspect it on the map)",
        interactive=False,
        show_search="search",
        max_height=360,
        column_widths=TABLE_WIDTHS,
        elem_id="map-table",
    )

    def redraw(
        kind_label: str, colour: str, shown: list[str], row_id: int | None
    ) -> tuple[go.Figure, pd.DataFrame, str, go.Figure]:
        note = quality_note(run.map_info, MAP_CHOICES[kind_label])
        return (
            draw(points, kind_label, colour, shown, row_id),
            rows_table(visible_points(points, shown)),
            note,
            draw_density(points, kind_label),
        )

    def inspect(
        kind_label: str, colour: str, shown: list[str], event: gr.SelectData
    ) -> tuple[int | None, go.Figure, str, dict[str, float] | None]:
        row_id = selected_row_id(event)
        return row_id, draw(points, kind_label, colour, shown, row_id), *row_details(points, row_id)

    controls = [kind, colour_by, classes]
    gr.on(
        [c.change for c in controls],
        redraw,
        [*controls, selected],
        [figure, table, quality, density],
        api_name="map",
        api_visibility="undocumented",
    )
    table.select(
        inspect,
        controls,
        [selected, figure, details, probabilities],
        api_name="map_inspect",
        api_visibility="undocumented",
    )
