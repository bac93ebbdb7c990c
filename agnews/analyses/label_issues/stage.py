"""The label-issue stages: which test and training labels are likely wrong (cleanlab's confident
learning).

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

from agnews.analyses.label_issues.numeric import (
    FOLDS,
    LOGISTIC_C,
    predictions_label_issues,
    train_label_issues,
)
from agnews.analyses.label_issues.schema import TEST_PART, TRAIN_PART, TrainLabelIssues
from agnews.training.embed import base_mean_embeddings

if TYPE_CHECKING:
    from agnews.training.context import StageContext


def label_issues_test_stage(context: StageContext) -> None:
    """Flag likely mislabelled test rows from the stored test probabilities."""
    edit = context.staged
    table = predictions_label_issues(context.predictions())
    edit.write(TEST_PART.name, table)


def label_issues_train_stage(context: StageContext, folds: int = FOLDS) -> None:
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
    classes = context.classes()
    table, probs = train_label_issues(
        texts, labels, vectors, classes=len(classes), folds=folds, seed=config.seed
    )
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
        flagged_by_label={name: int((flagged["label"] == i).sum()) for i, name in enumerate(classes)},
        out_of_fold_accuracy=float((probs.argmax(axis=1) == labels).mean()),
        seconds={
            "embed": round(embedded - started, 1),
            "out_of_fold": round(finished - embedded, 1),
            "total": round(finished - started, 1),
        },
    )
    edit.write(TRAIN_PART.name, table, info)
