"""The evaluate stage: predict the test split with the run's model; write predictions and metrics.

Both parts come from one pass and are swapped into the run together, so they always agree. The
test split is only ever read here, never used to choose anything.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from agnews.rundir.parts import Metrics, TestMetrics, logit_columns, parse, prob_columns

if TYPE_CHECKING:
    from agnews.training.context import StageContext


def class_report(
    labels: np.ndarray, preds: np.ndarray, classes: Sequence[int], names: Sequence[str]
) -> dict[str, Any]:
    """sklearn's classification report over the class ids `classes` (keyed by their names in `names`,
    the run's classes); 0 where undefined.

    A prediction outside `classes` still counts against its row's class (recall), never for one.
    """
    from sklearn.metrics import classification_report

    return classification_report(
        labels,
        preds,
        labels=list(classes),
        target_names=[names[i] for i in classes],
        output_dict=True,
        zero_division=0,
    )


def per_class_scores(
    report: dict[str, Any], classes: Sequence[int], names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Precision, recall, F1 and support of each of `classes` from a `class_report`, by name."""
    return {
        names[i]: {
            "precision": report[names[i]]["precision"],
            "recall": report[names[i]]["recall"],
            "f1": report[names[i]]["f1-score"],
            "support": int(report[names[i]]["support"]),
        }
        for i in classes
    }


def compute_metrics(labels: np.ndarray, probs: np.ndarray, names: Sequence[str]) -> TestMetrics:
    """Accuracy, weighted/macro F1, per-class P/R/F1 and the confusion matrix (rows = true class),
    over the classes `names` (the run's, in class-id order; `probs` has a column per class)."""
    from sklearn.metrics import confusion_matrix

    preds = probs.argmax(axis=1)
    classes = list(range(len(names)))
    report = class_report(labels, preds, classes, names)
    return parse(
        TestMetrics,
        {
            "rows": len(labels),
            "accuracy": float(np.mean(preds == labels)) if len(labels) else 0.0,
            "f1_weighted": report["weighted avg"]["f1-score"],
            "f1_macro": report["macro avg"]["f1-score"],
            "per_class": per_class_scores(report, classes, names),
            "confusion_matrix": confusion_matrix(labels, preds, labels=classes).tolist(),
            "confusion_matrix_labels": list(names),
        },
        TestMetrics.__name__,
    )


def predictions_frame(
    row_ids: list[int],
    texts: list[str],
    labels: np.ndarray,
    probs: np.ndarray,
    logits: np.ndarray,
    names: Sequence[str],
) -> pd.DataFrame:
    """One row per test example: ids, text, true and predicted class (ids and names of `names`, the
    run's classes), probabilities and raw logits (kept so calibration can refit without folding twice)."""
    preds = probs.argmax(axis=1)
    frame = pd.DataFrame(
        {
            "row_id": np.asarray(row_ids, dtype=np.int64),
            "text": texts,
            "label": np.asarray(labels, dtype=np.int64),
            "label_name": [names[i] for i in labels],
            "pred": preds.astype(np.int64),
            "pred_name": [names[i] for i in preds],
            "confidence": probs.max(axis=1),
        }
    )
    for i, column in enumerate(prob_columns(len(names))):
        frame[column] = probs[:, i]
    for i, column in enumerate(logit_columns(len(names))):
        frame[column] = logits[:, i]
    return frame


def evaluate_stage(context: StageContext) -> None:
    """Predict the test rows the context names (the run's own test split, or `--data` and a cap)."""
    from agnews.training.data import content_hash

    edit = context.edit
    test = context.test_split()
    texts, labels = list(test["text"]), np.asarray(test["label"])
    started = time.perf_counter()
    inference = context.infer(texts, "test")
    seconds = time.perf_counter() - started
    names = context.classes()
    frame = predictions_frame(list(test["row_id"]), texts, labels, inference.probs, inference.logits, names)
    test_hash = content_hash(texts, labels.tolist())
    edit.write(
        "predictions",
        frame,
        identity=f"{edit.manifest.parts['model'].fingerprint[:16]}+{test_hash[:16]}",
    )
    metrics = Metrics(
        test=compute_metrics(labels, inference.probs, names),
        test_origin=context.test_origin(),
        test_hash=test_hash,
        seconds=round(seconds, 1),
        samples_per_second=round(len(texts) / max(seconds, 1e-9), 1),
    )
    edit.write("metrics", metrics)
    context.remember_cls(inference.cls)
