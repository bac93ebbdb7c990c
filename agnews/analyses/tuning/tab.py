"""The Tuning tab: the search `agnews tuning` ran to choose this run's settings.

Drawn from the part alone (history and importances were computed when the search ran), so the app
needs no Optuna. A run not made by `agnews tuning` says how to make one.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from agnews.analyses.tuning.present import summary, trials_table, tuning_history, tuning_importances
from agnews.analyses.tuning.schema import PART
from agnews.rundir.run import Run
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel


def build(page: TabPage) -> None:
    """Lay out the tab; filled from the run when first opened."""
    key = PART.name
    panel = Panel(page.run, (key,), what="search", key=key)
    if not panel.shown:
        return
    text = gr.Markdown("", elem_id=f"{key}-summary")
    history = gr.Plot(label="Search history", elem_id=f"{key}-history")
    importances = gr.Plot(label="Importance of each setting", elem_id=f"{key}-importances")
    table = gr.Dataframe(None, label="Trials", interactive=False, elem_id=f"{key}-trials")

    def fill(run: Run) -> dict[Any, Any]:
        report = run.get(PART)
        assert report is not None  # the panel fills only once the part is there
        return {
            text: summary(report),
            history: tuning_history(report),
            importances: tuning_importances(report) if report.importances else None,
            table: trials_table(report),
        }

    panel.fill_when_opened(page.tab, fill, [text, history, importances, table], current=page.current)
