"""Overview tab, the first: one card per analysis with its headline figure, a plain judgement by a
rule stated on the card, and a button that opens the tab to look at, with its filter set.

Cards are drawn from parts `Run.load` has already read (no figure, no model call), so the page costs
next to nothing more to open. A card whose part the run lacks says whether it is being built, failed
or absent (the panel notice of `agnews.ui.panel`). A live run's cards are drawn again each time the
tab is opened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from agnews.formatting import count, number, percent, points
from agnews.present.cards import ANY, INFO, Card
from agnews.present.markup import literal
from agnews.present.tables import row_tags, test_accuracy
from agnews.rundir.catalog import load_attribute
from agnews.rundir.run import Run
from agnews.ui.scratch import scratch
from agnews.ui.throttle import HEAVY_QUEUE, limited


def accuracy_card(run: Run) -> Card:
    test = run.metrics.test
    value = test_accuracy(run)
    headline = f"Test accuracy **{value}** on {count(test.rows)} rows · macro F1 {number(test.f1_macro, 3)}."
    if run.baseline is not None:
        gain = points(test.accuracy - run.baseline.accuracy, digits=1)
        headline += f" Frozen base-model features: {percent(run.baseline.accuracy)} (fine-tuned {gain})."
    return Card(
        "accuracy",
        "Accuracy",
        headline,
        INFO,
        "95% Wilson interval over the test rows",
        "confusion",
        "Open the confusion matrix",
    )


def confusion_card(run: Run) -> Card:
    matrix = np.asarray(run.metrics.test.confusion_matrix)
    off = matrix.copy()
    np.fill_diagonal(off, -1)
    true, pred = np.unravel_index(off.argmax(), off.shape)
    share = off[true, pred] / max(1, matrix.sum() - np.trace(matrix))
    names = run.metrics.test.confusion_matrix_labels or list(run.classes)
    headline = (
        f"**{literal(names[true])} read as {literal(names[pred])}**: {off[true, pred]} rows, "
        f"{percent(share)} of all mistakes, the most common confusion."
    )
    return Card(
        "confusion",
        "Most common mistake",
        headline,
        INFO,
        "the largest off-diagonal cell of the confusion matrix",
        "errors",
        "Show these mistakes",
        errors_filter=(names[true], names[pred], ANY),
    )


def compare_card(run: Run, other: Run) -> Card:
    """The run the Compare tab opens on (`app.py --compare`): the accuracy difference only; the
    paired test is the Compare tab's to compute, not start-up's."""
    if other.metrics.test_hash != run.metrics.test_hash:
        headline = f"`{other.name}` was evaluated on other test rows: not comparable row by row."
        return Card("compare", "Compared run", headline, INFO, "", "compare", "Open compare")
    mine, theirs = run.metrics.test.accuracy, other.metrics.test.accuracy
    headline = (
        f"`{other.name}` (B): {percent(theirs)} against this run's {percent(mine)} "
        f"({points(theirs - mine, digits=1)}) on the same {count(run.metrics.test.rows)} test rows."
    )
    rule = "one seed each: the Compare tab's paired test says whether the difference is more than noise"
    return Card("compare", "Compared run", headline, INFO, rule, "compare", "Open the comparison")


def cards(
    run: Run, *, coming: Callable[[str], bool] = lambda _stage: False, compare_with: Run | None = None
) -> list[Card]:
    """Every card, in reading order: the core's (accuracy, the most common mistake), then each
    analysis's by its rank, then the compared run's. `coming(stage)`: whether a background analyze is
    making it; `compare_with`: the run the Compare tab opens on, if any."""
    compared = [] if compare_with is None else [compare_card(run, compare_with)]
    ranked = [
        (analysis.rank, load_attribute(analysis.card)(run, any(coming(s) for s in analysis.default_stages)))
        for analysis in run.catalog.analyses
        if analysis.card is not None
    ]
    return [
        accuracy_card(run),
        confusion_card(run),
        *(card for _, card in sorted(ranked, key=lambda r: r[0])),
        *compared,
    ]


@dataclass
class Overview:
    """The laid-out cards; `link` wires their buttons once the other tabs exist."""

    texts: list[gr.Markdown]
    buttons: list[gr.Button]
    keys: list[str]
    compare_with: Run | None


def report_version(run: Run) -> str:
    """A hash of what the report is drawn from: the run's manifest (every part's fingerprint, the
    stages' warnings) and the warnings found when loading it. A stage that changes the run changes
    it; clicking again does not."""
    drawn_from = {"run": str(run.path), "manifest": asdict(run.manifest), "warnings": run.warnings}
    return hashlib.sha256(json.dumps(drawn_from, sort_keys=True, default=str).encode()).hexdigest()[:16]


def report_path(run: Run) -> str:
    """The run's static report (`agnews.present.report`) for download: written once per run version
    into the app's scratch folder (`agnews.ui.scratch`) and handed to every later click, so that
    clicks cost neither time nor disk, and Gradio's cache holds one copy of it."""

    def write(tmp: Path) -> None:
        from agnews.present.report import build_report  # plotly: loaded on the first download

        tmp.write_text(build_report(run), encoding="utf-8")

    return str(scratch().shared_file("report", report_version(run), f"{run.name}.html", write))


