"""Calibration tab: can the confidence be taken at its word? The run's `calibration.json`, shown.

Calibration metrics on the test split before and after the kept calibration, with bootstrap 95%
intervals; the reliability diagram and the confidence histogram; the risk-coverage curve with the
review threshold marked; which calibrator was kept and why. Everything is drawn the first time the
tab is opened; until the run has the part, the notice says why (`agnews.ui.panel`).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from agnews.analyses.calibration.present import (
    confidence_histogram_figure,
    method_markdown,
    metrics_table,
    reliability_figure,
    review_markdown,
    risk_coverage_figure,
)
from agnews.analyses.calibration.schema import PART
from agnews.rundir.run import Run
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`; fill it from the run as it is when first opened (while a
    background analyze is making the part, its absence is "being built")."""
    key = PART.name
    panel = Panel(page.run, (key,), what="calibration report", key=key, coming=page.coming)
    if not panel.shown:
        return
    method = gr.Markdown(elem_id=f"{key}-method")
    table = gr.Dataframe(
        label="Calibration on the test split, 95% bootstrap intervals",
        interactive=False,
        elem_id=f"{key}-metrics",
    )
    with gr.Row():
        reliability = gr.Plot(show_label=False, elem_id=f"{key}-reliability")
        histogram = gr.Plot(show_label=False, elem_id=f"{key}-histogram")
    with gr.Row():
        curve = gr.Plot(show_label=False, elem_id=f"{key}-risk-coverage")
        review = gr.Markdown(elem_id=f"{key}-review")

    def fill(run: Run) -> dict[Any, Any]:
        calibration = run.get(PART)
        assert calibration is not None  # the panel fills only once the part is there
        sides = {"before": calibration.before.bins, "after": calibration.after.bins}
        marked = None
        if calibration.test_coverage is not None and calibration.test_accuracy is not None:
            marked = (calibration.test_coverage, 1 - calibration.test_accuracy)
        rc = calibration.risk_coverage
        return {
            method: method_markdown(calibration),
            table: metrics_table(calibration),
            reliability: reliability_figure(sides),
            histogram: confidence_histogram_figure(sides),
            curve: risk_coverage_figure(rc.coverage, rc.risk, marked),
            review: review_markdown(calibration),
        }

    panel.fill_when_opened(
        page.tab, fill, [method, table, reliability, histogram, curve, review], current=page.current
    )
