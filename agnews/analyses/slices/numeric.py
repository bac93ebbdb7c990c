"""The numbers behind the slices: word counts and their cut-offs, the agency tag, conflicting
neighbours and the accuracy (with its Wilson interval) on a tag's rows. Pure functions of arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from agnews.analyses.slices.schema import LengthCutoffs, SliceAccuracy
from agnews.stats import wilson_interval
from agnews.text import AGENCY_MARKER

ALL_ROWS = "all rows"
# Word-count percentiles of the training split below / above which a text counts as short / long:
# the training texts define what is typical, so a test row's tag does not depend on the test split.
SHORT_PERCENTILE, LONG_PERCENTILE = 10, 90


def length_cutoffs(train_words: np.ndarray) -> LengthCutoffs:
    """Short / long cut-offs from the training split's word-count percentiles (`train_words`: (rows,))."""
    if len(train_words) == 0:
        raise ValueError("no training rows to choose the length cut-offs from")
    short, long = np.percentile(train_words, [SHORT_PERCENTILE, LONG_PERCENTILE])
    return LengthCutoffs(
        short_max_words=int(np.floor(short)),
        long_min_words=int(np.ceil(long)),
        rule=f"training split's {SHORT_PERCENTILE}th / {LONG_PERCENTILE}th percentile of words per text",
    )


def agency_tags(texts: Sequence[str]) -> np.ndarray:
    """Whether each text carries a news-agency marker such as "(Reuters)" or "AP - ", shape (texts,)."""
    return np.array([AGENCY_MARKER.search(text) is not None for text in texts], dtype=bool)


def conflicting_neighbours(neighbour_labels: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Whether most (more than half) of a row's neighbours carry a label other than the row's own.

    `neighbour_labels`: (rows, k) class ids; `labels`: (rows,). Returns (rows,) booleans.
    """
    other = (neighbour_labels != labels[:, None]).sum(axis=1)
    return other * 2 > neighbour_labels.shape[1]


def slice_accuracy(name: str, correct: np.ndarray) -> SliceAccuracy:
    """Accuracy of the rows whose correctness is `correct` ((rows,) booleans), with its 95% Wilson
    interval."""
    rows, right = len(correct), int(correct.sum())
    if rows == 0:
        return SliceAccuracy(name, 0, 0, None, None, None)
    low, high = wilson_interval(right, rows)
    return SliceAccuracy(name, rows, right, right / rows, low, high)


def slice_table(tags: pd.DataFrame, correct: np.ndarray) -> list[SliceAccuracy]:
    """ "all rows" first, then each boolean tag column of `tags` (rows aligned with `correct`)."""
    table = [slice_accuracy(ALL_ROWS, correct)]
    table += [slice_accuracy(str(tag), correct[tags[tag].to_numpy()]) for tag in tags.columns]
    return table
