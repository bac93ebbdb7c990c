"""Map tab: the stored 2-D UMAP coordinates of every test text, before and after fine-tuning.

Plotly's own click events do not reach Gradio's `gr.Plot`, so a point is inspected through the
linked table under the map: clicking a row shows its full text and probabilities and rings it on the map.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from agnews.formatting import number, percent
from agnews.labels import LABELS
from agnews.present.figures import COLOUR_BY, colour_choices, density_figure, map_figure
from agnews.rundir.parts import MapInfo
from agnews.rundir.run import Run
from agnews.ui.common import TABLE_WIDTHS, notice, row_details, rows_table, selected_row_id
from agnews.ui.lazy import fill_when_opened
from agnews.ui.live import Follower, Snapshot, Status

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


BUILDING_NOTE = (
    "> **Being built.** The map appears here as soon as the `embed` and `map` stages have made it "
    "(the line at the top of the page says how far they are); the other tabs are ready now."
)


class MapData:
    """What the tab's events draw from: set once at build time, or when the map part arrives."""

    def __init__(self, run: Run, points: pd.DataFrame | None) -> None:
        self.run = run
        self.points = points

    def require(self) -> pd.DataFrame:
        if self.points is None:
            raise gr.Error("The map is still being built; try again when the Map tab shows it.")
        return self.points


def build(run: Run, points: pd.DataFrame | None, tab: gr.Tab, *, coming: bool = False) -> Follower | None:
    """Lay out the tab inside `tab` and wire its events (`points` as in classify).

    A stored map is drawn when the tab is first opened (`agnews.ui.lazy`). Without a map, a notice
    says so; with `coming` (a background `agnews analyze` is making it) the
    tab is laid out hidden behind a "being built" notice and the returned `Follower` shows it,
    filled, once the map part exists (`agnews.ui.live`). Nothing is returned otherwise.
    """
    if points is None and not coming:
        notice(
            "This run has no map; run `agnews analyze RUN --stages embed,map` "
            "to compute embeddings and UMAP coordinates."
        )
        return None
    data = MapData(run, points)
    first_kind = next(iter(MAP_CHOICES))
    if points is None:
        building = gr.Markdown(BUILDING_NOTE, elem_id="map-building")
    with gr.Column(visible=points is not None, elem_id="map-panel") as panel:
        with gr.Row():
            kind = gr.Radio(list(MAP_CHOICES), value=first_kind, label="Map")
            colours = colour_choices(points) if points is not None else list(COLOUR_BY)
            colour_by = gr.Radio(colours, value="true label", label="Colour by", elem_id="map-colour")
            classes = gr.CheckboxGroup(list(LABELS), value=list(LABELS), label="True classes shown")
        quality = gr.Markdown("", elem_id="map-quality")
        selected = gr.State(None)
        with gr.Row():
            figure = gr.Plot(None, show_label=False, elem_id="map-plot", scale=3)
            with gr.Column(scale=2):
                details = gr.Markdown("", elem_id="map-details")
                probabilities = gr.Label(label="Probabilities", num_top_classes=4)
        with gr.Accordion("Per-class density (the hexbin view)", open=False):
            density = gr.Plot(None, show_label=False, elem_id="map-density")
        table = gr.Dataframe(
            None,
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
        points = data.require()
        note = quality_note(data.run.map_info, MAP_CHOICES[kind_label])
        return (
            draw(points, kind_label, colour, shown, row_id),
            rows_table(visible_points(points, shown)),
            note,
            draw_density(points, kind_label),
        )

    def inspect(
        kind_label: str, colour: str, shown: list[str], event: gr.SelectData
    ) -> tuple[int | None, go.Figure, str, dict[str, float] | None]:
        points = data.require()
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
    view_outputs = [quality, figure, density, table, details]

    def opening_view(run: Run, points: pd.DataFrame) -> dict[Any, Any]:
        """The tab's opening picture: every class, coloured by true label, nothing selected."""
        values = [
            quality_note(run.map_info, MAP_CHOICES[first_kind]),
            draw(points, first_kind, "true label", list(LABELS), None),
            draw_density(points, first_kind),
            rows_table(points),
            row_details(points, None)[0],
        ]
        return dict(zip(view_outputs, values, strict=True))

    if points is not None:
        fill_when_opened(
            tab, lambda _run: opening_view(run, points), view_outputs, current=lambda: run, name="map_open"
        )
        return None
    views: dict[int, dict[Any, Any]] = {}  # the opening view of the map, drawn once for all pages
    shown = gr.State(False)  # whether this page's tab has been filled (then it is the user's)

    def fill(snapshot: Snapshot, status: Status, filled: bool) -> dict[Any, Any]:
        points = snapshot.points
        if filled:
            return {}
        if points is None:
            if not status.finished:
                return {}
            # The map will not come (a stage failed or the builder stopped): say so, not "being built".
            reason = next((s.detail for s in status.stages if s.name == "map" and s.detail), "")
            return {building: unavailable_note(reason)}
        data.run, data.points = snapshot.run, points
        if id(points) not in views:
            views.clear()
            views[id(points)] = opening_view(snapshot.run, points)
        # The controls are untouched (hidden until now), so they already show the opening view.
        return {
            shown: True,
            building: gr.update(visible=False),
            panel: gr.update(visible=True),
            colour_by: gr.update(choices=colour_choices(points)),  # the smart tags, when the run has them
            **views[id(points)],
        }

    outputs = [shown, building, panel, colour_by, quality, figure, density, table, details]
    return Follower(outputs, fill, [shown])


def unavailable_note(reason: str) -> str:
    why = f" (stage map failed: {reason})" if reason else ""
    return (
        f"> **Not available for this run.** The map could not be built{why}; "
        "`agnews analyze RUN --stages embed,map` retries."
    )
