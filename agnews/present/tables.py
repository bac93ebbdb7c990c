"""What a run's parts say, as tables and Markdown: shared by the app's tabs and the static report.

Plain functions of parts (no Gradio), so `agnews.ui` lays them out and `agnews.present.report`
writes them into one HTML file from the same code: a number reads the same in both.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import pandas as pd

from agnews.formatting import calibration_metric, interval, percent, points, span
from agnews.labels import LABELS
from agnews.present.figures import TAG_COLUMN
from agnews.present.markup import literal
from agnews.present.paths import shown_text
from agnews.rundir.parts import (
    Calibration,
    CrossDomainMetrics,
    DatasetWarnings,
    DomainScores,
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


METRIC_NAMES = {
    "ece": "top-label ECE (15 equal-width bins)",
    "adaptive_ece": "adaptive ECE (15 equal-mass bins)",
    "nll": "NLL",
    "brier": "Brier score",
}


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


def _named(rows: pd.DataFrame) -> pd.DataFrame:
    """Class ids as names, sorted by label quality (lowest first)."""
    rows = rows.sort_values(["quality"], kind="stable")
    return rows.assign(
        given=[LABELS[i] for i in rows["label"]], suggested=[LABELS[i] for i in rows["suggested"]]
    )


def flagged_test_rows(run: Run) -> pd.DataFrame:
    """Flagged test rows with their text: row_id, text, given, suggested, quality."""
    issues = run.label_issues_test
    if issues is None:
        raise ValueError(f"{run.path}: no label_issues_test part")
    rows = issues.assign(text=run.predictions["text"].to_numpy())  # row-aligned (checked on load)
    return _named(rows[rows["flagged"]])[["row_id", "text", "given", "suggested", "quality"]]


def flagged_train_rows(run: Run) -> pd.DataFrame:
    """Flagged training rows: text_hash, text, given, suggested, quality (the export's columns)."""
    issues = run.label_issues_train
    if issues is None:
        raise ValueError(f"{run.path}: no label_issues_train part")
    return _named(issues[issues["flagged"]])[["text_hash", "text", "given", "suggested", "quality"]]


def test_summary(run: Run, rows: pd.DataFrame) -> str:
    total = len(run.predictions)
    return (
        f"**{len(rows)} of {total} test rows** ({len(rows) / total:.1%}) are likely mislabelled: cleanlab "
        "on the fine-tuned model's test probabilities (it never trained on these rows). The suggested "
        "label is the model's prediction."
    )


def train_summary(run: Run) -> str:
    info = run.train_label_issues_info
    if info is None:
        return ""
    return (
        f"**{info.flagged} of {info.rows} training rows** ({info.flagged / info.rows:.1%}) are likely "
        f"mislabelled: {info.method}. Out-of-fold accuracy {info.out_of_fold_accuracy:.1%}; made in "
        f"{info.seconds.get('total', 0):.0f} s. The export is the file `agnews train "
        "--drop-label-issues FILE` takes."
    )


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


def cross_domain_summary(metrics: CrossDomainMetrics) -> str:
    """What was scored: the file, its columns and map, the rows read, scored and skipped, and how
    (with the baseline, or why it was left out).

    The file's name, columns, label map and label values are the file's own: each is written as
    literal text (`agnews.present.markup`), and the file by its name only, never by the path it had
    on the machine that scored it (for an upload, a temporary folder of the server's).
    """
    skipped = [literal(phrase) for phrase in metrics.skipped()]
    if metrics.baseline is None:
        why = literal(shown_text(metrics.baseline_left_out or ""))
        baseline = (
            f"No TF-IDF baseline: {why}. The model was scored alone; where the run's training data is on "
            "the machine, `agnews cross-domain ... --data FOLDER` adds the baseline."
        )
    else:
        baseline = f"Baseline: {metrics.baseline_method} ({metrics.baseline_train_rows:,} rows)."
    return "\n\n".join(
        [
            f"**{metrics.rows:,}** of {metrics.rows_read:,} rows of the file "
            f"“{literal(PurePath(metrics.source).name)}” scored on {', '.join(metrics.mapped_classes)}"
            + (f"; skipped: {', '.join(skipped)}." if skipped else "; none skipped."),
            f"Text from {', '.join(f'“{literal(c)}”' for c in metrics.text_columns)}, labels from "
            f"“{literal(metrics.label_column)}”, mapped by “{literal(metrics.label_map)}”. Both classifiers "
            "choose among all four classes: a prediction outside the mapped ones counts as wrong; macro "
            "F1 is over the mapped classes.",
            f"{baseline} File SHA-256 `{metrics.source_sha256[:16]}…`; made in "
            f"{metrics.seconds['total']:.1f} s.",
        ]
    )


def scores_table(metrics: CrossDomainMetrics) -> pd.DataFrame:
    """Fine-tuned model and TF-IDF baseline side by side (a column each, narrow enough for a side
    panel): accuracy, macro F1, and F1 of each mapped class. No baseline column where it was left out."""

    def column(scores: DomainScores) -> list[float]:
        per_class = [scores.per_class[name].f1 for name in metrics.mapped_classes]
        return [round(value, 4) for value in (scores.accuracy, scores.f1_macro, *per_class)]

    table = pd.DataFrame(
        {
            "score": ["accuracy", "macro F1", *(f"F1 {name}" for name in metrics.mapped_classes)],
            "fine-tuned": column(metrics.model),
        }
    )
    if metrics.baseline is not None:
        table["TF-IDF baseline"] = column(metrics.baseline)
    return table


def warnings_markdown(checks: DatasetWarnings) -> str:
    """The warnings raised, then every check's numbers (a check that does not warn says why not)."""
    limits = checks.thresholds
    lines = ["### Dataset warnings"]
    lines += [f"- ⚠ {message}" for message in checks.messages] or ["- No warnings."]
    ratios = ", ".join(
        f"{b.split} {b.ratio:.2f}x" if b.ratio is not None else f"{b.split}: a class has no rows"
        for b in checks.class_balance
    )
    length, overlap = checks.length, checks.overlap
    lines += [
        "",
        f"- **Class balance** (largest/smallest class; warns above {limits['imbalance_ratio']:g}x): "
        f"{ratios}.",
        f"- **Length** (words per text, train vs test; warns at KS D ≥ {limits['length_ks_d']:g}): "
        f"median {length.train_median_words:g} vs {length.test_median_words:g}, mean "
        f"{length.train_mean_words:.1f} vs {length.test_mean_words:.1f}; two-sample KS "
        f"D = {length.ks_statistic:.3f}, p = {length.p_value:.2g}.",
        f"- **Near-duplicates** (a training row at TF-IDF cosine ≥ {overlap.cosine:g}; warns from "
        f"{limits['overlap_share']:.0%} of test rows): {overlap.test_rows} test rows ({overlap.share:.1%}), "
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
