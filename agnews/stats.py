"""Statistics every analysis reports its numbers with."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def wilson_interval(correct: int, rows: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (an accuracy, a flip rate).

    Parameters
    ----------
    correct : int
        Successes, 0 to `rows`.
    rows : int
        Trials, at least 1.

    Returns
    -------
    tuple of float
        (low, high), within [0, 1]. Unlike the normal approximation it stays sound at small counts
        and near 0 or 1, where slices and flip rates often are.
    """
    from scipy.stats import binomtest

    interval = binomtest(correct, rows).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)


def word_counts(texts: Sequence[str]) -> np.ndarray:
    """Whitespace-separated words per text, shape (texts,): the unit every length figure uses."""
    return np.fromiter((len(text.split()) for text in texts), dtype=np.int64, count=len(texts))
