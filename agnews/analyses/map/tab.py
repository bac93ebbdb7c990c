"""Map tab: the stored 2-D UMAP coordinates of every test text, before and after fine-tuning.

Clicking a point (or a row of the table under the map) shows its full text and probabilities and
rings it on the map. A box or lasso selection (Plotly's own tools, in the figure's toolbar) lists the
selected points in the table, whose rows then ring their points, and "Open in Errors" lists them
in the rows browser (`agnews.ui.open_rows`). The figure's clicks and selections come through
`agnews.ui.plot_events`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from agnews.analyses.map.present import MAP_CHOICES, draw, draw_density, quality_note, visible_points
from agnews.analyses.map.schema import PART
from agnews.present.figures import COLOUR_BY, colour_choices
from agnews.rundir.decisions import TEST
from agnews.rundir.run import Run
from agnews.ui.classify import MAP_POINTS, shown_points
from agnews.ui.common import (
    DECIDED_TABLE_WIDTHS,
    TABLE_WIDTHS,
    notice,
    row_details,
    rows_table,
    selected_row_id,
)
from agnews.ui.decisions import saved_decided
from agnews.ui.lazy import fill_when_opened
from agnews.ui.live import Follower, Snapshot, Status
from agnews.ui.open_rows import mistakes_first
from agnews.ui.page import TabPage
from agnews.ui.plot_events import parse, plot_events

SELECT_HINT = (
    "Click a point to inspect it; choose *Box Select* or *Lasso Select* in the figure's toolbar "
    "to list a group of points."
)
TOP_CLASSES = 5  # classes the probabilities of a point list (a run may have 150)
MANY_CLASSES = 20  # beyond this many classes, the class filter is a list to pick from, not a box each
MAKE = f"`agnews analyze RUN --stages embed,{PART.name}`"
BUILDING_NOTE = (
    f"> **Being built.** The map appears here as soon as the `embed` and `{PART.name}` stages have made "
    "it (the line at the top of the page says how far they are); the other tabs are ready now."
)


def boxed(run: Run) -> bool:
    """Whether `run`'s class filter is a box per class (few classes), else a list to pick from."""
    return len(run.classes) <= MANY_CLASSES


def shown_classes(run: Run, ticked: list[str] | None, picked: list[str] | None) -> list[str]:
    """The classes the filter shows: the ticked boxes, for a run of few classes; for one of more
    than `MANY_CLASSES`, those picked from the list, or all of them where none is picked."""
    if boxed(run):
        return list(ticked or [])
    return list(picked or []) or list(run.classes)


def chosen_rows(points: pd.DataFrame, ids: list[int]) -> pd.DataFrame:
    """The points of `ids` (a selection on the map), in the order `mistakes_first` opens them."""
    rows = points[points["row_id"].isin(ids)]
    return rows.set_index("row_id", drop=False).loc[mistakes_first(rows)].reset_index(drop=True)


def selection_line(rows: pd.DataFrame) -> str:
    """What a selection holds, in one line."""
    wrong = int((rows["label"] != rows["pred"]).sum())
    return f"**{len(rows)} points selected**, {wrong} of them mistakes: listed in the table below."


def unavailable_note(reason: str) -> str:
    why = f" (stage {PART.name} failed: {reason})" if reason else ""
    return f"> **Not available for this run.** The map could not be built{why}; {MAKE} retries."


def required_points(run: Run) -> pd.DataFrame:
    """The points of the map of `run`, the run a page shows (`shown_points`); a message when it has
    none (yet)."""
    points = shown_points(run)
    if points is None:
        raise gr.Error("This run has no map (yet): the Map tab says why.", print_exception=False)
    return points


