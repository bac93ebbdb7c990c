"""What a review threshold keeps: the rows whose confidence is at or above it, and how many of them
are right. One rule for the stage (the threshold chosen on validation, shown on test) and the tab's
slider (any threshold, on the stored test predictions), so both count the same rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Kept:
    """At `threshold`: `rows` in all, `kept` of them at or above it, `right` of those correct."""

    threshold: float
    rows: int
    kept: int
    right: int

    @property
    def coverage(self) -> float:
        """The share of rows kept for automatic use (0 for no rows)."""
        return self.kept / self.rows if self.rows else 0.0

    @property
    def accuracy(self) -> float | None:
        """The accuracy of the kept rows; None when none is kept."""
        return self.right / self.kept if self.kept else None


def kept_at(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> Kept:
    """The rows a review threshold keeps and how many of them are right.

    Parameters
    ----------
    confidence : np.ndarray, shape (N,)
        Each row's top-class probability, in [0, 1].
    correct : np.ndarray of bool, shape (N,)
        Whether each row's predicted class is its label.
    threshold : float
        A row is kept when its confidence is at or above it (below it, a person reviews the row:
        the rule the page, the JSON route and `agnews predict` apply).
    """
    kept = np.asarray(confidence) >= threshold
    return Kept(float(threshold), int(kept.size), int(kept.sum()), int(np.asarray(correct)[kept].sum()))


def kept_of(predictions: pd.DataFrame, threshold: float) -> Kept:
    """`kept_at` on a run's stored test predictions (their `confidence`, the top class's calibrated
    probability, and `pred` against `label`): no model call."""
    correct = (predictions["pred"] == predictions["label"]).to_numpy()
    return kept_at(predictions["confidence"].to_numpy(), correct, threshold)
