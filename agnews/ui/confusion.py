"""Confusion matrix tab: where the model goes wrong, as a heatmap and as metrics tables.

A cell of the heatmap (its clicks come through `agnews.ui.plot_events`) or of the counts table beside
it opens that cell's rows in the Errors tab (`agnews.ui.open_rows`): an off-diagonal cell its
mistakes, a diagonal cell the rows the model got right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import gradio as gr
import pandas as pd

from agnews.present.figures import confusion_figure, plot_text
from agnews.present.tables import metrics_glosses, per_class_table, summary_table
from agnews.rundir.run import Run
from agnews.ui.lazy import fill_when_opened
from agnews.ui.live import Follower
from agnews.ui.open_rows import OpenRows
from agnews.ui.plot_events import parse, plot_events

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


def pair_rows(run: Run, true_name: str, predicted_name: str) -> list[int]:
    """The ids of the test rows of class `true_name` predicted as `predicted_name`, most confident
    first (the Errors tab's order)."""
    rows = run.predictions
    chosen = rows[(rows["label_name"] == true_name) & (rows["pred_name"] == predicted_name)]
    return chosen.sort_values(["confidence", "row_id"], ascending=[False, True])["row_id"].tolist()


def build(tab: gr.Tab, open_rows: OpenRows, *, current: Callable[[], Run]) -> Follower:
    """Lay out the tab inside the current `gr.Tab` and wire its clicks: a cell of the heatmap or of
    the counts table opens that cell's rows in the Errors tab (`open_rows`). The heatmap and the
    tables are drawn when the tab is first opened in a page, from the run that page shows
    (`current()`: a page may show another run than the app's, with other classes). Returns how the
    metrics table follows a run still being built (`agnews.ui.live`: the baseline arrives)."""
    with gr.Row():
        with gr.Column():
            plot = gr.Plot(None, show_label=False, elem_id="confusion-plot")
            clicks = plot_events(plot)
            gr.Markdown("Click a cell (on the heatmap or in the counts) to list its rows in the Errors tab.")
        with gr.Column():
            cells = gr.Dataframe(
                None,
                label="Counts: click a cell to list its rows in the Errors tab",
                interactive=False,
                elem_id="confusion-cells",
            )
            metrics = gr.Dataframe(
                None, label="Test metrics", interactive=False, wrap=True, elem_id="confusion-metrics"
            )
            per_class = gr.Dataframe(
                None, label="Per class", interactive=False, elem_id="confusion-per-class"
            )
            gr.Markdown(metrics_glosses(), elem_id="confusion-glosses")

    def drawn(run: Run) -> dict[Any, Any]:
        test = asdict(run.metrics.test)
        return {
            plot: confusion_figure(test["confusion_matrix"], run.classes),
            cells: counts_table(test["confusion_matrix"], run.classes),
            metrics: summary(run),
            per_class: per_class_table(test, run.classes),
        }

    fill_when_opened(tab, drawn, [plot, cells, metrics, per_class], current=current, name="confusion_open")

    def open_pair(true_name: str, predicted_name: str) -> dict[Any, Any]:
        run = current()
        if true_name not in run.classes or predicted_name not in run.classes:
            return {}  # a cell of a table the page no longer shows
        rows = pair_rows(run, true_name, predicted_name)
        verdict = "correct" if true_name == predicted_name else "mistakes"
        why = f"true {true_name}, predicted {predicted_name} ({len(rows)} {verdict}; confusion matrix)"
        return open_rows.open(rows, why)

    def clicked_plot(raw: str | None) -> dict[Any, Any]:
        event = parse(raw)
        if event is None or event.kind != "click" or not event.cells:
            return {}
        names = {plot_text(name): name for name in current().classes}  # the axes show names escaped
        predicted_shown, true_shown = event.cells[0]  # the heatmap's x is the prediction, y the truth
        if predicted_shown not in names or true_shown not in names:
            return {}
        return open_pair(names[true_shown], names[predicted_shown])

    def clicked_table(table: pd.DataFrame, event: gr.SelectData) -> dict[Any, Any]:
        pair = cell_pair(table, event.index)
        if pair is None:
            gr.Info("Click a count: the class-name column opens nothing.")
            return {}
        return open_pair(*pair)

    undocumented: dict[str, Any] = {"api_visibility": "undocumented"}
    clicks.change(clicked_plot, clicks, open_rows.outputs, api_name="confusion_plot_cell", **undocumented)
    cells.select(clicked_table, [cells], open_rows.outputs, api_name="confusion_cell", **undocumented)
    return Follower([metrics], lambda snapshot, _status: {metrics: summary(snapshot.run)})
