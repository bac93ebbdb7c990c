"""Errors tab: the misclassified test rows, most confident first.

A confident mistake is the likeliest label-noise candidate (the model may be right and the label
wrong), so those lead the list. Where the run knows its test rows' label issues
(`TEST_LABEL_ISSUES`), cleanlab's verdict
("likely mislabelled", with the suggested label) is a column, and an order puts those rows first.
Filters narrow the list; the current selection exports as CSV. A clicked row can be given a decision
(relabel, remove, keep: `agnews.ui.decisions`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
import pandas as pd

from agnews.present.figures import TAG_COLUMN
from agnews.present.tables import mistakes, row_tags, with_tags
from agnews.rundir.decisions import TEST, DecisionStore
from agnews.rundir.facts import TEST_LABEL_ISSUES, TRAINING_VECTORS
from agnews.rundir.parts import prob_columns
from agnews.rundir.run import Run
from agnews.ui.classify import SHOWN_CLASSES
from agnews.ui.common import TABLE_WIDTHS, row_details, rows_table, selected_row_id, temporary_csv
from agnews.ui.decisions import DecisionBox
from agnews.ui.neighbours import neighbours_of_row

ANY = "any"
BY_CONFIDENCE = "most confident first"
BY_LABEL_ISSUE = "likely mislabelled first"
# Added to the predictions from the test rows' label issues (row-aligned on load).
FLAGGED, SUGGESTED, QUALITY = "likely_mislabelled", "suggested_name", "label_quality"
FLAGGED_WIDTHS = ["8%", "35%", "12%", "13%", "11%", "21%"]


def with_label_issues(predictions: pd.DataFrame, run: Run) -> pd.DataFrame:
    """`predictions` with cleanlab's verdict per row (flag, suggested label, label quality); as is
    when the run does not know them (`TEST_LABEL_ISSUES`)."""
    issues = run.fact(TEST_LABEL_ISSUES)
    if issues is None:
        return predictions
    classes = run.classes
    added = pd.DataFrame(
        {
            FLAGGED: issues["flagged"].astype(bool).to_numpy(),
            SUGGESTED: [classes[i] for i in issues["suggested"]],
            QUALITY: issues["quality"].astype(float).to_numpy(),
        },
        index=predictions.index,
    )
    return pd.concat([predictions, added], axis=1)


def order_mistakes(wrong: pd.DataFrame, order: str | None) -> pd.DataFrame:
    """`wrong` as `mistakes` orders it, or with the likely mislabelled rows first (lowest label
    quality first: the label the model finds least plausible)."""
    if order != BY_LABEL_ISSUE or FLAGGED not in wrong:
        return wrong
    return wrong.sort_values([FLAGGED, QUALITY, "row_id"], ascending=[False, True, True], kind="stable")


def errors_table(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows_table`, plus the "likely mislabelled" column (the suggested label) when the rows have it."""
    table = rows_table(rows)
    if FLAGGED in rows:
        pairs = zip(rows[FLAGGED], rows[SUGGESTED], strict=True)
        table["likely mislabelled"] = [f"yes → {name}" if flagged else "" for flagged, name in pairs]
    return table


def filter_mistakes(
    wrong: pd.DataFrame,
    true_class: str | None,
    predicted: str | None,
    query: str | None,
    tag: str | None = None,
) -> pd.DataFrame:
    """Narrow to a true class, a predicted class, a case-insensitive substring and a smart tag
    (`wrong` then carries the run's `tag_NAME` columns, `agnews.present.tables.with_tags`).

    `ANY`, None (a cleared dropdown) and an empty query (the browser sends None) filter nothing.
    """
    keep = pd.Series(True, index=wrong.index)
    if true_class not in (ANY, None):
        keep &= wrong["label_name"] == true_class
    if predicted not in (ANY, None):
        keep &= wrong["pred_name"] == predicted
    if tag not in (ANY, None):
        keep &= wrong[TAG_COLUMN + tag].astype(bool)
    text = (query or "").strip()
    if text:
        keep &= wrong["text"].str.contains(text, case=False, regex=False)
    return wrong[keep]


