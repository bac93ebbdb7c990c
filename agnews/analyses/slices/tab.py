"""Slices tab: the model's accuracy on the test rows of each smart tag, against all rows.

Every line carries its row count and 95% Wilson interval, so a small slice's gap is read with its
uncertainty; the tags the run could not compute are listed with the reason, not shown as empty.
The table and plot are drawn when the tab is first opened (`agnews.ui.lazy`).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from agnews.analyses.slices.present import definitions, slice_figure, slice_numbers, slice_table
from agnews.analyses.slices.schema import PART
from agnews.rundir.run import Run
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`; fill it from the run as it is when first opened (while a
    background analyze is making the part, its absence is "being built")."""
    key = PART.name
    panel = Panel(page.run, (key,), what="slice table", key=key, coming=page.coming)
    if not panel.shown:
        return
    figure = gr.Plot(None, show_label=False, elem_id=f"{key}-plot")
    table = gr.Dataframe(None, label="Accuracy per slice", interactive=False, elem_id=f"{key}-table")
    note = gr.Markdown("", elem_id=f"{key}-definitions")

    def fill(run: Run) -> dict[Any, Any]:
        value = run.get(PART)
        assert value is not None  # the panel fills only once the part is there
        return {
            figure: slice_figure(slice_numbers(value.report)),
            table: slice_table(value.report),
            note: definitions(value.report),
        }

    panel.fill_when_opened(page.tab, fill, [figure, table, note], current=page.current)
