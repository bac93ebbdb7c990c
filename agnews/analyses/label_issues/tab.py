"""Label issues tab: the test and training rows whose given label is likely wrong (cleanlab).

Both lists come from the run's parts (test and training rows), lowest label quality first: the rows
whose given label the model finds least plausible. Each exports as CSV; the training export carries
`text_hash`, the key `agnews train --drop-label-issues FILE` reads, so a retraining without those
rows is one command. A clicked row can be given a decision (relabel, remove, keep:
`agnews.ui.decisions`), whose export `agnews train --corrections FILE` applies. The tables are filled
when the tab is first opened (`agnews.ui.lazy`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pandas as pd

from agnews.analyses.label_issues.present import (
    KEY,
    flagged_test_rows,
    flagged_train_rows,
    summary_of_test_rows,
    summary_of_training_rows,
)
from agnews.analyses.label_issues.schema import TEST_PART, TRAIN_PART
from agnews.present.figures import headline
from agnews.present.notices import part_notice
from agnews.rundir.decisions import TEST, TRAIN
from agnews.rundir.run import Run
from agnews.ui.common import temporary_csv
from agnews.ui.decisions import DecisionBox
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel

WIDTHS = ["14%", "50%", "12%", "12%", "12%"]


def shown(rows: pd.DataFrame) -> pd.DataFrame:
    """What a table lists: the key column, the headline, the two labels, the quality (3 decimals)."""
    return rows.assign(text=rows["text"].map(headline), quality=rows["quality"].round(3)).rename(
        columns={"text": "headline"}
    )


def split_section(split: str, export_label: str) -> tuple[gr.Markdown, gr.Dataframe, gr.Button, gr.File]:
    """One split's note, flagged-rows table (filled when the tab opens) and CSV export."""
    key = "test" if split == "test" else "train"
    gr.Markdown(f"### {split.capitalize()} split")
    note = gr.Markdown("", elem_id=f"{KEY}-{key}-note")
    table = gr.Dataframe(
        None,
        label=f"Flagged {split} rows, least plausible label first",
        interactive=False,
        show_search="search",
        max_height=360,
        column_widths=WIDTHS,
        elem_id=f"{KEY}-{key}",
    )
    with gr.Row():
        export = gr.Button(export_label, scale=1)
        file = gr.File(label="CSV", interactive=False, height=90, scale=2)
    return note, table, export, file


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`; filled from the run as it is when first opened.

    Without either part, a notice says how to make them; while a background `agnews analyze` is
    making them, a "being built" note stays until an opening finds one. Decisions on clicked rows go
    to the page's store (None: the browser session only).
    """
    run, tab, current, coming = page.run, page.tab, page.current, page.coming
    panel = Panel(run, (TEST_PART.name, TRAIN_PART.name), what="label issues", key=KEY, coming=coming)
    if not panel.shown:
        return
    test_note, test_table, test_export, test_file = split_section("test", "Export flagged test rows as CSV")
    train_note, train_table, train_export, train_file = split_section(
        "training", "Export flagged training rows as CSV (for --drop-label-issues)"
    )

    def fill(run: Run) -> dict[Any, Any]:
        values: dict[Any, Any] = {}
        if run.has(TEST_PART.name):
            rows = flagged_test_rows(run)
            values |= {test_note: summary_of_test_rows(run, rows), test_table: shown(rows)}
        else:
            values[test_note] = part_notice(run, TEST_PART.name, "test rows' label issues", coming=coming)
        if run.has(TRAIN_PART.name):
            values |= {train_note: summary_of_training_rows(run), train_table: shown(flagged_train_rows(run))}
        else:
            values[train_note] = part_notice(
                run, TRAIN_PART.name, "training rows' label issues", coming=coming
            )
        return values

    panel.fill_when_opened(tab, fill, [test_note, test_table, train_note, train_table], current=current)
    box = DecisionBox(splits=(TEST, TRAIN), current=current, store=page.store, key=KEY)
    tab.select(box.opened, box.session, box.views)

    def choose_test(event: gr.SelectData) -> dict[Any, Any]:
        rows = flagged_test_rows(current())
        row = rows[rows["row_id"] == int(event.row_value[0])].iloc[0]
        return box.choose(TEST, str(row["row_id"]), row["given"], row["text"], row["suggested"])

    def choose_train(event: gr.SelectData) -> dict[Any, Any]:
        rows = flagged_train_rows(current())
        row = rows[rows["text_hash"] == str(event.row_value[0])].iloc[0]
        return box.choose(TRAIN, row["text_hash"], row["given"], row["text"], row["suggested"])

    for table, choose in ((test_table, choose_test), (train_table, choose_train)):
        table.select(choose, None, box.choice)

    def export(part: str) -> Callable[[], str]:
        def write() -> str:
            run = current()
            if not run.has(part):
                raise gr.Error(f"This run has no {part} part yet.")
            rows = flagged_test_rows(run) if part == TEST_PART.name else flagged_train_rows(run)
            return temporary_csv(rows, f"agnews-{part.replace('_', '-')}-")

        return write

    for part, button, file in (
        (TEST_PART.name, test_export, test_file),
        (TRAIN_PART.name, train_export, train_file),
    ):
        button.click(export(part), None, file, api_name=f"{part}_csv", api_visibility="undocumented")
