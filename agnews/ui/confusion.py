"""Confusion matrix tab: where the model goes wrong, as a heatmap and as metrics tables.

The heatmap is for reading; the counts table beside it is for choosing, because Gradio's `gr.Plot`
reports no clicks: clicking an off-diagonal cell there opens the Errors tab filtered to that pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import gradio as gr
import pandas as pd

from agnews.present.figures import confusion_figure
from agnews.present.tables import per_class_table, summary_table
from agnews.rundir.run import Run
from agnews.ui.lazy import fill_when_opened
from agnews.ui.live import Follower

CORNER = "true \\ predicted"


def counts_table(matrix: list[list[int]], classes: Sequence[str]) -> pd.DataFrame:
    """The confusion matrix as a clickable table: first column the true class, then counts, one
    column per class (`classes`: the run's, in class-id order), every class however many."""
    table = pd.DataFrame(matrix, columns=list(classes))
    table.insert(0, CORNER, list(classes))
    return table


def cell_pair(table: pd.DataFrame, index: tuple[int, int] | list[int]) -> tuple[str, str] | None:
    """(true, predicted) class names of a clicked cell of `table` (a `counts_table`, read by position:
    the names are the table's own); None for the class-name column."""
    row, column = index
    return (str(table.iloc[row, 0]), str(table.columns[column])) if column >= 1 else None


def summary(run: Run) -> pd.DataFrame:
    """The test metrics table of `run`: the frozen-baseline row appears once the run has its part."""
    return summary_table(asdict(run.metrics.test), asdict(run.baseline) if run.baseline else None)


def build(run: Run, tab: gr.Tab) -> tuple[gr.Dataframe, Follower]:
    """Lay out the tab inside the current `gr.Tab`; return the counts table for `link_to_errors`, and
    how the metrics table follows a run still being built (`agnews.ui.live`: the baseline arrives)."""
    test = asdict(run.metrics.test)
    with gr.Row():
        plot = gr.Plot(None, show_label=False, elem_id="confusion-plot")
        fill_when_opened(
            tab,
            lambda _run: {plot: confusion_figure(test["confusion_matrix"], run.classes)},
            [plot],
            current=lambda: run,
            name="confusion_open",
        )
        with gr.Column():
            cells = gr.Dataframe(
                counts_table(test["confusion_matrix"], run.classes),
                label="Counts: click a cell to list those mistakes in the Errors tab",
                interactive=False,
                elem_id="confusion-cells",
            )
            metrics = gr.Dataframe(
                summary(run), label="Test metrics", interactive=False, wrap=True, elem_id="confusion-metrics"
            )
            gr.Dataframe(per_class_table(test, run.classes), label="Per class", interactive=False)
    return cells, Follower([metrics], lambda snapshot, _status: {metrics: summary(snapshot.run)})


def link_to_errors(
    cells: gr.Dataframe, true_class: gr.Dropdown, predicted: gr.Dropdown, tabs: gr.Tabs
) -> None:
    """Clicking an off-diagonal cell sets the Errors tab's filters to that pair and switches to it."""

    def choose(table: pd.DataFrame, event: gr.SelectData) -> tuple[Any, Any, Any]:
        pair = cell_pair(table, event.index)
        if pair is None or pair[0] == pair[1]:
            gr.Info("Choose an off-diagonal cell: those are the mistakes.")
            return gr.skip(), gr.skip(), gr.skip()
        return pair[0], pair[1], gr.Tabs(selected="errors")

    cells.select(
        choose,
        [cells],
        [true_class, predicted, tabs],
        api_name="confusion_cell",
        api_visibility="undocumented",
    )
