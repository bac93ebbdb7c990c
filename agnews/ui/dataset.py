"""Data tab: what the model was trained and tested on, and what looks wrong with it.

Class counts per split come from the run's `data_stats.json` (the run keeps summaries, not the
training texts); the length histogram uses the test texts, which the run does keep. The dataset
warnings (class imbalance, train/test length mismatch and near-duplicates, with their numbers) come
from the `slices` part, made by `agnews.training.data_checks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import gradio as gr
import pandas as pd

from agnews.present.figures import SPLIT_ORDER, class_distribution_figure, headline, length_histogram_figure
from agnews.present.notices import failures, part_notice
from agnews.present.tables import warnings_markdown
from agnews.rundir.parts import DatasetWarnings
from agnews.rundir.run import Run
from agnews.ui.lazy import fill_when_opened


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


def near_duplicate_examples(checks: DatasetWarnings) -> pd.DataFrame:
    """The closest test/training pairs, as a table (text cells are safe where Markdown is not)."""
    return pd.DataFrame(
        [
            {
                "cosine": pair.similarity,
                "test row": pair.row_id,
                "test text": headline(pair.text),
                "test label": pair.label,
                "training text": headline(pair.train_text),
                "training label": pair.train_label,
            }
            for pair in checks.overlap.examples
        ],
        columns=["cosine", "test row", "test text", "test label", "training text", "training label"],
    )


def build(run: Run, tab: gr.Tab, *, current: Callable[[], Run], coming: bool = False) -> None:
    """Lay out the tab inside `tab`, its figures drawn when first opened (nothing here changes
    after loading). The dataset warnings are filled from `current()` once it has the `slices` part."""
    stats = asdict(run.data_stats)["splits"]
    with gr.Row():
        classes = gr.Plot(None, show_label=False, elem_id="data-classes")
        lengths = gr.Plot(None, show_label=False, elem_id="data-lengths")

    def figures(run: Run) -> dict[gr.Plot, Any]:
        texts, labels = run.predictions["text"], run.predictions["label_name"]
        return {classes: class_distribution_figure(stats), lengths: length_histogram_figure(texts, labels)}

    fill_when_opened(tab, figures, [classes, lengths], current=lambda: run, name="data_open")
    gr.Dataframe(length_table(stats), label="Rows and text lengths per split", interactive=False)
    gr.Markdown(
        "Training rows dropped because their text also appears in the test split: "
        f"**{run.data_stats.duplicates_dropped_from_train}**."
    )
    what = "dataset warnings (class imbalance, train/test length mismatch, near-duplicates)"
    warnings = gr.Markdown(
        "" if run.has("slices") else part_notice(run, "slices", what, coming=coming), elem_id="data-warnings"
    )
    examples = gr.Dataframe(
        None, label="Closest test/training pairs", interactive=False, visible=False, elem_id="data-near"
    )

    def checks(run: Run) -> dict[Any, Any] | None:
        if run.slice_report is None:  # still coming: None, the next opening looks again; or it failed
            return {warnings: part_notice(run, "slices", what)} if failures(run, ("slices",)) else None
        found = run.slice_report.dataset
        table = near_duplicate_examples(found)
        return {warnings: warnings_markdown(found), examples: gr.update(value=table, visible=not table.empty)}

    fill_when_opened(tab, checks, [warnings, examples], current=current, name="data_warnings_open")
