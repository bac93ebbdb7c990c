"""How the calibration parts read: what a review threshold keeps, which threshold is in use and who
set it, the kept calibrator and why, the metrics before and after (with their glosses), the
reliability diagram, the confidence histogram and the risk-coverage curve; its Overview card, its
report section and its model-card section. Plain functions of the parts (no Gradio), shared by the
tab, the command, the report and the card."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from agnews.analyses.calibration.coverage import Kept, kept_of
from agnews.analyses.calibration.schema import PART, Calibration
from agnews.formatting import calibration_metric, count, interval, number, percent
from agnews.present.cards import FINE, LOOK, Card, absent_card
from agnews.present.figures import LAYOUT, OUTCOME_COLOURS
from agnews.present.glossary import glossed
from agnews.present.markup import literal
from agnews.present.notices import part_notice
from agnews.present.sections import figure_html, markdown_section, markdown_table, section, table_html
from agnews.rundir.facts import REVIEW, ReviewRule
from agnews.rundir.run import Run
from agnews.stats import calibrated_ece_noise

TITLE = "Calibration"
# The Overview looks when the served (calibrated) test ECE is, with 95% confidence, above this and above
# what a perfectly calibrated model would show on as many rows (`calibrated_ece_noise`).
ECE_LIMIT = 0.03
CARD_METRIC_NAMES = {
    "ece": "ECE (15 bins)",
    "adaptive_ece": "adaptive ECE",
    "nll": "NLL",
    "brier": "Brier score",
}
METRIC_NAMES = {
    "ece": "top-label ECE (15 equal-width bins)",
    "adaptive_ece": "adaptive ECE (15 equal-mass bins)",
    "nll": "NLL",
    "brier": "Brier score",
}


# The metrics the tab's table shows, as the glossary names them (`agnews.present.glossary`).
GLOSSED_METRICS = ("ECE", "adaptive ECE", "NLL", "Brier")


def kept_line(kept: Kept) -> str:
    """What a review threshold does to the test rows, in plain words (no markup: the command prints
    it): "Review rows below 82.0% confidence: 91.0% of test rows (6,916 of 7,600) are kept
    automatically at 97.1% accuracy."."""
    below = f"Review rows below {percent(kept.threshold)} confidence"
    if kept.accuracy is None:
        return f"{below}: no test row is kept automatically; a person reviews all {count(kept.rows)}."
    return (
        f"{below}: {percent(kept.coverage)} of test rows ({count(kept.kept)} of {count(kept.rows)}) are "
        f"kept automatically at {percent(kept.accuracy)} accuracy."
    )


def in_use_markdown(rule: ReviewRule | None) -> str:
    """Which review threshold the run uses now (what the Classify tab, the JSON route, `agnews
    predict` and the model card apply), and who set it when (a login name, shown as text)."""
    if rule is None or rule.threshold is None:
        return "**No review threshold in use**: no prediction is marked for review."
    if rule.set_by is not None:
        return (
            f"**In use: {percent(rule.threshold)}**, set by {literal(rule.set_by)} at {literal(rule.set_at)}."
        )
    return f"**In use: {percent(rule.threshold)}**, {rule.basis} (the calibration stage's choice)."


def metrics_glosses() -> str:
    """One line each on what the table's metrics mean and what to do about them."""
    return glossed(*GLOSSED_METRICS)


def metrics_table(calibration: Calibration) -> pd.DataFrame:
    """Each metric before, after and their paired change, as "value (95% interval)"."""
    rows = []
    for key, name in METRIC_NAMES.items():
        rows.append(
            {
                "metric": name,
                "before (raw logits)": calibration_metric(key, getattr(calibration.before, key)),
                f"after ({calibration.method})": calibration_metric(key, getattr(calibration.after, key)),
                "change": calibration_metric(key, calibration.change[key]),
            }
        )
    return pd.DataFrame(rows)


def method_markdown(calibration: Calibration) -> str:
    """Which calibrator was kept, its parameters, why, and the candidates' validation scores."""
    parameters = "; ".join(
        f"{name} {', '.join(f'{number(v, digits=3)}' for v in values)}"
        for name, values in calibration.parameters.items()
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
                f"| {name} | {number(score.cv_nll)} | {percent(score.cv_ece, digits=2)} |"
                for name, score in calibration.candidates.items()
            ),
        ]
    lines += [
        "",
        f"Intervals: percentile bootstrap, {count(calibration.bootstrap_resamples)} resamples of the "
        f"{count(calibration.rows)} test rows (the change is paired: same resamples before and after).",
    ]
    return "\n".join(lines)


