"""Slices tab: the model's accuracy on the test rows of each smart tag, against all rows.

Every line carries its row count and 95% Wilson interval, so a small slice's gap is read with its
uncertainty; the tags the run could not compute are listed with the reason, not shown as empty.
The table and plot are drawn when the tab is first opened (`agnews.ui.lazy`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from agnews.formatting import number, seconds, setting
from agnews.present.figures import slice_figure
from agnews.present.tables import slice_numbers, slice_table
from agnews.rundir.parts import SliceReport
from agnews.rundir.run import Run
from agnews.ui.panel import Panel


def definitions(report: SliceReport) -> str:
    """How each tag was defined for this run, and the tags that could not be computed (and why)."""
    cut, near, threshold = report.lengths, report.neighbours, report.review_threshold
    meaning = {
        "short": f"at most {cut.short_max_words} words ({cut.rule})",
        "long": f"at least {cut.long_min_words} words (same rule)",
        "agency": 'a news-agency marker such as "(Reuters)" or "AP - " (' + ", ".join(report.agencies) + ")",
        "low_confidence": f"confidence below the review threshold {number(threshold, 3)} (calibration part)"
        if threshold is not None
        else "",
        "near_duplicate": f"a training row at cosine ≥ {setting(near.near_duplicate_cosine)} in {near.space}",
        "conflicting_neighbours": f"{near.rule} (same space)",
        "likely_mislabelled": "flagged by cleanlab (label_issues_test part)",
    }
    lines = [f"- **{tag}**: {meaning.get(tag, '')}" for tag in report.tags]
    lines += [f"- **{tag}**: not computed: {why}" for tag, why in report.not_computed.items()]
    return (
        f"Tags of the test rows ({report.train_rows} training rows compared; made in "
        f"{seconds(report.seconds)}):\n\n" + "\n".join(lines)
    )


def build(run: Run, tab: gr.Tab, *, current: Callable[[], Run], coming: bool = False) -> None:
    """Lay out the tab inside `tab`; filled from the run as it is when first opened.

    Without the part, a notice says how to make it; with `coming` (a background `agnews analyze`
    is making it) a "being built" note stays until an opening finds the part.
    """
    panel = Panel(run, ("slices",), what="slice table", key="slices", coming=coming)
    if not panel.shown:
        return
    figure = gr.Plot(None, show_label=False, elem_id="slices-plot")
    table = gr.Dataframe(None, label="Accuracy per slice", interactive=False, elem_id="slices-table")
    note = gr.Markdown("", elem_id="slices-definitions")

    def fill(run: Run) -> dict[Any, Any]:
        report = run.slice_report
        return {
            figure: slice_figure(slice_numbers(report)),
            table: slice_table(report),
            note: definitions(report),
        }

    panel.fill_when_opened(tab, fill, [figure, table, note], current=current)
