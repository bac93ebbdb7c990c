"""Calibration tab: which confidence can a prediction go without a person checking it, and can the
confidence be taken at its word? The run's `calibration.json` (and a chosen `chosen_threshold.json`),
shown.

First what a review threshold keeps: a slider over the confidence, with the share of test rows kept
for automatic use, their accuracy and the count, recomputed from the stored predictions as it
moves (no model call); the threshold in use and who set it when; where the page may write
(`TabPage.may_write`), "Use this threshold" saves the slider's value as the run's `chosen_threshold`
part, which the Classify tab, the JSON route, `agnews predict` and the model card then apply, and
"Clear the chosen threshold" drops it (the calibration stage's threshold applies again). Below:
the risk-coverage curve, the calibration metrics before and after the kept calibration with
bootstrap 95% intervals and a gloss of each, the reliability diagram and the confidence histogram,
and last which calibrator was kept and why. Everything is drawn the first time the tab is opened;
until the run has the part, the notice says why (`agnews.ui.panel`).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from agnews.analyses.calibration.choice import ThresholdError, clear_choice, save_choice
from agnews.analyses.calibration.coverage import kept_of
from agnews.analyses.calibration.present import (
    confidence_histogram_figure,
    in_use_markdown,
    kept_line,
    method_markdown,
    metrics_glosses,
    metrics_table,
    reliability_figure,
    review_markdown,
    risk_coverage_figure,
)
from agnews.analyses.calibration.schema import PART, REVIEW_PART, Calibration, chosen_rule
from agnews.present.paths import shown_text
from agnews.rundir.facts import REVIEW
from agnews.rundir.files import RunError
from agnews.rundir.run import Run
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel

PUBLIC_PAGE = "This page cannot save: start the app with `--allow-edits`, or use `agnews calibration`."


def threshold_in_use(run: Run) -> float:
    """Where the slider starts: the run's review threshold (0, keep every row, when it has none)."""
    rule = run.fact(REVIEW)
    return 0.0 if rule is None or rule.threshold is None else rule.threshold


def headline(run: Run, threshold: float) -> str:
    """What `threshold` keeps of the run's test rows, as the tab's first and largest line."""
    return f"### {kept_line(kept_of(run.predictions, threshold))}"


def curve(calibration: Calibration, run: Run, threshold: float) -> Any:
    """The risk-coverage curve with the point `threshold` gives marked (none where it keeps no row)."""
    kept = kept_of(run.predictions, threshold)
    marked = None if kept.accuracy is None else (kept.coverage, 1 - kept.accuracy)
    return risk_coverage_figure(calibration.risk_coverage.coverage, calibration.risk_coverage.risk, marked)


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`; fill it from the run as it is when first opened (while a
    background analyze is making the part, its absence is "being built")."""
    key = PART.name
    panel = Panel(page, (key,), what="calibration report", key=key)
    with panel.content:
        kept = gr.Markdown(elem_id=f"{key}-kept")
        threshold = gr.Slider(
            0.0,
            1.0,
            value=threshold_in_use(page.run),
            step=0.001,
            label="Review threshold: the confidence below which a person reviews the prediction",
            elem_id=f"{key}-threshold",
        )
        with gr.Row():
            in_use = gr.Markdown(elem_id=f"{key}-in-use")
            clear = None  # where the page may write: drops the chosen threshold
            if page.may_write:
                use = gr.Button("Use this threshold", variant="primary", scale=0, elem_id=f"{key}-use")
                clear = gr.Button(
                    "Clear the chosen threshold", scale=0, visible=False, elem_id=f"{key}-clear"
                )
            else:
                gr.Markdown(PUBLIC_PAGE, elem_id=f"{key}-public")
        with gr.Row():
            risk = gr.Plot(show_label=False, elem_id=f"{key}-risk-coverage")
            review = gr.Markdown(elem_id=f"{key}-review")
        table = gr.Dataframe(
            label="Calibration on the test split, 95% bootstrap intervals",
            interactive=False,
            elem_id=f"{key}-metrics",
        )
        gr.Markdown(metrics_glosses(), elem_id=f"{key}-glosses")
        with gr.Row():
            reliability = gr.Plot(show_label=False, elem_id=f"{key}-reliability")
            histogram = gr.Plot(show_label=False, elem_id=f"{key}-histogram")
        method = gr.Markdown(elem_id=f"{key}-method")

    def fill(run: Run) -> dict[Any, Any]:
        calibration = run.get(PART)
        assert calibration is not None  # the panel fills only once the part is there
        sides = {"before": calibration.before.bins, "after": calibration.after.bins}
        start = threshold_in_use(run)
        chosen = {} if clear is None else {clear: gr.update(visible=run.get(REVIEW_PART) is not None)}
        return {
            **chosen,
            kept: headline(run, start),
            threshold: start,
            in_use: in_use_markdown(run.fact(REVIEW)),
            risk: curve(calibration, run, start),
            review: review_markdown(calibration),
            table: metrics_table(calibration),
            reliability: reliability_figure(sides),
            histogram: confidence_histogram_figure(sides),
            method: method_markdown(calibration),
        }

    filled = [kept, threshold, in_use, risk, review, table, reliability, histogram, method]
    panel.fill_when_opened(fill, filled if clear is None else [*filled, clear])
    threshold.change(
        lambda value: headline(page.current(), value),
        threshold,
        kept,
        api_name=f"{key}_kept",
        api_visibility="undocumented",
        show_progress="hidden",
        trigger_mode="always_last",
    )

    def redraw(value: float) -> Any:
        run = page.current()
        calibration = run.get(PART)
        return gr.skip() if calibration is None else curve(calibration, run, value)

    threshold.release(redraw, threshold, risk, show_progress="hidden", trigger_mode="always_last")
    if clear is not None:

        def save(value: float, request: gr.Request) -> str:
            """Save the slider's value for the run; the line then says who set it when."""
            run = page.current()
            try:
                choice = save_choice(run.path, value, getattr(request, "username", None))
            except (ThresholdError, RunError) as exc:  # a background analyze holds the run
                raise gr.Error(shown_text(str(exc), run.path.parent)) from exc
            return in_use_markdown(chosen_rule(choice))

        def clear_chosen() -> dict[Any, Any]:
            """Drop the chosen threshold: the calibration stage's applies again, and the slider
            moves to it."""
            run = page.current()
            try:
                clear_choice(run.path)
            except RunError as exc:  # a background analyze holds the run
                raise gr.Error(shown_text(str(exc), run.path.parent)) from exc
            now = page.current()
            start = threshold_in_use(now)
            return {
                in_use: in_use_markdown(now.fact(REVIEW)),
                threshold: start,
                kept: headline(now, start),
                risk: redraw(start),
                clear: gr.update(visible=False),
            }

        use.click(
            save, threshold, in_use, api_name=f"{key}_use_threshold", api_visibility="undocumented"
        ).success(lambda: gr.update(visible=True), None, clear, queue=False)
        clear.click(
            clear_chosen,
            None,
            [in_use, threshold, kept, risk, clear],
            api_name=f"{key}_clear_threshold",
            api_visibility="undocumented",
        )