def review_markdown(calibration: Calibration) -> str:
    """The calibration stage's own review threshold, how it was chosen, and what it gives on
    validation and test (a threshold a person chose since leaves this as the stage made it)."""
    target = calibration.target_accuracy
    if calibration.review_threshold is None:
        return (
            "**The calibration stage's review threshold: none**: no confidence threshold reached "
            f"{percent(target, digits=0)} accuracy on the {calibration.validation_rows} validation rows."
        )
    return (
        f"**The calibration stage's review threshold, {percent(calibration.review_threshold)}**: the "
        "lowest confidence whose kept "
        f"validation rows reach {percent(target, digits=0)} accuracy (validation: "
        f"{percent(calibration.validation_coverage)} kept, "
        f"{percent(calibration.validation_accuracy, digits=2)} right). On the test split it keeps "
        f"**{percent(calibration.test_coverage)}** of the rows at "
        f"**{percent(calibration.test_accuracy, digits=2)}** accuracy; "
        'the rest are marked "needs review" in the Classify tab and the CSV output.'
    )


CALIBRATION_COLOURS = {"before": "#A0AEC0", "after": "#4C78A8"}


def reliability_figure(sides: dict[str, Sequence[Any]]) -> go.Figure:
    """Reliability diagram: per equal-width confidence bin, accuracy against mean confidence, one line
    per side ("before", "after": lists of `ReliabilityBin`); the diagonal is perfect calibration.
    Empty bins are left out; the hover gives each bin's rows."""
    figure = go.Figure(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"color": "#718096", "dash": "dot"}, name="perfect")
    )
    for side, bins in sides.items():
        filled = [b for b in bins if b.count]
        figure.add_trace(
            go.Scatter(
                x=[b.confidence for b in filled],
                y=[b.accuracy for b in filled],
                customdata=[[b.count, b.lower, b.upper] for b in filled],
                mode="lines+markers",
                name=side,
                line={"color": CALIBRATION_COLOURS.get(side)},
                hovertemplate="confidence %{customdata[1]:.2f}-%{customdata[2]:.2f}: %{customdata[0]} rows"
                "<br>mean confidence %{x:.3f}<br>accuracy %{y:.3f}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(
        **LAYOUT,
        title="Reliability: accuracy per confidence bin",
        xaxis={"title": "mean confidence in the bin", "range": [0, 1.02]},
        yaxis={"title": "accuracy in the bin", "range": [0, 1.02]},
        height=380,
    )
    return figure


def confidence_histogram_figure(sides: dict[str, Sequence[Any]]) -> go.Figure:
    """How many test rows fall in each confidence bin, per side (log scale: most crowd near 1)."""
    figure = go.Figure()
    for side, bins in sides.items():
        figure.add_trace(
            go.Bar(
                x=[(b.lower + b.upper) / 2 for b in bins],
                y=[b.count for b in bins],
                name=side,
                marker_color=CALIBRATION_COLOURS.get(side),
                hovertemplate="confidence %{x:.2f}: %{y} rows<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(
        **LAYOUT,
        title="Confidence histogram",
        barmode="group",
        xaxis={"title": "confidence (top class probability)", "range": [0, 1.02]},
        yaxis={"title": "test rows", "type": "log"},
        height=380,
    )
    return figure


def risk_coverage_figure(
    coverage: Sequence[float], risk: Sequence[float], review: tuple[float, float] | None = None
) -> go.Figure:
    """Error rate of the kept rows against the share kept (most confident first); `review` marks
    (coverage, risk) at the review threshold."""
    figure = go.Figure(
        go.Scatter(
            x=list(coverage),
            y=list(risk),
            mode="lines",
            name="risk",
            line={"color": CALIBRATION_COLOURS["after"]},
            hovertemplate="keep %{x:.1%} of rows: error rate %{y:.2%}<extra></extra>",
        )
    )
    if review is not None:
        figure.add_trace(
            go.Scatter(
                x=[review[0]],
                y=[review[1]],
                mode="markers+text",
                marker={"color": OUTCOME_COLOURS["wrong"], "size": 11, "symbol": "diamond"},
                text=["review threshold"],
                textposition="top left",
                name="review threshold",
                hovertemplate="at the review threshold: keep %{x:.1%}, error rate %{y:.2%}<extra></extra>",
            )
        )
    figure.update_layout(
        **LAYOUT,
        title="Risk-coverage: error rate of the most confident share",
        xaxis={"title": "coverage (share of test rows kept)", "tickformat": ".0%", "range": [0, 1.01]},
        yaxis={"title": "error rate of kept rows", "tickformat": ".0%", "rangemode": "tozero"},
        showlegend=False,
        height=380,
    )
    return figure


def card(run: Run, coming: bool) -> Card:
    """The Overview card: the calibrated test ECE against `ECE_LIMIT` and its noise level, and how many
    rows need review."""
    report = run.get(PART)
    key = PART.name
    if report is None:
        return absent_card(run, key, TITLE, key, "calibration report", key, coming)
    ece = report.after.ece
    headline = (
        f"Calibrated test ECE **{interval(ece.value, ece.low, ece.high, digits=2)}** ({report.method})."
    )
    rule = run.fact(REVIEW)
    if rule is not None and rule.threshold is not None:
        kept = kept_of(run.predictions, rule.threshold)
        headline += (
            f" Below confidence {percent(rule.threshold)} a prediction needs review: "
            f"{percent(1 - kept.coverage)} of the test rows."
        )
    noise = calibrated_ece_noise(run.predictions["confidence"].to_numpy(dtype=float))
    floor = max(ECE_LIMIT, noise)
    verdict = LOOK if ece.low > floor else FINE
    rule = (
        f"look when the ECE's interval lies above {percent(ECE_LIMIT, digits=0)} and above "
        f"{percent(noise)}, what a perfectly calibrated model shows on {count(len(run.predictions))} rows"
    )
    return Card(key, TITLE, headline, verdict, rule, key, "Open calibration")


def report_section(run: Run) -> str:
    """The HTML report's section: the metrics table and the reliability diagram."""
    report = run.get(PART)
    if report is None:
        return section(TITLE, markdown_section(part_notice(run, PART.name, "calibration report")))
    sides = {"before": report.before.bins, "after": report.after.bins}
    return section(
        TITLE, table_html(metrics_table(report)), figure_html(reliability_figure(sides), "reliability")
    )


def model_card_section(run: Run) -> str | None:
    """The model card's section on calibration (None without the part)."""
    report = run.get(PART)
    if report is None:
        return None
    if report.method == "none":
        kept = f"No calibration is folded into the model's probabilities: {report.reason}."
    else:
        named = "; ".join(
            f"{name} {', '.join(number(v, digits=3) for v in values)}"
            for name, values in report.parameters.items()
        )
        kept = (
            f"The probabilities are calibrated by {report.method} scaling ({named}),\n"
            f"fitted on the validation split and kept because {report.reason}. It is folded into the last\n"
            "linear layer, so a plain `pipeline` returns the calibrated probabilities."
        )
    table = markdown_table(
        ["metric", "before", "after"],
        [
            [name, *(calibration_metric(key, getattr(side, key)) for side in (report.before, report.after))]
            for key, name in CARD_METRIC_NAMES.items()
        ],
    )
    lines = [
        f"## {TITLE}",
        "",
        f"{kept} On the {count(report.rows)} test rows, with percentile-bootstrap 95%\n"
        f"intervals ({count(report.bootstrap_resamples)} resamples; before: the raw logits):",
        "",
        table,
    ]
    rule = run.fact(REVIEW)
    if rule is not None and rule.threshold is not None:
        kept = kept_of(run.predictions, rule.threshold)
        accuracy = "" if kept.accuracy is None else f", at {percent(kept.accuracy, digits=2)} accuracy"
        chosen = (
            f"It was set by {literal(rule.set_by)} at {literal(rule.set_at)}"
            if rule.set_by is not None
            else "It is the lowest confidence whose kept validation rows reach\n"
            f"{percent(report.target_accuracy, digits=0)} accuracy"
        )
        lines += [
            "",
            "Review threshold: predictions below a confidence of "
            f"{number(rule.threshold, digits=3)} should\nbe checked by a person. {chosen}; on the test "
            f"split it keeps\n{percent(kept.coverage)} of the rows{accuracy}.",
        ]
    return "\n".join(lines)
