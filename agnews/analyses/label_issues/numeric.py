"""The label-issue numbers: cleanlab's verdict on given labels from held-out probabilities, and the
held-out probabilities of training rows from a cheap text classifier (each fold predicted by a model
that never saw it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agnews.analyses.label_issues.schema import TEST_COLUMNS, TRAIN_COLUMNS
from agnews.rundir.parts import class_count, prob_columns
from agnews.text import text_hash

FOLDS = 5
# The out-of-fold classifier's regularisation (inverse strength). Chosen by out-of-fold accuracy on
# the quick run's training rows (never test rows); the features are L2-normalised blocks, so one C
# serves both.
LOGISTIC_C = 3.0


def label_issue_table(labels: np.ndarray, probs: np.ndarray) -> pd.DataFrame:
    """Which given labels are likely wrong, by cleanlab's confident learning.

    Parameters
    ----------
    labels : np.ndarray, shape (N,)
        The given class ids, 0 to K-1.
    probs : np.ndarray, shape (N, K)
        Out-of-sample class probabilities for the same rows, in the same order (K >= 2 classes).

    Returns
    -------
    pd.DataFrame, N rows in the input order
        `label` (given), `suggested` (argmax of `probs`), `quality` (cleanlab's self-confidence label
        quality, 0 to 1: low means the given label is implausible) and `flagged` (bool: cleanlab's
        `find_label_issues` with its defaults, `prune_by_noise_rate`, which its documentation
        benchmarks).

    Note
    ----
    `probs` must come from a model that never saw these rows' labels (held-out predictions, or
    out-of-fold ones for training rows); a model that trained on a wrong label has learned it and
    will not expose it.
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    labels = np.asarray(labels, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != len(labels) or probs.shape[1] < 2:
        raise ValueError(f"probabilities of shape {probs.shape}; expected ({len(labels)}, classes >= 2)")
    if len(labels) and not 0 <= labels.min() <= labels.max() < probs.shape[1]:
        raise ValueError(f"class ids {labels.min()}..{labels.max()}; expected 0-{probs.shape[1] - 1}")
    return pd.DataFrame(
        {
            "label": labels,
            "suggested": probs.argmax(axis=1).astype(np.int64),
            "quality": get_label_quality_scores(labels, probs).astype(np.float64),
            "flagged": find_label_issues(labels, probs, n_jobs=1),
        }
    )


def predictions_label_issues(predictions: pd.DataFrame) -> pd.DataFrame:
    """The test label-issue table of a run's predictions (same rows, same order)."""
    probabilities = predictions[list(prob_columns(class_count(predictions)))].to_numpy()
    table = label_issue_table(predictions["label"].to_numpy(), probabilities)
    table.insert(0, "row_id", predictions["row_id"].to_numpy())
    return table[list(TEST_COLUMNS)]


def held_out_probabilities(
    texts: list[str], labels: np.ndarray, vectors: np.ndarray | None, *, classes: int, folds: int, seed: int
) -> np.ndarray:
    """Class probabilities ((rows, `classes`)) of each row from a classifier trained on the other
    folds (stratified); every class needs `folds` rows, so that each fold's classifier knows them all.

    TF-IDF is fitted inside each fold's pipeline, so nothing about a held-out row (not even its words'
    document frequencies) reaches the model that scores it. `vectors` (one row per text, or None)
    are fixed features made without labels, appended L2-normalised.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    counts = np.bincount(labels, minlength=classes)
    if counts.min() < folds:
        raise ValueError(
            f"{folds}-fold out-of-fold probabilities need at least {folds} training rows per class; "
            f"the smallest class, id {counts.argmin()}, has {counts.min()}"
        )
    frame = pd.DataFrame({"text": texts})
    blocks: list[tuple[str, object, object]] = [
        ("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True), "text")
    ]
    if vectors is not None:
        columns = [f"v{i}" for i in range(vectors.shape[1])]
        frame = pd.concat([frame, pd.DataFrame(vectors.astype(np.float64), columns=columns)], axis=1)
        blocks.append(("vectors", Normalizer(), columns))
    classifier = make_pipeline(
        ColumnTransformer(blocks), LogisticRegression(C=LOGISTIC_C, max_iter=2000, random_state=seed)
    )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(classifier, frame, labels, cv=splitter, method="predict_proba")


def train_label_issues(
    texts: list[str], labels: np.ndarray, vectors: np.ndarray | None, *, classes: int, folds: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The training label-issue table (rows keyed by `text_hash`) and the held-out probabilities."""
    labels = np.asarray(labels, dtype=np.int64)
    probs = held_out_probabilities(texts, labels, vectors, classes=classes, folds=folds, seed=seed)
    table = label_issue_table(labels, probs)
    table.insert(0, "text", texts)
    table.insert(0, "text_hash", [text_hash(text) for text in texts])
    return table[list(TRAIN_COLUMNS)], probs
