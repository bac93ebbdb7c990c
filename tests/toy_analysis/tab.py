"""The toy analysis's tab: its headline, filled when the tab is first opened."""

from __future__ import annotations

from typing import Any

import gradio as gr

from agnews.rundir.run import Run
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel
from toy_analysis.present import headline
from toy_analysis.schema import PART


def build(page: TabPage) -> None:
    panel = Panel(page, (PART.name,), what="word counts", key="word-counts")
    with panel.content:
        text = gr.Markdown("", elem_id="word-counts-headline")

    def fill(run: Run) -> dict[Any, Any]:
        counts = run.get(PART)
        assert counts is not None
        return {text: headline(counts)}

    panel.fill_when_opened(fill, [text])
