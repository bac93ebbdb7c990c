"""Errors tab: the misclassified test rows, most confident first.

A confident mistake is the likeliest label-noise candidate (the model may be right and the label
wrong), so those lead the list. Where the run knows its test rows' label issues
(`TEST_LABEL_ISSUES`), cleanlab's verdict
("likely mislabelled", with the suggested label) is a column, and an order puts those rows first.
Filters narrow the list; the current selection exports as CSV. A clicked row can be given a decision
(relabel, remove, keep: `agnews.ui.decisions`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from agnews.present.figures import TAG_COLUMN, headline
from agnews.present.glossary import tag_title
from agnews.present.markup import literal
from agnews.present.tables import mistakes, row_tags, with_tags
from agnews.rundir.decisions import TEST, TRAIN, DecisionStore
from agnews.rundir.facts import TEST_LABEL_ISSUES, TRAINING_VECTORS
from agnews.rundir.parts import prob_columns
from agnews.rundir.run import Run
from agnews.ui.classify import SHOWN_CLASSES
from agnews.ui.common import (
    DECIDED_TABLE_WIDTHS,
    row_details,
    rows_table,
    selected_row_id,
    temporary_csv,
    with_decided,
)
from agnews.ui.decisions import Bulk, DecisionBox, Listed, listed_rows
from agnews.ui.downloads import download_button
from agnews.ui.editor import RowEditor
from agnews.ui.neighbours import decided_neighbours, listed, nearest_to_row, table_widths
from agnews.ui.open_rows import OpenRows, RowsRequest

ANY = "any"
BY_CONFIDENCE = "most confident first"
BY_LABEL_ISSUE = "likely mislabelled first"
# Added to the predictions from the test rows' label issues (row-aligned on load).
FLAGGED, SUGGESTED, QUALITY = "likely_mislabelled", "suggested_name", "label_quality"
# The table's columns: row id, headline, true, predicted, confidence, [likely mislabelled,] decided.
WIDTHS = DECIDED_TABLE_WIDTHS
FLAGGED_WIDTHS = ["9%", "32%", "8%", "12%", "13%", "15%", "11%"]
# Runs whose rows frame (`rows_frame`) is kept: pages on a few runs at once (`?run=NAME`) take
# turns without recomputing it on every event.
KEPT_FRAMES = 4


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


def errors_table(rows: pd.DataFrame, decided: Sequence[str] | None = None) -> pd.DataFrame:
    """`rows_table`, plus the "likely mislabelled" column (the suggested label) when the rows have it,
    and the "decided" column (`agnews.ui.decisions.decided_column`) when given."""
    table = rows_table(rows)
    if FLAGGED in rows:
        pairs = zip(rows[FLAGGED], rows[SUGGESTED], strict=True)
        table["likely mislabelled"] = [f"yes → {name}" if flagged else "" for flagged, name in pairs]
    return with_decided(table, decided)


def bulk_rows(rows: pd.DataFrame) -> list[Listed]:
    """The listed rows as the bulk buttons act on them: each suggested to cleanlab's label where the
    run has one, else to the model's prediction."""
    return listed_rows(
        rows, "row_id", given="label_name", suggested=SUGGESTED if SUGGESTED in rows else "pred_name"
    )


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


def rows_frame(run: Run) -> pd.DataFrame:
    """Every test row with its smart tags and label-issue verdicts, as far as the run has them: what
    the tab lists from (its mistakes by default, or the rows another view opened)."""
    return with_label_issues(with_tags(run.predictions, run), run)


def scoped(rows: pd.DataFrame, request: RowsRequest | None) -> pd.DataFrame:
    """The rows the tab lists before its filters: the mistakes (`mistakes`' order), or the rows of
    `request` in the order it gave them (ids it does not know are left out)."""
    if request is None:
        return mistakes(rows)
    by_id = rows.set_index("row_id", drop=False)
    known = [i for i in dict.fromkeys(request.row_ids) if i in by_id.index]
    return by_id.loc[known].reset_index(drop=True)


def count_line(shown: int, scope: pd.DataFrame, request: RowsRequest | None, total: int) -> str:
    """What the table lists, in one line: how many of the scope's rows match, and the scope."""
    if request is None:
        return f"{shown} of {len(scope)} mistakes match (of {total} test rows)."
    matching = f"all {shown} rows" if shown == len(scope) else f"{shown} of its {len(scope)} rows (filtered)"
    return f"**Opened:** {literal(request.why)} · listing {matching}."


