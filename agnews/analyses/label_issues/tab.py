"""Label issues tab: the test and training rows whose given label is likely wrong (cleanlab).

Both lists come from the run's parts (test and training rows), lowest label quality first: the rows
whose given label the model finds least plausible, each named by its headline (a training row's key,
its text hash, stays in the exports). One set of filters (given class, suggested class, words)
narrows both lists; what a list shows is what its bulk buttons act on. A clicked row shows whole in
the decision controls beside the lists (relabel, remove, keep: `agnews.ui.decisions`), with its
suggestion one click away, and every list says what stands on each of its rows ("decided"). The
training export carries `text_hash`, the key `agnews train --drop-label-issues FILE` reads; the
decisions' export is what `agnews train --corrections FILE` applies. The lists are filled when the
tab is first opened (`agnews.ui.lazy`).
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
from agnews.present.glossary import glossed
from agnews.present.notices import part_notice
from agnews.rundir.decisions import TEST, TRAIN
from agnews.rundir.run import Run
from agnews.ui.common import temporary_csv
from agnews.ui.decisions import Bulk, DecisionBox, listed_rows
from agnews.ui.downloads import download_button
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel

ANY = "any"
TEST_COLUMNS = ["decided", "row", "headline", "given", "suggested", "quality"]
TRAIN_COLUMNS = ["decided", "headline", "given", "suggested", "quality"]
TEST_WIDTHS = ["16%", "8%", "38%", "11%", "15%", "12%"]
TRAIN_WIDTHS = ["16%", "47%", "11%", "15%", "11%"]
DECIDED = "**decided**: what stands on the row (yours or anyone's); ⚠ where people disagree."


def narrowed(rows: pd.DataFrame, given: str | None, suggested: str | None, words: str | None) -> pd.DataFrame:
    """The flagged rows with a given class, a suggested class and a case-insensitive substring
    (`ANY`, None or an empty string filter nothing)."""
    keep = pd.Series(True, index=rows.index)
    if given not in (ANY, None):
        keep &= rows["given"] == given
    if suggested not in (ANY, None):
        keep &= rows["suggested"] == suggested
    text = (words or "").strip()
    if text:
        keep &= rows["text"].str.contains(text, case=False, regex=False)
    return rows[keep]


def shown(rows: pd.DataFrame, decided: list[str], key: str | None) -> pd.DataFrame:
    """What a list shows: the decided column, the row id (test rows; a training row's hash is never
    shown), the headline, the two labels and the quality (3 decimals)."""
    return pd.DataFrame(
        {
            "decided": decided,
            **({"row": rows[key].to_numpy()} if key else {}),
            "headline": rows["text"].map(headline).to_numpy(),
            "given": rows["given"].to_numpy(),
            "suggested": rows["suggested"].to_numpy(),
            "quality": rows["quality"].round(3).to_numpy(),
        }
    )


def split_section(split: str) -> tuple[gr.Markdown, gr.Dataframe, Bulk]:
    """One split's note, flagged-rows list (filled when the tab opens) and bulk buttons."""
    key = "test" if split == TEST else "train"
    gr.Markdown(f"### {'Test' if split == TEST else 'Training'} split")
    note = gr.Markdown("", elem_id=f"{KEY}-{key}-note")
    table = gr.Dataframe(
        None,
        headers=TEST_COLUMNS if split == TEST else TRAIN_COLUMNS,
        label=f"Flagged {'test' if split == TEST else 'training'} rows, least plausible label first",
        interactive=False,
        wrap=True,
        max_height=300,
        column_widths=TEST_WIDTHS if split == TEST else TRAIN_WIDTHS,
        elem_id=f"{KEY}-{key}",
    )
    return note, table, Bulk(split, f"{KEY}-{key}")


