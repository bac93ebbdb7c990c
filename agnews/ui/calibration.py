"""Calibration tab: can the confidence be taken at its word? The run's `calibration.json`, shown.

Calibration metrics on the test split before and after the kept calibration, with bootstrap 95%
intervals; the reliability diagram and the confidence histogram; the risk-coverage curve with the
review threshold marked; which calibrator was kept and why. Everything is drawn the first time the
tab is opened; until the run has the part, the notice says why (`agnews.ui.panel`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from agnews.present.tables import metrics_table
from agnews.rundir.parts import Calibration
from agnews.rundir.run import Run
from agnews.ui.panel import Panel


def method_markdown(calibration: Calibration) -> str:
    """Which calibrator was kept, its parameters, why, and the candidates' validation scores."""
    parameters = "; ".join(
        f"{name} {', '.join(f'{v:.3f}' for v in values)}" for name, values in calibration.parameters.items()
    )
    lines = [
        f"**Kept: {calibration.method}**{f' ({parameters})' if parameters else ''}: {calibration.reason}. "
        "What is kept is folded into the model's last layer, so the app, the ONNX graphs and a plain "
        "`pipeline` give the calibrated probabilities.",
    ]
    if calibration.candidates:
        lines += [
            "",
            "| candidate | validation NLL (out-of-fold) | validation ECE (out-of-fold) |",
            "|---|---:|---:|",
            *(
                f"| {name} | {score.cv_nll:.4f} | {score.cv_ece:.2%} |"
                for name, score in calibration.candidates.items()
            ),
        ]
    lines += [
        "",
        f"Intervals: percentile bootstrap, {calibration.bootstrap_resamples:,} resamples of the "
        f"{calibration.rows:,} test rows (the change is paired: same resamples before and after).",
    ]
    return "\n".join(lines)


def review_markdown(calibration: Calibration) -> str:
    """The review threshold, how it was chosen, and what it gives on validation and test."""
    target = calibration.target_accuracy
    if calibration.review_threshold is None:
        return (
            f"**No review threshold**: no confidence threshold reached {target:.0%} accuracy on the "
            f"{calibration.validation_rows} validation rows."
        )
    return (
        f"**Review threshold {calibration.review_threshold:.1%}**: the lowest confidence whose kept "
        f"validation rows reach {target:.0%} accuracy (validation: {calibration.validation_coverage:.1%} "
        f"kept, {calibration.validation_accuracy:.2%} right). On the test split it keeps "
        f"**{calibration.test_coverage:.1%}** of the rows at **{calibration.test_accuracy:.2%}** accuracy; "
        'the rest are marked "needs review" in the Classify tab and the CSV output.'
    )


def build(run: Run, tab: gr.Tab, *, current: Callable[[], Run], coming: bool = False) -> None:
    """Lay out the tab inside `tab`; fill it from `current()` when first opened.

    `coming`: the run is being completed in the background, so a missing part is "being built".
    """
    panel = Panel(run, ("calibration",), what="calibration report", key="calibration", coming=coming)
    if not panel.shown:
        return
    method = gr.Markdown(elem_id="calibration-method")
    table = gr.Dataframe(
        label="Calibration on the test split, 95% bootstrap intervals",
        interactive=False,
        elem_id="calibration-metrics",
    )
    with gr.Row():
        reliability = gr.Plot(show_label=False, elem_id="calibration-reliability")
        histogram = gr.Plot(show_label=False, elem_id="calibration-histogram")
    with gr.Row():
        curve = gr.Plot(show_label=False, elem_id="calibration-risk-coverage")
        review = gr.Markdown(elem_id="calibration-review")

    def fill(run: Run) -> dict[Any, Any]:
        from agnews.present.figures import (
            confidence_histogram_figure,
            reliability_figure,
            risk_coverage_figure,
        )

        calibration = run.calibration
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

    panel.fill_when_opened(tab, fill, [method, table, reliability, histogram, curve, review], current=current)