def export_frame(rows: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """What the CSV holds: ids, full text, classes, confidence and the probabilities named by class
    (`classes`: the run's, in class-id order)."""
    columns = ["row_id", "text", "label_name", "pred_name", "confidence", *prob_columns(len(classes))]
    columns += [name for name in (FLAGGED, SUGGESTED, QUALITY) if name in rows]
    names = {f"prob_{i}": f"p_{name}" for i, name in enumerate(classes)}
    renamed = {"label_name": "true", "pred_name": "predicted", SUGGESTED: "suggested", **names}
    return rows[columns].rename(columns=renamed)


def errors_frame(run: Run) -> pd.DataFrame:
    """The run's mistakes with its smart tags and label-issue verdicts, as far as the run has them."""
    return mistakes(with_label_issues(with_tags(run.predictions, run), run))


def controls(run: Run) -> tuple[list[str], bool]:
    """The smart tags the tag filter offers, and whether the label-issue order applies."""
    return row_tags(run), run.fact(TEST_LABEL_ISSUES) is not None


def build(
    run: Run, tab: gr.Tab, *, current: Callable[[], Run], store: DecisionStore | None = None
) -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown]:
    """Lay out the tab inside `tab`; return the true-class, predicted-class and tag filters (the
    confusion tab and the Overview set them).

    Every event reads the run as it is then (`current()`), and opening the tab brings in what a
    background `agnews analyze` added since the page opened: the tag filter (slices) and the
    "likely mislabelled" column and order (label issues). Decisions on clicked rows go to `store`
    (None: the browser session only).
    """
    frames: dict[int, pd.DataFrame] = {}  # id(run) -> its errors frame; only the latest is kept

    def wrong_of(run: Run) -> pd.DataFrame:
        if id(run) not in frames:
            frames.clear()
            frames[id(run)] = errors_frame(run)
        return frames[id(run)]

    wrong = wrong_of(run)
    tags, flagged = controls(run)
    choices = [ANY, *run.classes]  # a dropdown filters as one types: a class is found among 150
    with gr.Row():
        true_class = gr.Dropdown(choices, value=ANY, label="True class", elem_id="errors-true")
        predicted = gr.Dropdown(choices, value=ANY, label="Predicted class", elem_id="errors-pred")
        tag = gr.Dropdown([ANY, *tags], value=ANY, label="Tag", visible=bool(tags), elem_id="errors-tag")
        query = gr.Textbox(label="Text contains", placeholder="e.g. oil")
        order = gr.Radio(
            [BY_CONFIDENCE, BY_LABEL_ISSUE],
            value=BY_CONFIDENCE,
            label="Order",
            visible=flagged,
            elem_id="errors-order",
        )
    count = gr.Markdown(f"{len(wrong)} of {len(run.predictions)} test rows are misclassified.")
    with gr.Row():
        table = gr.Dataframe(
            errors_table(wrong),
            label="Mistakes, most confident first (click a row for details)",
            interactive=False,
            max_height=480,
            column_widths=FLAGGED_WIDTHS if flagged else TABLE_WIDTHS,
            elem_id="errors-table",
            scale=3,
        )
        with gr.Column(scale=2):
            details = gr.Markdown(row_details(wrong, None, run.classes)[0], elem_id="errors-details")
            probabilities = gr.Label(
                label="Probabilities", num_top_classes=min(len(run.classes), SHOWN_CLASSES)
            )
            export = gr.Button("Export these rows as CSV")
            download = gr.File(label="CSV", interactive=False, height=90)
    with gr.Accordion("Nearest training rows of the clicked row (why the model may have learned this)"):
        near_line = gr.Markdown(
            "Click a row to see its nearest training rows.", elem_id="errors-neighbours-note"
        )
        near_table = gr.Dataframe(None, interactive=False, max_height=300, elem_id="errors-neighbours")
    box = DecisionBox(splits=(TEST,), current=current, store=store, key="errors")

    def selected(
        true_name: str | None, pred_name: str | None, text: str | None, tag_name: str | None, by: str | None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        wrong = wrong_of(current())
        if tag_name not in (ANY, None) and TAG_COLUMN + str(tag_name) not in wrong:
            tag_name = ANY  # a tag of an older version of the run
        return wrong, order_mistakes(filter_mistakes(wrong, true_name, pred_name, text, tag_name), by)

    def refresh(*filters: str | None) -> tuple[pd.DataFrame, str]:
        wrong, rows = selected(*filters)
        return errors_table(rows), f"{len(rows)} of {len(wrong)} mistakes match."

    def opened(*inputs: Any) -> dict[Any, Any]:
        *filters, session = inputs
        run = current()
        tags, flagged = controls(run)
        shown, note = refresh(*filters)
        return box.opened(session) | {
            tag: gr.update(choices=[ANY, *tags], visible=bool(tags)),
            order: gr.update(visible=flagged),
            table: gr.update(value=shown, column_widths=FLAGGED_WIDTHS if flagged else TABLE_WIDTHS),
            count: note,
        }

    def write_csv(*filters: str | None) -> str:
        return temporary_csv(export_frame(selected(*filters)[1], current().classes), "agnews-errors-")

    def nearest(run: Run, row_id: int) -> dict[Any, Any]:
        if run.fact(TRAINING_VECTORS) is None or run.embeddings is None:
            adds = run.fact_remake(TRAINING_VECTORS)
            return {
                near_line: f"This run has no training-row vectors; {adds} adds them.",
                near_table: None,
            }
        shown, said = neighbours_of_row(run, row_id)
        return {near_line: said, near_table: shown}

    def inspect(event: gr.SelectData) -> dict[Any, Any]:
        run = current()
        wrong, row_id = wrong_of(run), selected_row_id(event)
        text, chances = row_details(wrong, row_id, run.classes)
        chosen = wrong[wrong["row_id"] == row_id]
        if chosen.empty:
            return {details: text, probabilities: chances}
        row = chosen.iloc[0]
        return (
            {details: text, probabilities: chances}
            | box.choose(
                TEST, str(row_id), row["label_name"], row["text"], row.get(SUGGESTED, row["pred_name"])
            )
            | nearest(run, int(row_id))
        )

    filters = [true_class, predicted, query, tag, order]
    gr.on(
        [true_class.change, predicted.change, tag.change, query.submit, order.change],
        refresh,
        filters,
        [table, count],
        api_name="errors",
        api_visibility="undocumented",
    )
    tab.select(
        opened,
        [*filters, box.session],
        [tag, order, table, count, *box.views],
        api_name="errors_open",
        api_visibility="undocumented",
    )
    export.click(write_csv, filters, download, api_name="errors_csv", api_visibility="undocumented")
    table.select(
        inspect,
        None,
        [details, probabilities, *box.choice, near_line, near_table],
        api_name="errors_inspect",
        api_visibility="undocumented",
    )
    return true_class, predicted, tag
