"""What a run's parts say, as tables and Markdown: shared by the app's tabs and the static report.

Plain functions of parts (no Gradio), so `agnews.ui` lays them out and `agnews.present.report`
writes them into one HTML file from the same code: a number reads the same in both.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from agnews.formatting import interval, number, percent, points, ratio, setting, significant, span
from agnews.labels import LABELS
from agnews.present.figures import TAG_COLUMN
from agnews.rundir.parts import (
    DatasetWarnings,
    SliceReport,
)
from agnews.rundir.run import Run


def summary_table(test: dict[str, Any], baseline: dict[str, Any] | None) -> pd.DataFrame:
    """Accuracy and F1 of the fine-tuned model and, when the run has it, the frozen-feature baseline."""
    rows = [("fine-tuned", test)]
    if baseline is not None:
        rows.append(("frozen base + logistic regression", baseline))
    return pd.DataFrame(
        {
            "model": [name for name, _ in rows],
            "accuracy": [round(m["accuracy"], 4) for _, m in rows],
            "weighted F1": [round(m["f1_weighted"], 4) if "f1_weighted" in m else None for _, m in rows],
            "macro F1": [round(m["f1_macro"], 4) for _, m in rows],
            "test rows": [m.get("rows") for _, m in rows],
        }
    )


def per_class_table(test: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name in LABELS:
        scores = test["per_class"][name]
        rows.append(
            {
                "class": name,
                "precision": round(scores["precision"], 4),
                "recall": round(scores["recall"], 4),
                "F1": round(scores["f1"], 4),
                "support": scores["support"],
            }
        )
    return pd.DataFrame(rows)


def mistakes(predictions: pd.DataFrame) -> pd.DataFrame:
    """Rows whose prediction differs from the label, by confidence (highest first), ties by row id."""
    wrong = predictions[predictions["label"] != predictions["pred"]]
    return wrong.sort_values(["confidence", "row_id"], ascending=[False, True], kind="stable")


def with_tags(rows: pd.DataFrame, run: Run) -> pd.DataFrame:
    """`rows` (the predictions, or a frame aligned with them row by row) with a boolean column
    `tag_NAME` per smart tag of the run's `slices` part (aligned on load); as is without the part."""
    if run.slice_tags is None:
        return rows
    tags = run.slice_tags.drop(columns="row_id").add_prefix(TAG_COLUMN).reset_index(drop=True)
    return pd.concat([rows.reset_index(drop=True), tags], axis=1)


def map_points(run: Run) -> pd.DataFrame | None:
    """Predictions with the map coordinates as extra columns, or None when the run has no map.

    The run stores them aligned row by row; a map whose row ids do not match (e.g. predictions
    re-written on other test rows) is not shown rather than shown wrong.
    """
    if run.map_coords is None:
        return None
    predictions = run.predictions.reset_index(drop=True)
    coords = run.map_coords.reset_index(drop=True)
    if not predictions["row_id"].equals(coords["row_id"]):
        run.warnings.append(f"{run.path}: map rows do not match the predictions; map not shown")
        return None
    return with_tags(pd.concat([predictions, coords.drop(columns="row_id")], axis=1), run)


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
            "slice": numbers["slice"],
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


def warnings_markdown(checks: DatasetWarnings) -> str:
    """The warnings raised, then every check's numbers (a check that does not warn says why not)."""
    limits = checks.thresholds
    lines = ["### Dataset warnings"]
    lines += [f"- ⚠ {message}" for message in checks.messages] or ["- No warnings."]
    ratios = ", ".join(
        f"{b.split} {ratio(b.ratio)}" if b.ratio is not None else f"{b.split}: a class has no rows"
        for b in checks.class_balance
    )
    length, overlap = checks.length, checks.overlap
    lines += [
        "",
        f"- **Class balance** (largest/smallest class; warns above {setting(limits['imbalance_ratio'])}x): "
        f"{ratios}.",
        f"- **Length** (words per text, train vs test; warns at KS D ≥ {setting(limits['length_ks_d'])}): "
        f"median {setting(length.train_median_words)} vs {setting(length.test_median_words)}, mean "
        f"{number(length.train_mean_words, 1)} vs {number(length.test_mean_words, 1)}; two-sample KS "
        f"D = {number(length.ks_statistic, 3)}, p = {significant(length.p_value, 2)}.",
        f"- **Near-duplicates** (a training row at TF-IDF cosine ≥ {setting(overlap.cosine)}; warns from "
        f"{percent(limits['overlap_share'], 0)} of test rows): "
        f"{overlap.test_rows} test rows ({percent(overlap.share)}), "
        f"{overlap.different_label} of them with another label than their training twin; "
        f"{overlap.exact_dropped} exact copies were dropped from training before it.",
    ]
    return "\n".join(lines)


def test_accuracy(run: Run) -> tuple[str, bool]:
    """The run's test accuracy as text, with its 95% Wilson interval when the run has the `slices`
    part (its first slice is all rows); and whether the interval is there."""
    test = run.metrics.test
    all_rows = run.slice_report.slices[0] if run.slice_report is not None else None
    if all_rows is None:
        return percent(test.accuracy, 2), False
    return interval(test.accuracy, all_rows.low, all_rows.high, digits=2), True
