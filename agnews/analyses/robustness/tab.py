"""Robustness tab: how often the model's prediction flips when a test row is changed in a way that
keeps its topic (typos, punctuation, an agency marker, a prefix, a boilerplate sentence, a name).

The table lists each test with the rows it applied to, the flip rate and its 95% Wilson interval and
the mean change of the originally predicted class's probability; the tests not run for this run
are listed with the reason. Below it, a test's flipped rows with the original and the perturbed
text side by side, the words that differ marked. Drawn when the tab is first opened
(`agnews.ui.lazy`), from the run's robustness part (`agnews robustness RUN` makes it).
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from agnews.analyses.robustness.present import (
    EXAMPLE_COLUMNS,
    descriptions,
    examples_note,
    explanation,
    flip_rate_frame,
    flipped_examples,
)
from agnews.analyses.robustness.schema import PART, FlipResult, Robustness
from agnews.present.glossary import glossed, perturbation_title
from agnews.rundir.run import Run
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel

EXAMPLE_WIDTHS = ["7%", "9%", "10%", "10%", "32%", "32%"]


def find_test(report: Robustness, name: str | None) -> FlipResult:
    """The test called `name` (a dropdown's value), or the message that there is none."""
    for test in report.tests:
        if test.name == name:
            return test
    raise gr.Error(f"No test named {name!r} in this run's robustness part.")


def table_glosses(report: Robustness) -> str:
    """The glosses of the flip-rate table's columns (its training column only where it has one)."""
    trained = () if report.trained_for is None else ("trained for", "held out")
    return glossed("flip rate", "95% interval", "confidence change", *trained)


def test_choices(report: Robustness) -> list[tuple[str, str]]:
    """The dropdown's (shown, value) pairs: each test by its human name and flips; the value is the
    test's key, which `find_test` looks up."""
    return [(f"{perturbation_title(t.name)} ({t.flipped} flipped)", t.name) for t in report.tests]


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`; filled from the run as it is when first opened.

    Without the part, a notice says how to make it; while a background `agnews analyze` is making
    it, a "being built" note stays until an opening finds the part.
    """
    key = PART.name
    panel = Panel(page, (key,), what="robustness table", key=key)
    with panel.content:
        table = gr.Dataframe(None, label="Flip rate per test", interactive=False, elem_id=f"{key}-table")
        glosses = gr.Markdown("", elem_id=f"{key}-glosses")
        note = gr.Markdown("", elem_id=f"{key}-explanation")
        with gr.Accordion("What each test does", open=False):
            tests = gr.Markdown("", elem_id=f"{key}-tests")
        choice = gr.Dropdown([], value=None, label="Flipped rows of the test", elem_id=f"{key}-test")
        count = gr.Markdown("", elem_id=f"{key}-examples-note")
        examples = gr.Dataframe(
            None,
            headers=EXAMPLE_COLUMNS,
            datatype=["number", "str", "str", "str", "html", "html"],
            interactive=False,
            wrap=True,
            max_height=560,
            column_widths=EXAMPLE_WIDTHS,
            elem_id=f"{key}-examples",
        )

    def fill(run: Run) -> dict[Any, Any]:
        report = run.get(PART)
        assert report is not None  # the panel fills only once the part is there
        shown = {
            table: flip_rate_frame(report),
            glosses: table_glosses(report),
            note: explanation(report),
            tests: descriptions(report),
        }
        first = report.most_flipping() or next(iter(report.tests), None)  # the one the Overview points at
        if first is None:  # every test was left out: the explanation says why
            return {**shown, choice: gr.update(choices=[], value=None), count: "", examples: None}
        return {
            **shown,
            choice: gr.update(choices=test_choices(report), value=first.name),
            count: examples_note(first),
            examples: flipped_examples(first),
        }

    def show(name: str | None) -> tuple[str, pd.DataFrame]:
        report = page.current().get(PART)
        if report is None:
            raise gr.Error("This run has no robustness part yet.")
        test = find_test(report, name)
        return examples_note(test), flipped_examples(test)

    panel.fill_when_opened(fill, [table, glosses, note, tests, choice, count, examples])
    choice.input(show, [choice], [count, examples], api_name=f"{key}_examples", api_visibility="undocumented")
