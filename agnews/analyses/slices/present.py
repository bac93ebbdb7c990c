"""How the slices part reads: the slice table (as numbers and as the tab lists it), its figure, the
tags' definitions, the Overview card, the report section and the model-card section. Plain functions
of the part (no Gradio), shared by the tab, the report and the card."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from agnews.analyses.slices.schema import PART, SliceReport
from agnews.formatting import count, interval, number, percent, points, seconds, setting, span
from agnews.present.cards import ANY, FINE, INFO, LOOK, Card, absent_card
from agnews.present.figures import LAYOUT
from agnews.present.glossary import tag_title
from agnews.present.markup import literal
from agnews.present.notices import part_notice
from agnews.present.sections import figure_html, markdown_section, markdown_table, section, table_html
from agnews.rundir.run import Run

TITLE = "Slices"
# The Overview's rule: look at a slice this far below all rows whose interval excludes all rows.
SLICE_GAP = 0.10
# Slices low by construction, so never "the weakest slice": those chosen by the model's own outputs (its
# confidence, its disagreement with the label), and rows whose nearest training rows carry another
# label (any classifier fitted to those training rows follows them: the data's ambiguity, measured).
LOW_BY_CONSTRUCTION = ("low_confidence", "likely_mislabelled", "conflicting_neighbours")


def slice_numbers(report: SliceReport) -> pd.DataFrame:
    """The slice table as numbers: slice, rows, accuracy, low, high (fractions; NaN for no rows)."""
    return pd.DataFrame(
        {
            "slice": [s.name for s in report.slices],
            "rows": [s.rows for s in report.slices],
            "accuracy": [s.accuracy for s in report.slices],
            "low": [s.low for s in report.slices],
            "high": [s.high for s in report.slices],
        }
    ).astype({"accuracy": float, "low": float, "high": float})


def slice_table(report: SliceReport) -> pd.DataFrame:
    """What the tab lists: slice, rows, accuracy, 95% interval, difference from all rows (points)."""
    numbers = slice_numbers(report)
    reference = numbers["accuracy"].iloc[0]

    return pd.DataFrame(
        {
            "slice": numbers["slice"].map(tag_title),
            "rows": numbers["rows"],
            "accuracy": numbers["accuracy"].map(percent),
            "95% interval": [
                span(low, high) for low, high in zip(numbers["low"], numbers["high"], strict=True)
            ],
            "vs all rows": [
                "" if i == 0 else points(acc - reference, digits=1)
                for i, acc in enumerate(numbers["accuracy"])
            ],
        }
    )


def slice_figure(table: pd.DataFrame) -> go.Figure:
    """Accuracy per slice with its 95% interval, against the first row's ("all rows") as a line.

    `table` has columns `slice`, `rows`, `accuracy`, `low`, `high` (fractions; accuracy NaN for a
    slice without rows, which is listed but not drawn).
    """
    reference = table.iloc[0]
    shown = table.iloc[1:].dropna(subset=["accuracy"])
    figure = go.Figure(
        go.Scatter(
            x=shown["accuracy"],
            y=[
                f"{tag_title(name)} ({rows})"
                for name, rows in zip(shown["slice"], shown["rows"], strict=True)
            ],
            ids=shown["slice"],  # what a click reports: the slice's tag (`agnews.ui.plot_events`)
            mode="markers",
            marker={"size": 10, "color": "#4C78A8"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": shown["high"] - shown["accuracy"],
                "arrayminus": shown["accuracy"] - shown["low"],
            },
            customdata=shown[["low", "high"]].to_numpy(),
            hovertemplate="%{y}: %{x:.1%} (95% interval %{customdata[0]:.1%} to %{customdata[1]:.1%})"
            "<extra></extra>",
            name="slice",
        )
    )
    figure.add_vline(
        x=reference["accuracy"],
        line={"color": "#E45756", "dash": "dash"},
        annotation_text=f"{reference['slice']} {percent(reference['accuracy'])}",
        annotation_position="top",
    )
    figure.update_layout(
        **LAYOUT,
        title="Accuracy per slice (95% Wilson interval; rows in brackets)",
        xaxis={"title": "accuracy", "tickformat": ".0%"},
        yaxis={"autorange": "reversed"},
        height=120 + 40 * max(len(shown), 1),
        showlegend=False,
    )
    return figure


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
        "likely_mislabelled": "flagged by cleanlab as likely mislabelled (the Label issues tab)",
    }
    lines = [f"- **{tag_title(tag)}**: {meaning.get(tag, '')}" for tag in report.tags]
    lines += left_out(report)
    return (
        f"Tags of the test rows ({report.train_rows} training rows compared; made in "
        f"{seconds(report.seconds)}):\n\n" + "\n".join(lines)
    )


def left_out(report: SliceReport) -> list[str]:
    """A Markdown line per tag left out of the table, with its reason (shown as text)."""
    return [
        f"- **{tag_title(tag)}**: not computed: {literal(why)}" for tag, why in report.not_computed.items()
    ]


def card(run: Run, coming: bool) -> Card:
    """The Overview card: the weakest slice the model did not choose itself, against all rows."""
    value = run.get(PART)
    if value is None:
        return absent_card(run, PART.name, "Weakest slice", PART.name, "slice table", PART.name, coming)
    overall, *tagged = value.report.slices
    scored = [s for s in tagged if s.accuracy is not None and s.rows and s.name not in LOW_BY_CONSTRUCTION]
    uncounted = ", ".join(map(tag_title, LOW_BY_CONSTRUCTION)).lower()
    rule = (
        f"look at a slice {number(SLICE_GAP * 100, 0)} points below all rows "
        f"whose interval excludes all rows (not counting {uncounted}, low by construction)"
    )
    absent = value.report.not_computed
    if absent:
        left_out = ", ".join(map(tag_title, absent)).lower()
        rule += f"; left out for this run, with the reason on the tab: {left_out}"
    if not scored or overall.accuracy is None:
        return Card(PART.name, "Weakest slice", "No slice has rows.", INFO, rule, PART.name, "Open slices")
    worst = min(scored, key=lambda s: s.accuracy)
    gap = worst.accuracy - overall.accuracy
    excluded = worst.high is not None and worst.high < overall.accuracy
    headline = (
        f"**{tag_title(worst.name)}**: {interval(worst.accuracy, worst.low, worst.high)} on "
        f"{count(worst.rows)} rows, {points(gap, digits=1)} against all rows."
    )
    return Card(
        PART.name,
        "Weakest slice",
        headline,
        LOOK if gap <= -SLICE_GAP and excluded else FINE,
        rule,
        "errors",
        f"Show mistakes tagged {tag_title(worst.name).lower()}",
        errors_filter=(ANY, ANY, worst.name),
    )


def report_section(run: Run) -> str:
    """The HTML report's section: the slice figure and table."""
    value = run.get(PART)
    if value is None:
        return section(TITLE, markdown_section(part_notice(run, PART.name, "slice table")))
    report = value.report
    return section(
        TITLE,
        figure_html(slice_figure(slice_numbers(report)), PART.name),
        table_html(slice_table(report)),
        markdown_section("\n".join(left_out(report))),
    )


def model_card_section(run: Run) -> str | None:
    """The model card's subsection of the results: accuracy per tag (None without the part)."""
    value = run.get(PART)
    if value is None:
        return None
    table = markdown_table(
        ["slice", "rows", "accuracy", "95% interval"],
        [
            [s.name, s.rows, "n/a", "n/a"]
            if s.accuracy is None
            else [s.name, s.rows, number(s.accuracy), span(s.low, s.high, as_percent=False, digits=4)]
            for s in value.report.slices
        ],
    )
    return "\n".join(
        [
            "### Accuracy by slice",
            "",
            f"Test rows grouped by tags the agnews `{PART.name}` stage gives them "
            "(short / long by word count, a",
            "news-agency marker, a near-duplicate or conflicting neighbours among the training rows, "
            "...; the",
            f"definitions are in the run's `{PART.files[1]}`), with 95% Wilson intervals:",
            "",
            table,
        ]
    )
