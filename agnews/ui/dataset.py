"""Data tab: what the model was trained and tested on.

Class counts per split come from the run's `data_stats.json` (the run keeps summaries, not the
training texts); the length histogram uses the test texts, which the run does keep.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import gradio as gr
import pandas as pd

from agnews.rundir import Run
from agnews.ui.figures import SPLIT_ORDER, class_distribution_figure, length_histogram_figure


def length_table(data_stats: dict[str, Any]) -> pd.DataFrame:
    """Rows and text lengths (characters and words: mean, median, 95th percentile, max) per split."""
    rows = []
    for split in (s for s in SPLIT_ORDER if s in data_stats):
        stats = data_stats[split]
        row: dict[str, Any] = {"split": split, "rows": stats.get("rows")}
        for unit in ("words", "chars"):
            for key, value in stats.get(unit, {}).items():
                row[f"{unit} {key}"] = round(value, 1)
        rows.append(row)
    return pd.DataFrame(rows)


def build(run: Run) -> None:
    """Lay out the tab inside the current `gr.Tab` (static: nothing here changes after loading)."""
    stats = asdict(run.data_stats)["splits"]
    with gr.Row():
        gr.Plot(class_distribution_figure(stats), show_label=False)
        predictions = run.predictions
        gr.Plot(length_histogram_figure(predictions["text"], predictions["label_name"]), show_label=False)
    gr.Dataframe(length_table(stats), label="Rows and text lengths per split", interactive=False)
    gr.Markdown(
        "Training rows dropped because their text also appears in the test split: "
        f"**{run.data_stats.duplicates_dropped_from_train}**."
    )