def tag_choices(tags: Sequence[str]) -> list[str | tuple[str, str]]:
    """The tag filter's choices: each tag shown by its human name, its key the value."""
    return [ANY, *((tag_title(tag), tag) for tag in tags)]


def controls(run: Run) -> tuple[list[str], bool]:
    """The smart tags the tag filter offers, and whether the label-issue order applies."""
    return row_tags(run), run.fact(TEST_LABEL_ISSUES) is not None


@dataclass(frozen=True)
class ErrorsView:
    """What the table lists: the filters as last set, and the rows another view opened (None: the
    mistakes). Held per session on the server, so every event reads the view the previous one left,
    never a filter value the browser sent before a newer event changed it."""

    true_class: str | None = ANY
    predicted: str | None = ANY
    query: str | None = ""
    tag: str | None = ANY
    order: str | None = BY_CONFIDENCE
    request: RowsRequest | None = None

    @property
    def filters(self) -> tuple[str | None, ...]:
        return (self.true_class, self.predicted, self.query, self.tag, self.order)


# Every event that sets what the table lists runs here, one at a time in the order they came: an
# older refresh can never land after a newer one. Each is quick (it filters a frame).
VIEW_EVENTS: dict[str, Any] = {
    "concurrency_id": "errors-view",
    "concurrency_limit": 1,
    "api_visibility": "undocumented",
}
# A person's quick edits of the filters: the last one always runs, after the one running (Gradio's
# default drops an edit made while the previous is still running, leaving the table a step behind).
LAST_EDIT_WINS: dict[str, Any] = {**VIEW_EVENTS, "trigger_mode": "always_last"}


