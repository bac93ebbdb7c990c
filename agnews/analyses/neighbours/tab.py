"""Neighbours tab: the training rows nearest a test row or a typed text in the fine-tuned space.

The rows a model learned a confusion from: the ones nearest a mistake in the space its classifier
reads (cosine of fine-tuned [CLS] vectors), with their labels and whether those are suspect. The
lookups are the page's own (`agnews.ui.neighbours`, which the Errors tab shares).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from agnews.analyses.neighbours.schema import PART
from agnews.rundir.run import Run
from agnews.serving.predictor import MAX_RAW_CHARS
from agnews.ui.classify import TEXT_INFO
from agnews.ui.neighbours import (
    WIDTHS,
    K,
    about,
    most_confident_mistake,
    neighbours_of_row,
    neighbours_of_text,
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
    panel = Panel(page.run, (key,), what="training rows' fine-tuned vectors", key=key, coming=page.coming)
    if not panel.shown:
        return
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
        column_widths=WIDTHS,
        elem_id=f"{key}-table",
    )

    def fill(run: Run) -> dict[Any, Any]:
        values: dict[Any, Any] = {note: about(run)}
        example = most_confident_mistake(run)
        if example is not None and run.embeddings is not None:
            shown, said = neighbours_of_row(run, example)
            values |= {row_id: example, table: shown, line: said}
        return values

    panel.fill_when_opened(page.tab, fill, [note, row_id, table, line], current=current)
    gr.on(
        [row_button.click, row_id.submit],
        lambda value: neighbours_of_row(current(), value),
        row_id,
        [table, line],
        api_name=f"{key}_row",
        api_visibility="undocumented",
    )
    gr.on(
        [text_button.click, text.submit],
        lambda value: neighbours_of_text(current(), predictor, value),
        text,
        [table, line],
        api_name=f"{key}_text",
        api_visibility="undocumented",
    )