def build(page: TabPage) -> Follower | None:
    """Lay out the tab inside `page.tab` and wire its events, for the run each page shows (`page.points`:
    the app's run's predictions with their map coordinates, as Classify places text on them; another
    run's are its `shown_points`).

    A stored map is drawn when the tab is first opened (`agnews.ui.lazy`). Without a map, a notice
    says so; while a background `agnews analyze` is making the app's run's map (`page.coming`) the
    tab is laid out hidden behind a "being built" notice and the returned `Follower` shows it, filled,
    once the map part exists (`agnews.ui.live`). Nothing is returned otherwise. A page on another run
    shows its map or the notice, with that run's classes and colourings.
    """
    run, points, tab = page.run, page.points, page.tab
    run.derived(MAP_POINTS, lambda: points)  # the app made them already: not made twice
    first_kind = next(iter(MAP_CHOICES))
    missing = notice(
        f"This run has no map; run {MAKE} to compute embeddings and UMAP coordinates.",
        "map-missing",
        visible=points is None and not page.coming,
    )
    building = gr.Markdown(BUILDING_NOTE, visible=points is None and page.coming, elem_id="map-building")
    with gr.Column(visible=points is not None, elem_id="map-panel") as panel:
        with gr.Row():
            kind = gr.Radio(list(MAP_CHOICES), value=first_kind, label="Map")
            colours = colour_choices(points) if points is not None else list(COLOUR_BY)
            colour_by = gr.Radio(colours, value="true label", label="Colour by", elem_id="map-colour")
            few = boxed(run)
            # Few classes: a box each. Many (a dataset may have 150): a list to pick some from, where
            # none picked shows them all, instead of a wall of boxes above the map.
            classes = gr.CheckboxGroup(
                list(run.classes) if few else [],
                value=list(run.classes) if few else [],
                label="True classes shown",
                visible=few,
                elem_id="map-classes",
            )
            picked = gr.Dropdown(
                [] if few else list(run.classes),
                value=[],
                multiselect=True,
                label="True classes shown (none picked: every class)",
                visible=not few,
                elem_id="map-classes-picked",
            )
        quality = gr.Markdown("", elem_id="map-quality")
        selected = gr.State(None)
        chosen = gr.State(())  # the row ids of the latest box or lasso selection
        with gr.Row():
            figure = gr.Plot(None, show_label=False, elem_id="map-plot", scale=3)
            with gr.Column(scale=2):
                plot_clicks = plot_events(figure)
                chosen_line = gr.Markdown(SELECT_HINT, elem_id="map-selection")
                open_chosen = gr.Button("Open the selected rows in Errors", visible=False, elem_id="map-open")
                details = gr.Markdown("", elem_id="map-details")
                probabilities = gr.Label(label="Probabilities", num_top_classes=TOP_CLASSES)
        with gr.Accordion("Per-class density (the hexbin view)", open=False):
            density = gr.Plot(None, show_label=False, elem_id="map-density")
        table = gr.Dataframe(
            None,
            label="Points shown (click a row to inspect it on the map)",
            interactive=False,
            show_search="search",
            max_height=360,
            column_widths=TABLE_WIDTHS if page.store is None else DECIDED_TABLE_WIDTHS,
            elem_id="map-table",
        )

    def class_filters(shown: Run) -> dict[Any, Any]:
        """The class filter that suits `shown`'s number of classes, every class shown."""
        names, few = list(shown.classes), boxed(shown)
        return {
            classes: gr.update(choices=names if few else [], value=names if few else [], visible=few),
            picked: gr.update(choices=[] if few else names, value=[], visible=not few),
        }

    def listed_points(shown: Run, rows: pd.DataFrame) -> pd.DataFrame:
        """The table's rows, with what is decided on each (saved decisions: `saved_decided`)."""
        return rows_table(rows, saved_decided(page.store, shown, TEST, rows["row_id"]))

    def info(shown: Run) -> Any:
        stored = shown.get(PART)
        return None if stored is None else stored.info

    def redraw(
        kind_label: str, colour: str, ticked: list[str], chosen_classes: list[str], row_id: int | None
    ) -> tuple[go.Figure, pd.DataFrame, str, go.Figure]:
        page_run = page.current()
        points = required_points(page_run)
        shown = shown_classes(page_run, ticked, chosen_classes)
        return (
            draw(points, kind_label, colour, shown, row_id, page_run.classes),
            listed_points(page_run, visible_points(points, shown)),
            quality_note(info(page_run), MAP_CHOICES[kind_label]),
            draw_density(points, kind_label, page_run.classes),
        )

    def inspect(
        kind_label: str, colour: str, ticked: list[str], chosen_classes: list[str], event: gr.SelectData
    ) -> tuple[int | None, go.Figure, str, dict[str, float] | None]:
        page_run = page.current()
        points = required_points(page_run)
        shown = shown_classes(page_run, ticked, chosen_classes)
        row_id = selected_row_id(event)
        return (
            row_id,
            draw(points, kind_label, colour, shown, row_id, page_run.classes),
            *row_details(points, row_id, page_run.classes),
        )

    def select_points(
        kind_label: str, colour: str, ticked: list[str], chosen_classes: list[str], raw: str | None
    ) -> dict[Any, Any]:
        """A click rings its point; a selection lists its points (none: every shown point again)."""
        event = parse(raw)
        if event is None:
            return {}
        page_run = page.current()
        points = required_points(page_run)
        shown = shown_classes(page_run, ticked, chosen_classes)
        ids = [int(i) for i in event.ids if i.isdigit()]
        if event.kind == "click":
            if not ids:
                return {}
            row_id = ids[0]
            text, chances = row_details(points, row_id, page_run.classes)
            figure_now = draw(points, kind_label, colour, shown, row_id, page_run.classes)
            return {selected: row_id, figure: figure_now, details: text, probabilities: chances}
        rows = chosen_rows(points, ids)
        if rows.empty:
            return {
                chosen: (),
                table: listed_points(page_run, visible_points(points, shown)),
                chosen_line: SELECT_HINT,
                open_chosen: gr.update(visible=False),
            }
        return {
            chosen: tuple(rows["row_id"].tolist()),
            table: listed_points(page_run, rows),
            chosen_line: selection_line(rows),
            open_chosen: gr.update(visible=True, value=f"Open these {len(rows)} rows in Errors"),
        }

    def open_selection(ids: tuple[int, ...]) -> dict[Any, Any]:
        return page.open_rows.open(ids, f"{len(ids)} points selected on the map")

    controls = [kind, colour_by, classes, picked]
    plot_clicks.change(
        select_points,
        [*controls, plot_clicks],
        [selected, figure, details, probabilities, chosen, table, chosen_line, open_chosen],
        api_name="map_points",
        api_visibility="undocumented",
        trigger_mode="always_last",
    )
    open_chosen.click(
        open_selection,
        chosen,
        page.open_rows.outputs,
        api_name="map_open_rows",
        api_visibility="undocumented",
    )
    # `input`, not `change`: a page opened on another run sets the class filter to its classes, which
    # must not draw a map nobody has opened yet.
    gr.on(
        [c.input for c in controls],
        redraw,
        [*controls, selected],
        [figure, table, quality, density],
        api_name="map",
        api_visibility="undocumented",
        trigger_mode="always_last",  # a quick second toggle of a control is drawn, not dropped
    )

    def forget_selection() -> tuple[tuple[int, ...], str, Any]:
        """A redrawn map has no selection: the table lists every shown point again."""
        return (), SELECT_HINT, gr.update(visible=False)

    gr.on(
        [c.input for c in controls], forget_selection, None, [chosen, chosen_line, open_chosen], queue=False
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
            quality_note(info(run), MAP_CHOICES[first_kind]),
            draw(points, first_kind, "true label", list(run.classes), None, run.classes),
            draw_density(points, first_kind, run.classes),
            listed_points(run, points),
            row_details(points, None, run.classes)[0],
        ]
        return dict(zip(view_outputs, values, strict=True))

    def opened(shown: Run) -> dict[Any, Any] | None:
        """The opening view of the map of the run the page shows; None while there is none to draw
        (the follower below draws the app's live run's, once it is made)."""
        shown_at = shown_points(shown)
        if shown_at is None or (page.coming and shown.path == run.path):
            return None
        return opening_view(shown, shown_at)

    fill_when_opened(tab, opened, view_outputs, current=page.current, name="map_open")

    def on_other_run(other: Run) -> dict[Any, Any]:
        """The tab on a page showing `other`, a run that is not the app's (so nothing is coming)."""
        other_points = shown_points(other)
        updates: dict[Any, Any] = {
            missing: gr.update(visible=other_points is None),
            building: gr.update(visible=False),
            panel: gr.update(visible=other_points is not None),
            **class_filters(other),
        }
        if other_points is not None:
            updates[colour_by] = gr.update(choices=colour_choices(other_points), value="true label")
        return updates

    page.refresh(on_other_run, [missing, building, panel, colour_by, classes, picked])
    if not page.coming:
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
            reason = next((s.detail for s in status.stages if s.name == PART.name and s.detail), "")
            return {building: unavailable_note(reason)}
        snapshot.run.derived(MAP_POINTS, lambda: points)  # the live run made them already
        if id(points) not in views:
            views.clear()
            views[id(points)] = opening_view(snapshot.run, points)
        # The controls are untouched (hidden until now), so they already show the opening view; its
        # table is listed anew, with what has been decided on the rows since it was first drawn.
        return {
            shown: True,
            building: gr.update(visible=False),
            panel: gr.update(visible=True),
            colour_by: gr.update(choices=colour_choices(points)),  # the smart tags, when the run has them
            **views[id(points)],
            table: listed_points(snapshot.run, points),
        }

    outputs = [shown, building, panel, colour_by, quality, figure, density, table, details]
    return Follower(outputs, fill, [shown])
