"""The dataset checks stage: class balance, the train/test length shift, train/test near-duplicates
(TF-IDF space, `agnews.training.tfidf_neighbours`) and the test tokens the run's tokenizer does not
know. Reads the `data_stats`, `predictions` and `model` parts and the training split; writes the
`dataset_checks` part."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agnews.analyses.dataset_checks.numeric import dataset_warnings, unknown_tokens
from agnews.analyses.dataset_checks.schema import PART
from agnews.stats import word_counts
from agnews.training.tfidf_neighbours import NEAR_DUPLICATE_COSINE

if TYPE_CHECKING:
    from agnews.training.context import StageContext


def dataset_checks_stage(context: StageContext) -> None:
    """Check the training and test splits against each other and write the checks."""
    predictions = context.predictions()
    texts = predictions["text"].tolist()
    labels = predictions["label"].to_numpy()
    train = context.data().splits["train"]
    train_texts, train_labels = list(train["text"]), np.asarray(train["label"])
    classes = context.classes()
    nearest = context.nearest_training_rows(1)
    pairs = pd.DataFrame(
        {
            "row_id": predictions["row_id"].to_numpy(),
            "text": texts,
            "label": [classes[i] for i in labels],
            "train_text": [train_texts[i] for i in nearest.index[:, 0]],
            "train_label": [classes[i] for i in train_labels[nearest.index[:, 0]]],
            "similarity": nearest.similarity[:, 0],
        }
    )
    tokenizer = context.tokenizer()
    token_ids = tokenizer(
        texts, add_special_tokens=False, truncation=True, max_length=context.config.max_length
    )
    checks = dataset_warnings(
        context.read("data_stats"),
        classes,
        word_counts(train_texts),
        word_counts(texts),
        pairs,
        NEAR_DUPLICATE_COSINE,
        unknown_tokens(token_ids["input_ids"], tokenizer.unk_token_id, tokenizer.unk_token),
    )
    context.staged.write(PART.name, checks)
