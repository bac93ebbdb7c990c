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


def calibrated_ece_noise(confidence: np.ndarray, bins: int = 15, draws: int = 200, seed: int = 0) -> float:
    """The 95th percentile of the top-label ECE a perfectly calibrated model would show on these rows.

    Parameters
    ----------
    confidence : np.ndarray
        (rows,) the probability of each row's predicted class, in [0, 1].
    bins : int
        Equal-width confidence bins, as the ECE is measured with.
    draws : int
        Simulated test sets: each row is right with probability equal to its confidence.
    seed : int
        Seed of the draws (the same rows always give the same level).

    Returns
    -------
    float
        The level below which a measured ECE is what finite rows alone produce: on a hundred rows
        it is several points, on thousands a fraction of one, so no fixed ECE limit fits every run.
    """
    bin_of = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    rows = len(confidence)
    right = np.random.default_rng(seed).random((draws, rows)) < confidence
    errors = np.zeros(draws)
    for b in np.unique(bin_of):
        members = bin_of == b
        gap = right[:, members].mean(axis=1) - confidence[members].mean()
        errors += np.abs(gap) * members.sum() / rows
    return float(np.percentile(errors, 95))