def class_choices(run: Run) -> list[str]:
    """A class filter's choices: any class, or one of the run's."""
    return [ANY, *run.classes]


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`; filled from the run as it is when first opened.

    Without either part, a notice says how to make them; while a background `agnews analyze` is
    making them, a "being built" note stays until an opening finds one. Decisions on clicked rows go
    to the page's store (None: the browser session only).
    """
    current = page.current
    panel = Panel(page, (TEST_PART.name, TRAIN_PART.name), what="label issues", key=KEY)

    def export(part: str) -> Callable[[], str]:
        def write() -> str:
            run = current()
            if not run.has(part):
                raise gr.Error(f"This run has no {part} part yet.")
            rows = flagged_test_rows(run) if part == TEST_PART.name else flagged_train_rows(run)
            return temporary_csv(rows, f"agnews-{part.replace('_', '-')}-")

        return write

    with panel.content:
        with gr.Row(equal_height=True):
            given = gr.Dropdown(
                class_choices(page.run), value=ANY, label="Given class", elem_id=f"{KEY}-given"
            )
            suggested = gr.Dropdown(
                class_choices(page.run), value=ANY, label="Suggested class", elem_id=f"{KEY}-suggested"
            )
            words = gr.Textbox(label="Text contains (Enter)", elem_id=f"{KEY}-words", scale=2)
        with gr.Row():
            with gr.Column(scale=4):
                # Training rows first: theirs are the decisions a retraining applies (`--corrections`).
                train_note, train_table, train_bulk = split_section(TRAIN)
                test_note, test_table, test_bulk = split_section(TEST)
                gr.Markdown(glossed("quality", "suggested", "--drop-label-issues") + "\n- " + DECIDED)
            with gr.Column(scale=3):  # beside the lists, so a clicked row's controls are in view
                box = DecisionBox(splits=(TEST, TRAIN), current=current, store=page.store, key=KEY, log=False)
        box.connect(test_bulk, train_bulk)
        with gr.Row():
            for part, label in (
                (TEST_PART.name, "Download the flagged test rows (CSV)"),
                (TRAIN_PART.name, "Download the flagged training rows (CSV, to retrain without them)"),
            ):
                download_button(
                    label,
                    export(part),
                    [],
                    elem_id=f"{KEY}-{part.split('_')[-1]}-export",
                    api_name=f"{part}_csv",
                )
        box.render_log()
    page.refresh(
        lambda run: {
            given: gr.update(choices=class_choices(run), value=ANY),
            suggested: gr.update(choices=class_choices(run), value=ANY),
        },
        [given, suggested],
    )
    filters = [given, suggested, words]
    lists = [test_note, test_table, *test_bulk.outputs, train_note, train_table, *train_bulk.outputs]

    def listing(run: Run, session: list[dict[str, Any]], *chosen: str | None) -> dict[Any, Any]:
        """Both lists, narrowed by the filters, with what stands on each row and their bulk counts."""
        values: dict[Any, Any] = {}
        for part, split, note, table, bulk in (
            (TEST_PART, TEST, test_note, test_table, test_bulk),
            (TRAIN_PART, TRAIN, train_note, train_table, train_bulk),
        ):
            if not run.has(part.name):
                what = "test rows' label issues" if split == TEST else "training rows' label issues"
                values[note] = part_notice(
                    run, part.name, what, coming=page.coming and page.pages.shows_default()
                )
                continue
            everything = flagged_test_rows(run) if split == TEST else flagged_train_rows(run)
            rows = narrowed(everything, *chosen)
            key = "row_id" if split == TEST else "text_hash"
            decided = box.decided(session, split, rows[key].astype(str))
            summary = (
                summary_of_test_rows(run, everything) if split == TEST else summary_of_training_rows(run)
            )
            if len(rows) < len(everything):
                summary += f" **{len(rows)} of {len(everything)} listed** (the filters above)."
            values |= {note: summary, table: shown(rows, decided, "row_id" if split == TEST else None)}
            values |= bulk.show(listed_rows(rows, key))
        return values

    panel.fill_when_opened(lambda run: listing(run, [], ANY, ANY, ""), lists)
    page.tab.select(box.opened, box.session, box.views)

    def relisted(session: list[dict[str, Any]], *chosen: str | None) -> dict[Any, Any]:
        return listing(current(), session, *chosen)

    gr.on(
        [given.change, suggested.change, words.submit],
        relisted,
        [box.session, *filters],
        lists,
        api_name=f"{KEY.replace('-', '_')}_list",
        api_visibility="undocumented",
        trigger_mode="always_last",
    )
    box.after_change(relisted, [box.session, *filters], lists)

    def chooser(bulk: Bulk) -> Callable[[list[dict[str, Any]], gr.SelectData], dict[Any, Any]]:
        def choose(listed: list[dict[str, Any]], event: gr.SelectData) -> dict[Any, Any]:
            position = event.index[0]
            if not 0 <= position < len(listed):
                raise gr.Error("That row is no longer listed; click a row of the list again.")
            row = listed[position]
            return box.choose(bulk.split, row["key"], row["given"], row["text"], row["suggested"])

        return choose

    for table, bulk in ((test_table, test_bulk), (train_table, train_bulk)):
        table.select(chooser(bulk), bulk.listed, box.choice)
