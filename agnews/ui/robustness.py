"""Robustness tab: how often the model's prediction flips when a test row is changed in a way that
keeps its topic (typos, punctuation, an agency marker, a prefix, a boilerplate sentence, a name).

The table lists each test with the rows it applied to, the flip rate and its 95% Wilson interval and
the mean change of the originally predicted class's probability; the tests not run for this run
are listed with the reason. Below it, a test's flipped rows with the original and the perturbed
text side by side, the words that differ marked. Drawn when the tab is first opened
(`agnews.ui.lazy`), from the run's `robustness` part (`agnews robustness RUN` makes it).
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable
from typing import Any

import gradio as gr
import pandas as pd

from agnews.present.tables import flip_rate_frame
from agnews.rundir import Run
from agnews.rundir.parts import Robustness, StressResult
from agnews.ui.panel import Panel

EXAMPLE_COLUMNS = ["row_id", "true", "before", "after", "original", "perturbed"]
EXAMPLE_WIDTHS = ["7%", "9%", "10%", "10%", "32%", "32%"]




def explanation(report: Robustness) -> str:
    """Which rows were tested with which model, how to read the table, and the tests not run (why)."""
    grouped: dict[str, list[str]] = {}
    for name, why in report.not_run.items():
        grouped.setdefault(why, []).append(f"**{name}**")
    lines = [f"- Not run: {', '.join(names)}: {why}" for why, names in grouped.items()]
    return (
        f"**Rows:** {report.selection}. **Model:** {report.backend}, on the original and the perturbed "
        f"texts alike (made in {report.seconds:.0f} s). A row *flips* when its predicted class changes; "
        "the confidence change is the mean change of the probability of the class predicted for the "
        "original text, in percentage points. Every test keeps the topic, so a robust model flips "
        "none.\n\n" + "\n".join(lines)
    )


def descriptions(report: Robustness) -> str:
    """What each test that ran does to a text."""
    return "\n".join(f"- **{t.name}**: {t.description}" for t in report.tests)


def marked_diff(original: str, perturbed: str) -> tuple[str, str]:
    """Both texts as escaped HTML, with the words that differ between them in `<mark>`."""
    before, after = original.split(), perturbed.split()
    marked: tuple[list[str], list[str]] = ([], [])
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for side, words in ((0, before[i1:i2]), (1, after[j1:j2])):
            escaped = [html.escape(word) for word in words]
            if op != "equal" and escaped:
                escaped = ["<mark>" + " ".join(escaped) + "</mark>"]
            marked[side].extend(escaped)
    return " ".join(marked[0]), " ".join(marked[1])


def find_test(report: Robustness, name: str | None) -> StressResult:
    """The test called `name` (a dropdown's value), or the message that there is none."""
    for test in report.tests:
        if test.name == name:
            return test
    raise gr.Error(f"No test named {name!r} in this run's robustness part.")


def flipped_examples(test: StressResult) -> pd.DataFrame:
    """The test's flipped rows (as stored: largest drop first) with both texts, the changes marked."""
    rows = []
    for example in test.examples:
        original, perturbed = marked_diff(example.text, example.perturbed)
        rows.append(
            [
                example.row_id,
                example.label,
                f"{example.pred_before} {example.confidence_before:.0%}",
                f"{example.pred_after} {example.confidence_after:.0%}",
                original,
                perturbed,
            ]
        )
    return pd.DataFrame(rows, columns=EXAMPLE_COLUMNS)


def examples_note(test: StressResult) -> str:
    if test.rows == 0:
        return f"**{test.name}** applied to none of the rows."
    shown = len(test.examples)
    more = f"; the {shown} with the largest confidence drop are listed" if shown < test.flipped else ""
    return (
        f"**{test.name}** flipped {test.flipped} of {test.rows} rows{more}. Before and after: the class "
        "predicted for the original and for the perturbed text, with its probability."
    )


def build(run: Run, tab: gr.Tab, *, current: Callable[[], Run], coming: bool = False) -> None:
    """Lay out the tab inside `tab`; filled from the run as it is when first opened.

    Without the part, a notice says how to make it; with `coming` (a background `agnews analyze`
    is making it) a "being built" note stays until an opening finds the part.
    """
    panel = Panel(run, ("robustness",), what="robustness table", key="robustness", coming=coming)
    if not panel.shown:
        return
    table = gr.Dataframe(None, label="Flip rate per test", interactive=False, elem_id="robustness-table")
    note = gr.Markdown("", elem_id="robustness-explanation")
    with gr.Accordion("What each test does", open=False):
        tests = gr.Markdown("", elem_id="robustness-tests")
    choice = gr.Dropdown([], value=None, label="Flipped rows of the test", elem_id="robustness-test")
    count = gr.Markdown("", elem_id="robustness-examples-note")
    examples = gr.Dataframe(
        None,
        headers=EXAMPLE_COLUMNS,
        datatype=["number", "str", "str", "str", "html", "html"],
        interactive=False,
        wrap=True,
        max_height=560,
        column_widths=EXAMPLE_WIDTHS,
        elem_id="robustness-examples",
    )

    def fill(run: Run) -> dict[Any, Any]:
        report = run.robustness
        first = report.most_flipping() or report.tests[0]  # the one the Overview points at
        return {
            table: flip_rate_frame(report),
            note: explanation(report),
            tests: descriptions(report),
            choice: gr.update(
                choices=[(f"{t.name} ({t.flipped} flipped)", t.name) for t in report.tests], value=first.name
            ),
            count: examples_note(first),
            examples: flipped_examples(first),
        }

    def show(name: str | None) -> tuple[str, pd.DataFrame]:
        report = current().robustness
        if report is None:
            raise gr.Error("This run has no robustness part yet.")
        test = find_test(report, name)
        return examples_note(test), flipped_examples(test)

    panel.fill_when_opened(tab, fill, [table, note, tests, choice, count, examples], current=current)
    choice.input(
        show, [choice], [count, examples], api_name="robustness_examples", api_visibility="undocumented"
    )