def build(
    run: Run,
    tab: gr.Tab,
    open_rows: OpenRows,
    editor: RowEditor,
    *,
    current: Callable[[], Run],
    store: DecisionStore | None = None,
) -> None:
    """Lay out the tab inside `tab`: the rows browser of the page. By default it lists the mistakes;
    a request from another view (`open_rows`: a confusion cell, a slice, an Overview card, a map
    selection) lists those rows under its reason, until "Show all mistakes". A clicked row can be
    edited in Classify's row editor (`editor`), to see what in its text the prediction hangs on.

    One `ErrorsView` per session is the tab's state: a person's edit of a filter (`.input`, which a
    programmatic update does not fire; the last of quick edits always runs), a request from another
    view, "Show all mistakes" and opening the tab each read it, change it and redraw the table and its
    count line in one event (with the filters, where the event itself changes them), one event at a
    time, so the table cannot contradict the filters shown. Every event reads the run as it is
    then (`current()`), and opening the tab brings in what a background `agnews analyze` added since
    the page opened: the tag filter (slices) and the "likely mislabelled" column and order (label
    issues). Decisions on clicked rows go to `store` (None: the browser session only).

    A page may show another run than the app's (`?run=NAME`), with other classes: opening the tab
    draws the table and the filters, their classes included, for the page's run; the table is laid
    out empty. `run` (the app's) gives the filters' choices for a program calling `/errors` without
    opening a page, which is served the app's run (Gradio checks a dropdown's value against them).
    """
    frames: OrderedDict[Path, tuple[Run, pd.DataFrame]] = OrderedDict()  # per run: its latest version's
    framing = threading.Lock()

    def rows_of(run: Run) -> pd.DataFrame:
        with framing:
            kept = frames.get(run.path)
            if kept is None or kept[0] is not run:
                kept = frames[run.path] = (run, rows_frame(run))
            frames.move_to_end(run.path)
            while len(frames) > KEPT_FRAMES:
                frames.popitem(last=False)
            return kept[1]

    def selected(view: ErrorsView) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The view's scope, and the rows of it its filters keep, in its order."""
        rows = scoped(rows_of(current()), view.request)
        tag_name = view.tag
        if tag_name not in (ANY, None) and TAG_COLUMN + str(tag_name) not in rows:
            tag_name = ANY  # a tag of an older version of the run
        kept = filter_mistakes(rows, view.true_class, view.predicted, view.query, tag_name)
        return rows, order_mistakes(kept, view.order)

    def write_csv(view: ErrorsView) -> str:
        return temporary_csv(export_frame(selected(view)[1], current().classes), "agnews-errors-")

    tags, _ = controls(run)
    choices = [ANY, *run.classes]  # a dropdown filters as one types: a class is found among 150
    state = gr.State(ErrorsView())
    with gr.Row():  # the tag and the order show once opening the tab finds the page's run has them
        true_class = gr.Dropdown(choices, value=ANY, label="True class", elem_id="errors-true")
        predicted = gr.Dropdown(choices, value=ANY, label="Predicted class", elem_id="errors-pred")
        tag = gr.Dropdown(tag_choices(tags), value=ANY, label="Tag", visible=False, elem_id="errors-tag")
        query = gr.Textbox(label="Text contains", placeholder="e.g. oil (Enter)", elem_id="errors-query")
        order = gr.Radio(
            [BY_CONFIDENCE, BY_LABEL_ISSUE],
            value=BY_CONFIDENCE,
            label="Order",
            visible=False,
            elem_id="errors-order",
        )
    filters = [true_class, predicted, query, tag, order]
    with gr.Row(equal_height=True):
        count = gr.Markdown("", elem_id="errors-count")
        show_all = gr.Button("Show all mistakes", visible=False, size="sm", scale=0, elem_id="errors-all")
    with gr.Row():  # what the listed rows can be given in one click: above them, in view
        bulk = Bulk(TEST, "errors")
        download_button(
            "Download these rows (CSV)",
            write_csv,
            [state],
            elem_id="errors-csv",
            api_name="errors_csv",
            size="sm",
            scale=0,
        )
    with gr.Row():
        table = gr.Dataframe(
            None,
            label="Rows, most confident first (click a row for details)",
            interactive=False,
            max_height=480,
            column_widths=WIDTHS,
            elem_id="errors-table",
            scale=2,
        )
        with gr.Column(scale=1):
            details = gr.Markdown(
                row_details(run.predictions, None, run.classes)[0], elem_id="errors-details"
            )
            picked = gr.State(None)  # the clicked row's id
            edit = gr.Button(
                "Edit this row's text (in Classify)", size="sm", interactive=False, elem_id="errors-edit"
            )
            box = DecisionBox(splits=(TEST, TRAIN), current=current, store=store, key="errors", log=False)
            probabilities = gr.Label(label="Probabilities", num_top_classes=SHOWN_CLASSES)  # of any run
    box.connect(bulk)
    with gr.Accordion("Nearest training rows of the clicked row (why the model may have learned this)"):
        near_line = gr.Markdown(
            "Click a row to see its nearest training rows.", elem_id="errors-neighbours-note"
        )
        near_table = gr.Dataframe(
            None,
            label="Click a training row to decide on it (a flagged one: relabel it to the suggestion)",
            interactive=False,
            max_height=300,
            column_widths=table_widths(store),
            elem_id="errors-neighbours",
        )
        near_rows = gr.State([])  # the listed training rows, as `Listed`, in the table's order
    box.render_log()

    def listing(view: ErrorsView, session: Any) -> dict[Any, Any]:
        """What the view lists, as updates: its state, the table (with what has been decided on its
        rows, from `session` on a page that may not write), the count, and the bulk buttons, which act
        on exactly the rows listed."""
        rows, shown = selected(view)
        decided = box.decided(session, TEST, shown["row_id"].astype(str))
        return bulk.show(bulk_rows(shown)) | {
            state: view,
            table: errors_table(shown, decided),
            count: count_line(len(shown), rows, view.request, len(current().predictions)),
            show_all: gr.update(visible=view.request is not None),
        }

    def drawn(view: ErrorsView, session: Any) -> dict[Any, Any]:
        """`listing`, and the filters set to the view's: for the events that change the filters
        themselves (a person's edit is drawn by the browser already, and redrawing it could undo an
        edit made while the event ran)."""
        return dict(zip(filters, view.filters, strict=True)) | listing(view, session)

    def refresh(*inputs: Any) -> dict[Any, Any]:
        """A person changed a filter: the filters as sent, the rows the view has opened."""
        *values, view, session = inputs
        return listing(ErrorsView(*values, request=view.request), session)

    def arrive(request: RowsRequest | None, session: Any) -> dict[Any, Any]:
        """Rows another view opened: the filters cleared, the table listing them."""
        return {} if request is None else drawn(ErrorsView(request=request), session)

    def everything(view: ErrorsView, session: Any) -> dict[Any, Any]:
        return drawn(replace(view, request=None), session)

    def opened(view: ErrorsView, session: Any) -> dict[Any, Any]:
        """Everything the tab shows, for the page's run as it is now: the table, the filters with
        their choices (the run's classes, its tags), the order where it has label issues."""
        run = current()
        tags, flagged = controls(run)
        classes = [ANY, *run.classes]
        shown = drawn(view, session)
        widths = FLAGGED_WIDTHS if flagged else WIDTHS
        return (
            box.opened(session)
            | shown
            | {
                true_class: gr.update(value=shown[true_class], choices=classes),
                predicted: gr.update(value=shown[predicted], choices=classes),
                tag: gr.update(value=shown[tag], choices=tag_choices(tags), visible=bool(tags)),
                order: gr.update(value=shown[order], visible=flagged),
                table: gr.update(value=shown[table], column_widths=widths),
            }
        )

    def nearest(run: Run, row_id: int) -> dict[Any, Any]:
        if run.fact(TRAINING_VECTORS) is None or run.embeddings is None:
            adds = run.fact_remake(TRAINING_VECTORS)
            return {
                near_line: f"This run has no training-row vectors; {adds} adds them.",
                near_table: None,
                near_rows: [],
            }
        found, said = nearest_to_row(run, row_id)
        return {near_line: said, near_table: decided_neighbours(store, run, found), near_rows: listed(found)}

    def decide_on_neighbour(rows: list[Listed], event: gr.SelectData) -> dict[Any, Any]:
        """A clicked training row (a flagged one above all) becomes the row to decide on; found by the
        clicked row's label and headline, so a table sorted in the browser still picks the right one."""
        clicked = event.row_value or []  # similarity, label, flagged, headline (then "decided")
        for row in rows:
            if len(clicked) >= 4 and [row.given, headline(row.text)] == [clicked[1], clicked[3]]:
                return box.choose(TRAIN, row.key, row.given, row.text, row.suggested)
        return {}

    def inspect(event: gr.SelectData) -> dict[Any, Any]:
        run = current()
        rows, row_id = rows_of(run), selected_row_id(event)
        text, chances = row_details(rows, row_id, run.classes, with_text=False)  # the box shows it
        chosen = rows[rows["row_id"] == row_id]
        if chosen.empty:
            return {details: text, probabilities: chances}
        row = chosen.iloc[0]
        return (
            {details: text, probabilities: chances, picked: int(row_id), edit: gr.update(interactive=True)}
            | box.choose(
                TEST, str(row_id), row["label_name"], row["text"], row.get(SUGGESTED, row["pred_name"])
            )
            | nearest(run, int(row_id))
        )

    list_outputs = [state, table, count, show_all, *bulk.outputs]
    view_outputs = [*filters, *list_outputs]
    gr.on(
        [true_class.input, predicted.input, tag.input, query.submit, order.input],
        refresh,
        [*filters, state, box.session],
        list_outputs,
        api_name="errors",
        **LAST_EDIT_WINS,
    )
    opening = [open_rows.state, box.session]
    open_rows.state.change(arrive, opening, view_outputs, api_name="errors_arrive", **LAST_EDIT_WINS)
    show_all.click(everything, [state, box.session], view_outputs, api_name="errors_all", **VIEW_EVENTS)
    box.after_change(listing, [state, box.session], list_outputs)  # the decided column, the buttons' counts
    tab.select(
        opened,
        [state, box.session],
        [*view_outputs, *box.views],
        api_name="errors_open",
        **VIEW_EVENTS,
    )
    table.select(
        inspect,
        None,
        [details, probabilities, picked, edit, *box.choice, near_line, near_table, near_rows],
        api_name="errors_inspect",
        api_visibility="undocumented",
    )
    edit.click(lambda: gr.Tabs(selected="classify"), None, open_rows.tabs, queue=False)
    editor.listen([edit.click], picked)
    near_table.select(
        decide_on_neighbour,
        near_rows,
        box.choice,
        api_name="errors_neighbour",
        api_visibility="undocumented",
    )
