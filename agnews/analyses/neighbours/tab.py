"""Neighbours tab: the training rows nearest a test row or a typed text in the fine-tuned space.

The rows a model learned a confusion from: the ones nearest a mistake in the space its classifier
reads (cosine of fine-tuned [CLS] vectors), with their labels and whether those are suspect. The
lookups are the page's own (`agnews.ui.neighbours`, which the Errors tab shares). The table names
each training row by its headline; a click shows its whole text below.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import gradio as gr
import pandas as pd

from agnews.analyses.neighbours.schema import PART
from agnews.rundir.run import Run
from agnews.serving.predictor import MAX_RAW_CHARS
from agnews.ui.classify import TEXT_INFO
from agnews.ui.decisions import Listed
from agnews.ui.neighbours import (
    K,
    about,
    decided_neighbours,
    listed,
    most_confident_mistake,
    nearest_to_row,
    nearest_to_text,
    neighbour_shown,
    table_widths,
)
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`; its note (and the most confident mistake's neighbours) are
    filled from the run as it is when first opened, and every lookup reads the run as it is then.

    Without the part, a notice says how to make it; while a background `agnews analyze` is making
    it, a "being built" note stays until an opening finds it.
    """
    current, predictor, key = page.current, page.predictor, PART.name
    panel = Panel(page, (key,), what="training rows' fine-tuned vectors", key=key)
    with panel.content:
        note = gr.Markdown("", elem_id=f"{key}-note")
        with gr.Row(equal_height=True):
            row_id = gr.Number(label="Test row id", precision=0, scale=1, elem_id=f"{key}-row")
            row_button = gr.Button("Neighbours of this test row", scale=1, elem_id=f"{key}-row-button")
            text = gr.Textbox(
                label="Or a text",
                lines=1,
                max_lines=4,
                max_length=MAX_RAW_CHARS,
                info=TEXT_INFO,
                scale=3,
                elem_id=f"{key}-text",
            )
            text_button = gr.Button("Neighbours of this text", scale=1, elem_id=f"{key}-text-button")
        line = gr.Markdown("", elem_id=f"{key}-summary")
        table = gr.Dataframe(
            None,
            label=f"The {K} nearest training rows, most similar first",
            interactive=False,
            wrap=True,
            column_widths=table_widths(page.store),
            elem_id=f"{key}-table",
        )
        rows = gr.State([])  # the table's training rows, as `Listed` fields
        whole = gr.Markdown("Click a row to read its whole text.", elem_id=f"{key}-row-text")

    def answer(
        run: Run, found: pd.DataFrame, said: str
    ) -> tuple[pd.DataFrame, str, list[dict[str, Any]], str]:
        return decided_neighbours(page.store, run, found), said, [asdict(r) for r in listed(found)], ""

    def fill(run: Run) -> dict[Any, Any]:
        values: dict[Any, Any] = {note: about(run)}
        example = most_confident_mistake(run)
        if example is not None and run.embeddings is not None:
            shown, said, found, _ = answer(run, *nearest_to_row(run, example))
            values |= {row_id: example, table: shown, line: said, rows: found}
        return values

    def read(found: list[dict[str, Any]], event: gr.SelectData) -> str:
        position = event.index[0]
        return neighbour_shown(Listed(**found[position])) if 0 <= position < len(found) else ""

    def near_row(value: float | None) -> tuple[pd.DataFrame, str, list[dict[str, Any]], str]:
        run = current()
        return answer(run, *nearest_to_row(run, value))

    def near_text(value: str | None) -> tuple[pd.DataFrame, str, list[dict[str, Any]], str]:
        run = current()
        return answer(run, *nearest_to_text(run, predictor(), value))

    panel.fill_when_opened(fill, [note, row_id, table, line, rows])
    outputs = [table, line, rows, whole]
    gr.on(
        [row_button.click, row_id.submit],
        near_row,
        row_id,
        outputs,
        api_name=f"{key}_row",
        api_visibility="undocumented",
    )
    gr.on(
        [text_button.click, text.submit],
        near_text,
        text,
        outputs,
        api_name=f"{key}_text",
        api_visibility="undocumented",
    )
    table.select(read, rows, whole)
