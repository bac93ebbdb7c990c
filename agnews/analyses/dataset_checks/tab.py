"""Data tab: what the model was trained and tested on, and what looks wrong with it.

Drawn from the run the page shows, when the tab is first opened. Class counts per split come from
the run's `data_stats.json` (the run keeps summaries, not the training texts); the length histogram
uses the test texts, which the run does keep. The dataset warnings (class imbalance, train/test
length mismatch and near-duplicates, with their numbers) come from the `dataset_checks` part, filled
once the run has it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import gradio as gr

from agnews.analyses.dataset_checks.present import (
    KEY,
    WHAT,
    length_table,
    near_duplicate_examples,
    warnings_markdown,
)
from agnews.analyses.dataset_checks.schema import PART
from agnews.present.figures import class_distribution_figure, length_histogram_figure
from agnews.present.glossary import glossed
from agnews.present.notices import failures, part_notice
from agnews.rundir.run import Run
from agnews.ui.lazy import fill_when_opened
from agnews.ui.page import TabPage

# The terms the tab's tables and warnings show, as the glossary names them (`agnews.present.glossary`).
GLOSSED = ("class balance", "KS D", "p", "near-duplicates", "TF-IDF cosine", "unknown tokens", "truncated")


def dropped_line(run: Run) -> str:
    """How many training rows the run's data reader dropped as copies of test rows."""
    dropped = run.data_stats.duplicates_dropped_from_train
    return f"Training rows dropped because their text also appears in the test split: **{dropped}**."


def warnings_notice(run: Run, *, coming: bool = False) -> str:
    """What the warnings say before an opening fills them: nothing, or why the run has none."""
    return "" if run.has(PART.name) else part_notice(run, PART.name, WHAT, coming=coming)


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`; its figures and tables are drawn from the run the page
    shows when the tab is first opened (nothing here changes after loading), the dataset warnings
    once that run has the part."""
    with gr.Row():
        classes = gr.Plot(None, show_label=False, elem_id=f"{KEY}-classes")
        lengths = gr.Plot(None, show_label=False, elem_id=f"{KEY}-lengths")
    table = gr.Dataframe(
        None, label="Rows and text lengths per split", interactive=False, elem_id=f"{KEY}-splits"
    )
    dropped = gr.Markdown("", elem_id=f"{KEY}-dropped")

    def figures(run: Run) -> dict[Any, Any]:
        stats = asdict(run.data_stats)["splits"]
        texts, labels = run.predictions["text"], run.predictions["label_name"]
        names = run.classes
        return {
            classes: class_distribution_figure(stats, names),
            lengths: length_histogram_figure(texts, labels, names),
            table: length_table(stats),
            dropped: dropped_line(run),
        }

    fill_when_opened(
        page.tab, figures, [classes, lengths, table, dropped], current=page.current, name="data_open"
    )
    warnings = gr.Markdown(warnings_notice(page.run, coming=page.coming), elem_id=f"{KEY}-warnings")
    page.refresh(lambda run: {warnings: warnings_notice(run)}, [warnings])
    examples = gr.Dataframe(
        None, label="Closest test/training pairs", interactive=False, visible=False, elem_id=f"{KEY}-near"
    )

    def checks(run: Run) -> dict[Any, Any] | None:
        found = run.get(PART)
        if found is None:  # still coming: None, the next opening looks again; or it failed
            return {warnings: part_notice(run, PART.name, WHAT)} if failures(run, (PART.name,)) else None
        pairs = near_duplicate_examples(found)
        return {warnings: warnings_markdown(found), examples: gr.update(value=pairs, visible=not pairs.empty)}

    gr.Markdown(glossed(*GLOSSED), elem_id=f"{KEY}-glosses")
    fill_when_opened(page.tab, checks, [warnings, examples], current=page.current, name="data_warnings_open")
