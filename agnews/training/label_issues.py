"""The label-issue stages: which test and training labels are likely wrong (cleanlab's confident learning).

Confident learning needs, for every row, class probabilities from a model that never saw that row's
label. On the test split the fine-tuned model is such a model (it never trained on test rows), so
the `label_issues_test` stage ranks the stored test probabilities directly. The fine-tuned model did
train on the training rows, so the `label_issues_train` stage gets out-of-fold probabilities instead:
a cheap classifier (logistic regression on TF-IDF features and the base model's mean-pooled sentence
vectors) trained k times, each time predicting the fold it did not see. In both, the suggested label
is the class the probabilities favour. `bench/label_noise.py` checks the test-split ranking on
injected noise with the same functions.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agnews.labels import LABELS
from agnews.rundir.parts import LABEL_ISSUE_COLUMNS, PROB_COLUMNS, TRAIN_LABEL_ISSUE_COLUMNS, TrainLabelIssues
from agnews.text import text_hash
from agnews.training.embed import base_mean_embeddings

if TYPE_CHECKING:
    from agnews.training.context import StageContext

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
        The given class ids, 0 to 3.
    probs : np.ndarray, shape (N, 4)
        Out-of-sample class probabilities for the same rows, in the same order.

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
    if probs.ndim != 2 or probs.shape != (len(labels), len(LABELS)):
        raise ValueError(f"probabilities of shape {probs.shape}; expected ({len(labels)}, {len(LABELS)})")
    return pd.DataFrame(
        {
            "label": labels,
            "suggested": probs.argmax(axis=1).astype(np.int64),
            "quality": get_label_quality_scores(labels, probs).astype(np.float64),
            "flagged": find_label_issues(labels, probs, n_jobs=1),
        }
    )


def predictions_label_issues(predictions: pd.DataFrame) -> pd.DataFrame:
    """The `label_issues_test` table of a run's predictions (same rows, same order)."""
    table = label_issue_table(predictions["label"].to_numpy(), predictions[list(PROB_COLUMNS)].to_numpy())
    table.insert(0, "row_id", predictions["row_id"].to_numpy())
    return table[list(LABEL_ISSUE_COLUMNS)]


def label_issues_stage(context: StageContext) -> None:
    """Flag likely mislabelled test rows from the stored test probabilities."""
    edit = context.staged
    table = predictions_label_issues(context.predictions())
    edit.write("label_issues_test", table)


def out_of_fold_probabilities(
    texts: list[str], labels: np.ndarray, vectors: np.ndarray | None, *, folds: int, seed: int
) -> np.ndarray:
    """Class probabilities of each row from a classifier trained on the other folds (stratified).

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

    counts = np.bincount(labels, minlength=len(LABELS))
    if counts.min() < folds:
        raise ValueError(
            f"{folds}-fold out-of-fold probabilities need at least {folds} training rows per class; "
            f"the smallest class has {counts.min()}"
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
    texts: list[str], labels: np.ndarray, vectors: np.ndarray | None, *, folds: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The `label_issues_train` table (rows keyed by `text_hash`) and the out-of-fold probabilities."""
    labels = np.asarray(labels, dtype=np.int64)
    probs = out_of_fold_probabilities(texts, labels, vectors, folds=folds, seed=seed)
    table = label_issue_table(labels, probs)
    table.insert(0, "text", texts)
    table.insert(0, "text_hash", [text_hash(text) for text in texts])
    return table[list(TRAIN_LABEL_ISSUE_COLUMNS)], probs


def train_label_issues_stage(context: StageContext, folds: int = FOLDS) -> None:
    """Flag likely mislabelled training rows from out-of-fold probabilities (see the module doc)."""
    edit, config = context.staged, context.config
    train = context.data().splits["train"]
    texts, labels = list(train["text"]), np.asarray(train["label"], dtype=np.int64)
    started = time.perf_counter()
    vectors = base_mean_embeddings(
        config.base_model,
        texts,
        batch_size=config.eval_batch_size,
        max_length=config.max_length,
        progress=context.progress,
    )
    embedded = time.perf_counter()
    table, probs = train_label_issues(texts, labels, vectors, folds=folds, seed=config.seed)
    finished = time.perf_counter()
    flagged = table[table["flagged"]]
    info = TrainLabelIssues(
        method=(
            f"logistic regression (C={LOGISTIC_C}) on word 1-2-gram TF-IDF and base-model mean-pooled "
            f"vectors, {folds}-fold stratified out-of-fold probabilities; cleanlab find_label_issues "
            "(prune by noise rate), self-confidence label quality"
        ),
        folds=folds,
        seed=config.seed,
        rows=len(table),
        flagged=len(flagged),
        flagged_by_label={name: int((flagged["label"] == i).sum()) for i, name in enumerate(LABELS)},
        out_of_fold_accuracy=float((probs.argmax(axis=1) == labels).mean()),
        seconds={
            "embed": round(embedded - started, 1),
            "out_of_fold": round(finished - embedded, 1),
            "total": round(finished - started, 1),
        },
    )
    edit.write("label_issues_train", table, info)
