"""Errors tab: the misclassified test rows, most confident first.

A confident mistake is the likeliest label-noise candidate (the model may be right and the label
wrong), so those lead the list. Filters narrow it; the current selection exports as CSV.
"""

from __future__ import annotations

import tempfile

import gradio as gr
import pandas as pd

from agnews.labels import LABELS
from agnews.rundir import Run
from agnews.rundir.parts import PROB_COLUMNS
from agnews.ui.common import TABLE_WIDTHS, row_details, rows_table, selected_row_id

ANY = "any"


def mistakes(predictions: pd.DataFrame) -> pd.DataFrame:
    """Rows whose prediction differs from the label, by confidence (highest first), ties by row id."""
    wrong = predictions[predictions["label"] != predictions["pred"]]
    return wrong.sort_values(["confidence", "row_id"], ascending=[False, True], kind="stable")


def filter_mistakes(
    wrong: pd.DataFrame, true_class: str | None, predicted: str | None, query: str | None
) -> pd.DataFrame:
    """Narrow to a true class, a predicted class and a case-insensitive substring.

    `ANY`, None (a cleared dropdown) and an empty query (the browser sends None) filter nothing.
    """
    keep = pd.Series(True, index=wrong.index)
    if true_class not in (ANY, None):
        keep &= wrong["label_name"] == true_class
    if predicted not in (ANY, None):
        keep &= wrong["pred_name"] == predicted
    text = (query or "").strip()
    if text:
        keep &= wrong["text"].str.contains(text, case=False, regex=False)
    return wrong[keep]


def export_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """What the CSV holds: ids, full text, classes, confidence and the probabilities named by class."""
    columns = ["row_id", "text", "label_name", "pred_name", "confidence", *PROB_COLUMNS]
    names = {f"prob_{i}": f"p_{name}" for i, name in enumerate(LABELS)}
    return rows[columns].rename(columns={"label_name": "true", "pred_name": "predicted", **names})


def build(run: Run) -> tuple[gr.Dropdown, gr.Dropdown]:
    """Lay out the tab inside the current `gr.Tab`; return the class filters (the confusion tab sets them)."""
    wrong = mistakes(run.predictions)
    choices = [ANY, *LABELS]
    with gr.Row():
        true_class = gr.Dropdown(choices, value=ANY, label="True class", elem_id="errors-true")
        predicted = gr.Dropdown(choices, value=ANY, label="Predicted class", elem_id="errors-pred")
        query = gr.Textbox(label="Text contains", placeholder="e.g. oil")
    count = gr.Markdown(f"{len(wrong)} of {len(run.predictions)} test rows are misclassified.")
    with gr.Row():
        table = gr.Dataframe(
            rows_table(wrong),
            label="Mistakes, most confident first (click a row for details)",
            interactive=False,
            max_height=480,
            column_widths=TABLE_WIDTHS,
            elem_id="errors-table",
            scale=3,
        )
        with gr.Column(scale=2):
            details = gr.Markdown(row_details(wrong, None)[0], elem_id="errors-details")
            probabilities = gr.Label(label="Probabilities", num_top_classes=4)
            export = gr.Button("Export these rows as CSV")
            download = gr.File(label="CSV", interactive=False, height=90)

    def refresh(true_name: str | None, pred_name: str | None, text: str | None) -> tuple[pd.DataFrame, str]:
        rows = filter_mistakes(wrong, true_name, pred_name, text)
        return rows_table(rows), f"{len(rows)} of {len(wrong)} mistakes match."

    def write_csv(true_name: str | None, pred_name: str | None, text: str | None) -> str:
        rows = filter_mistakes(wrong, true_name, pred_name, text)
        with tempfile.NamedTemporaryFile("w", prefix="agnews-errors-", suffix=".csv", delete=False) as out:
            export_frame(rows).to_csv(out, index=False)
        return out.name

    def inspect(event: gr.SelectData) -> tuple[str, dict[str, float] | None]:
        return row_details(wrong, selected_row_id(event))

    filters = [true_class, predicted, query]
    gr.on(
        [true_class.change, predicted.change, query.submit],
        refresh,
        filters,
        [table, count],
        api_name="errors",
        api_visibility="undocumented",
    )
    export.click(write_csv, filters, download, api_name="errors_csv", api_visibility="undocumented")
    table.select(
        inspect, None, [details, probabilities], api_name="errors_inspect", api_visibility="undocumented"
    )
    return true_class, predicted
