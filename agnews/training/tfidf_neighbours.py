"""Each text's most similar training rows in TF-IDF space: the slices' near-duplicate and
conflicting-neighbour tags and the dataset checks' train/test overlap.

The space is TF-IDF fitted on the training texts, not the fine-tuned model's: fine-tuning pulls
every text of a class together (most test rows have a fine-tuned neighbour above 0.95 cosine), so
closeness there says what the model learnt, not what the data holds. TF-IDF also costs seconds on
two cores, where embedding the training split with the base model would cost minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SPACE = "TF-IDF (sublinear tf, English stop words removed) fitted on the training texts"
# TF-IDF cosine from which a training row counts as a near-duplicate of a test row. Chosen by reading
# the validation rows' most similar training rows (quick run's split): pairs at or above it were the
# same article reworded, pairs just below it different articles on one event or sharing a template.
NEAR_DUPLICATE_COSINE = 0.75


@dataclass(frozen=True)
class TrainNeighbours:
    """Each text's nearest training rows (cosine similarity, most similar first).

    `similarity`: (texts, k) float; `index`: (texts, k) positions in the training split.
    """

    similarity: np.ndarray
    index: np.ndarray


def train_neighbours(train_texts: Sequence[str], texts: Sequence[str], k: int) -> TrainNeighbours:
    """The `k` most similar training texts of each text, by cosine of TF-IDF vectors fitted on training."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(train_texts))
    if k == 0:
        raise ValueError("no training rows to compare the test rows with")
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", dtype=np.float32)
    train = vectorizer.fit_transform(train_texts)
    search = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(train)
    distance, index = search.kneighbors(vectorizer.transform(texts))
    return TrainNeighbours(similarity=1.0 - distance, index=index)
