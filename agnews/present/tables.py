"""What a run's parts say, as tables and Markdown: shared by the app's tabs and the static report.

Plain functions of parts (no Gradio), so `agnews.ui` lays them out and `agnews.present.report`
writes them into one HTML file from the same code: a number reads the same in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from agnews.formatting import interval
from agnews.present.figures import TAG_COLUMN
from agnews.present.glossary import glossed
from agnews.rundir.facts import MAP_COORDINATES, TEST_ROW_TAGS
from agnews.rundir.run import Run
from agnews.stats import wilson_interval

# Example texts offered (the page's Classify tab, the card's widget): two per class for four
# classes, one each for up to this many.
EXAMPLES = 8


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


def per_class_table(test: dict[str, Any], classes: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support of each of `classes` (the run's, in class-id order)."""
    rows = []
    for name in classes:
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


def metrics_glosses() -> str:
    """The glosses of the terms `summary_table` and `per_class_table` show, for under them (the
    baseline's row too: a live run gains it after the page is drawn)."""
    return glossed(
        "accuracy",
        "weighted F1",
        "macro F1",
        "frozen base + logistic regression",
        "precision",
        "recall",
        "F1",
        "support",
    )


def mistakes(predictions: pd.DataFrame) -> pd.DataFrame:
    """Rows whose prediction differs from the label, by confidence (highest first), ties by row id."""
    wrong = predictions[predictions["label"] != predictions["pred"]]
    return wrong.sort_values(["confidence", "row_id"], ascending=[False, True], kind="stable")


def with_tags(rows: pd.DataFrame, run: Run) -> pd.DataFrame:
    """`rows` (the predictions, or a frame aligned with them row by row) with a boolean column
    `tag_NAME` per tag of the test rows (`TEST_ROW_TAGS`, aligned on load); as is without them."""
    tags = run.fact(TEST_ROW_TAGS)
    if tags is None:
        return rows
    named = tags.add_prefix(TAG_COLUMN).reset_index(drop=True)
    return pd.concat([rows.reset_index(drop=True), named], axis=1)


def row_tags(run: Run) -> list[str]:
    """The tags of the test rows the run has (`TEST_ROW_TAGS`), in their order; none without them."""
    tags = run.fact(TEST_ROW_TAGS)
    return [] if tags is None else [str(tag) for tag in tags.columns]


def map_points(run: Run) -> pd.DataFrame | None:
    """Predictions with the map coordinates as extra columns, or None when the run has no map.

    The run stores them aligned row by row; a map whose row ids do not match (e.g. predictions
    re-written on other test rows) is not shown rather than shown wrong.
    """
    stored = run.fact(MAP_COORDINATES)
    if stored is None:
        return None
    predictions = run.predictions.reset_index(drop=True)
    coords = stored.reset_index(drop=True)
    if not predictions["row_id"].equals(coords["row_id"]):
        run.warnings.append(f"{run.path}: map rows do not match the predictions; map not shown")
        return None
    return with_tags(pd.concat([predictions, coords.drop(columns="row_id")], axis=1), run)


def test_accuracy(run: Run) -> str:
    """The run's test accuracy as text, with its 95% Wilson interval over the test rows."""
    test = run.metrics.test
    low, high = wilson_interval(round(test.accuracy * test.rows), test.rows)
    return interval(test.accuracy, low, high, digits=2)


def example_texts(predictions: pd.DataFrame, per_class: int | None = None) -> list[str]:
    """The run's own test texts to try: per true class, the most confidently correct rows, in class
    order; about EXAMPLES of them (`per_class` each, default EXAMPLES // classes, at least one).
    With more classes than EXAMPLES, the classes whose best example is the most confident are chosen
    (ties by row id): deterministic, and each one a clear case of its class.

    Confidently correct examples show what each class looks like to the model; mistakes are one tab
    away (Errors).
    """
    correct = predictions[predictions["label"] == predictions["pred"]]
    ranked = correct.sort_values(["label", "confidence", "row_id"], ascending=[True, False, True])
    classes = ranked["label"].nunique()
    per_class = per_class or max(1, EXAMPLES // max(classes, 1))
    if classes > EXAMPLES:
        best = ranked.groupby("label").head(1).sort_values(["confidence", "row_id"], ascending=[False, True])
        ranked = ranked[ranked["label"].isin(best["label"].head(EXAMPLES))]
    return ranked.groupby("label").head(per_class)["text"].tolist()