def build(
    run: Run,
    tab: gr.Tab,
    *,
    current: Callable[[], Run],
    coming: Callable[[str], bool],
    compare_with: Run | None = None,
) -> Overview:
    """Lay out the cards (two to a row) inside `tab`, drawn from `run`; drawn again from `current()`
    (a live run's latest version) whenever the tab is opened."""
    shown = cards(run, coming=coming, compare_with=compare_with)
    gr.Markdown(
        "Where to look first: each card is one analysis of this run, judged by the rule under it.",
        elem_id="overview-intro",
    )
    texts, buttons = [], []
    for start in range(0, len(shown), 2):
        with gr.Row(equal_height=True):
            for card in shown[start : start + 2]:
                with gr.Column(variant="panel", elem_id=f"overview-{card.key}"):
                    texts.append(gr.Markdown(card.markdown(), elem_id=f"overview-{card.key}-text"))
                    buttons.append(gr.Button(card.button, size="sm", elem_id=f"overview-{card.key}-open"))

    def redraw() -> list[Any]:
        again = cards(current(), coming=coming, compare_with=compare_with)
        return [card.markdown() for card in again] + [gr.update(value=card.button) for card in again]

    tab.select(redraw, None, [*texts, *buttons], api_name="overview_open", api_visibility="undocumented")
    report_button = gr.Button("Download the report (HTML)", size="sm", elem_id="overview-report")
    report_file = gr.File(label="Report", visible=False, elem_id="overview-report-file")
    report_button.click(
        limited("report", lambda: gr.update(value=report_path(current()), visible=True)),
        None,
        report_file,
        api_name="overview_report",
        api_visibility="undocumented",
        **HEAVY_QUEUE,
    )
    return Overview(texts, buttons, [card.key for card in shown], compare_with)


def link(
    overview: Overview,
    tabs: gr.Tabs,
    errors_filters: tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown],
    *,
    current: Callable[[], Run],
) -> None:
    """Each card's button opens its tab, judged on the run as it is at the click; a card pointing
    at mistakes also sets the Errors tab's filters (true class, predicted class, tag)."""
    for key, button in zip(overview.keys, overview.buttons, strict=True):

        def go(key: str = key) -> tuple[Any, ...]:
            run = current()
            card = next(card for card in cards(run, compare_with=overview.compare_with) if card.key == key)
            if card.errors_filter is None:
                return gr.skip(), gr.skip(), gr.skip(), gr.Tabs(selected=card.tab)
            true_name, pred_name, tag = card.errors_filter
            tags = row_tags(run)
            tag_update = gr.update(value=tag, choices=[ANY, *tags], visible=bool(tags))
            return true_name, pred_name, tag_update, gr.Tabs(selected="errors")

        button.click(
            go,
            None,
            [*errors_filters, tabs],
            api_name=f"overview_{key.replace('-', '_')}",
            api_visibility="undocumented",
            show_progress="hidden",
        )
