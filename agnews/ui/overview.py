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
from agnews.present.cards import ANY, FINE, INFO, LOOK, Card, apart, by_severity
from agnews.present.glossary import tag_title
from agnews.present.markup import literal
from agnews.present.tables import mistakes, test_accuracy, with_tags
from agnews.rundir.catalog import load_attribute
from agnews.rundir.run import Run
from agnews.stats import wilson_interval
from agnews.ui.errors import filter_mistakes
from agnews.ui.open_rows import OpenRows
from agnews.ui.run_state import PageRuns
from agnews.ui.scratch import scratch
from agnews.ui.throttle import HEAVY_QUEUE, limited


def accuracy_card(run: Run) -> Card:
    """Test accuracy, judged against the frozen base-model baseline when the run has one: fine-tuning
    that does no better than a linear probe on the base model's features has not worked."""
    test = run.metrics.test
    value = test_accuracy(run)
    headline = (
        f"Test accuracy **{value}** on {count(test.rows)} rows · macro F1 {number(test.f1_macro, 3)} "
        f"(accuracy with every class weighted alike)."
    )
    rule, verdict = "95% Wilson interval over the test rows", INFO
    if run.baseline is not None:
        base = run.baseline.accuracy
        gain = points(test.accuracy - base, digits=1)
        headline += f" Frozen base-model features: {percent(base)} (fine-tuned {gain})."
        rule = "look when the frozen base-model baseline lies above the accuracy's 95% interval"
        below = apart(base, base, *wilson_interval(round(test.accuracy * test.rows), test.rows))
        if below > 0:
            verdict = LOOK
            headline += (
                " **The baseline beats the fine-tuned model**: train longer or check the learning rate."
            )
        elif below < 0:
            verdict = FINE
    return Card("accuracy", "Accuracy", headline, verdict, rule, "confusion", "Open the confusion matrix")


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
    """Every card, most severe first (`by_severity`); within a verdict, the core's (accuracy, the most
    common mistake), then each analysis's by its rank, then the compared run's. `coming(stage)`:
    whether a background analyze is making it; `compare_with`: the run the Compare tab opens on."""
    compared = [] if compare_with is None else [compare_card(run, compare_with)]
    ranked = [
        (analysis.rank, load_attribute(analysis.card)(run, any(coming(s) for s in analysis.default_stages)))
        for analysis in run.catalog.analyses
        if analysis.card is not None
    ]
    return by_severity(
        [
            accuracy_card(run),
            confusion_card(run),
            *(card for _, card in sorted(ranked, key=lambda r: r[0])),
            *compared,
        ]
    )


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
    pages: PageRuns,
) -> Overview:
    """Lay out the cards (two to a row) inside `tab`, drawn from `run`; drawn again from `current()`
    (the page's run as it is on disk) whenever the tab is opened and whenever a page opens (the
    Overview is the tab a page opens on: a part written since start-up shows after a reload, and a
    page on another run shows that run's cards). `coming` is about the app's run only."""
    shown = cards(run, coming=coming, compare_with=compare_with)
    gr.Markdown(
        "Where to look first, most severe first: each card is one analysis of this run, judged by the "
        "rule under it.",
        elem_id="overview-intro",
    )
    texts, buttons = [], []
    for start in range(0, len(shown), 2):
        with gr.Row(equal_height=True):
            for card in shown[start : start + 2]:
                with gr.Column(variant="panel", elem_id=f"overview-{card.key}"):
                    texts.append(gr.Markdown(card.markdown(), elem_id=f"overview-{card.key}-text"))
                    buttons.append(gr.Button(card.button, size="sm", elem_id=f"overview-{card.key}-open"))

    def redrawn(run: Run) -> dict[Any, Any]:
        # In the places the page was built with: each button is wired to its card's key, so a card
        # whose verdict changed since start-up keeps its place (its badge and words change); a card
        # the page's run has no such card for (another run, compared with nothing) is hidden.
        building = coming if pages.shows_default() else (lambda _stage: False)
        by_key = {card.key: card for card in cards(run, coming=building, compare_with=compare_with)}
        updates: dict[Any, Any] = {}
        for card, text, button in zip(shown, texts, buttons, strict=True):
            again = by_key.get(card.key)
            updates[text] = gr.update(value=again.markdown() if again else "", visible=again is not None)
            updates[button] = gr.update(value=again.button if again else "", visible=again is not None)
        return updates

    tab.select(
        lambda: redrawn(current()),
        None,
        [*texts, *buttons],
        api_name="overview_open",
        api_visibility="undocumented",
        show_progress="hidden",
    )
    pages.refresh(redrawn, [*texts, *buttons], always=True)
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


# Run in the browser once a card's button has switched tabs: the page keeps the Overview's scroll
# position, which puts the opened tab's content above the window (or clamps it to the page's top while
# the tab is still empty). Bringing the tab bar to the window's top lands on the tab's first content,
# wherever it is filled. The page has one tab bar: the first `tablist` is it.
LAND_ON_TAB = """() => {
  document.querySelector("[role='tablist']")?.scrollIntoView({block: "start"});
}"""


def link(overview: Overview, tabs: gr.Tabs, open_rows: OpenRows, *, current: Callable[[], Run]) -> None:
    """Each card's button opens its tab, judged on the run as it is at the click, and lands on the
    tab's content (`LAND_ON_TAB`); a card pointing at mistakes opens those mistakes in the Errors tab
    (`open_rows`), under the card's own words."""
    for key, button in zip(overview.keys, overview.buttons, strict=True):

        def go(key: str = key) -> dict[Any, Any]:
            run = current()
            card = next(card for card in cards(run, compare_with=overview.compare_with) if card.key == key)
            if card.errors_filter is None:
                return {tabs: gr.Tabs(selected=card.tab)}
            true_name, pred_name, tag = card.errors_filter
            wrong = mistakes(with_tags(run.predictions, run))
            said = [
                f"{what} {tag_title(name) if what == 'tag' else name}"
                for what, name in zip(("true", "predicted", "tag"), card.errors_filter, strict=True)
                if name != ANY
            ]
            why = f"the Overview's {card.title} card: mistakes, " + ", ".join(said or ["all"])
            return open_rows.open(filter_mistakes(wrong, true_name, pred_name, "", tag)["row_id"], why)

        button.click(
            go,
            None,
            open_rows.outputs,
            api_name=f"overview_{key.replace('-', '_')}",
            api_visibility="undocumented",
            show_progress="hidden",
        ).then(None, js=LAND_ON_TAB)
