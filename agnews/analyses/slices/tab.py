"""Slices tab: the model's accuracy on the test rows of each smart tag, against all rows.

Every line carries its row count and 95% Wilson interval, so a small slice's gap is read with its
uncertainty; the tags the run could not compute are listed with the reason, not shown as empty.
The table and plot are drawn when the tab is first opened (`agnews.ui.lazy`). Clicking a slice (its
point on the plot, or its row in the table) lists its rows in the Errors tab (`agnews.ui.open_rows`):
its mistakes first, then the rows the model got right.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from agnews.analyses.slices.present import definitions, slice_figure, slice_numbers, slice_table
from agnews.analyses.slices.schema import PART
from agnews.rundir.facts import TEST_ROW_TAGS
from agnews.rundir.run import Run
from agnews.ui.open_rows import mistakes_first
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel
from agnews.ui.plot_events import parse, plot_events


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`; fill it from the run as it is when first opened (while a
    background analyze is making the part, its absence is "being built")."""
    key = PART.name
    panel = Panel(page, (key,), what="slice table", key=key)
    with panel.content:
        figure = gr.Plot(None, show_label=False, elem_id=f"{key}-plot")
        clicks = plot_events(figure)
        table = gr.Dataframe(
            None,
            label="Accuracy per slice (click a slice to list its rows in the Errors tab)",
            interactive=False,
            elem_id=f"{key}-table",
        )
        note = gr.Markdown("", elem_id=f"{key}-definitions")

    def open_slice(tag: str) -> dict[Any, Any]:
        run = page.current()
        tags = run.fact(TEST_ROW_TAGS)
        if tags is None or tag not in tags:
            return {}  # "all rows", or a slice of an older version of the run
        rows = run.predictions[tags[tag].astype(bool).to_numpy()]
        wrong = int((rows["label"] != rows["pred"]).sum())
        why = f"slice {tag} ({len(rows)} rows, {wrong} mistakes)"
        return page.open_rows.open(mistakes_first(rows), why)

    def clicked_plot(raw: str | None) -> dict[Any, Any]:
        event = parse(raw)
        if event is None or event.kind != "click" or not event.ids:
            return {}
        return open_slice(event.ids[0])

    def clicked_table(event: gr.SelectData) -> dict[Any, Any]:
        value = page.current().get(PART)
        if value is None or not event.row_value:
            return {}
        shown = slice_table(value.report)["slice"]  # the table names a slice as it names it to people
        tags = dict(zip(shown, (s.name for s in value.report.slices), strict=True))
        return open_slice(tags.get(str(event.row_value[0]), ""))

    outputs = page.open_rows.outputs
    clicks.change(clicked_plot, clicks, outputs, api_name=f"{key}_plot_click", api_visibility="undocumented")
    table.select(clicked_table, None, outputs, api_name=f"{key}_row_click", api_visibility="undocumented")

    def fill(run: Run) -> dict[Any, Any]:
        value = run.get(PART)
        assert value is not None  # the panel fills only once the part is there
        return {
            figure: slice_figure(slice_numbers(value.report)),
            table: slice_table(value.report),
            note: definitions(value.report),
        }

    panel.fill_when_opened(fill, [figure, table, note])
