"""Statistics every analysis reports its numbers with."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# The standard normal's 97.5th percentile (`scipy.stats.norm.ppf(0.975)`): a 95% two-sided interval.
WILSON_Z = 1.959963984540054


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

    Written out rather than taken from `scipy.stats.binomtest(...).proportion_ci(method="wilson")`,
    which gives the same bounds (a test compares them): the Overview's accuracy card needs one before
    the page opens, and importing `scipy.stats` there costs the start-up a visible share.
    """
    share = correct / rows
    spread = WILSON_Z**2 / rows
    centre = (share + spread / 2) / (1 + spread)
    half = WILSON_Z * math.sqrt(share * (1 - share) / rows + spread / (4 * rows)) / (1 + spread)
    return max(0.0, centre - half), min(1.0, centre + half)


def word_counts(texts: Sequence[str]) -> np.ndarray:
    """Whitespace-separated words per text, shape (texts,): the unit every length figure uses."""
    return np.fromiter((len(text.split()) for text in texts), dtype=np.int64, count=len(texts))
