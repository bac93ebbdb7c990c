"""The facts the core asks a run for, whichever analysis answers them (`Fact`, `Provides`)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from agnews.rundir.declarations import Fact


@dataclass(frozen=True)
class ReviewRule:
    """Below `threshold` confidence a prediction needs a person's review: the lowest confidence
    whose kept validation rows reach `target_accuracy` (None: no confidence reached it)."""

    threshold: float | None
    target_accuracy: float


REVIEW: Fact[ReviewRule] = Fact("review rule")

# Cleanlab's verdict on the given labels, as a table: for the test rows, one row per prediction in
# their order (row_id, label, suggested, quality, flagged); for the training rows, keyed by
# `agnews.text.text_hash` (text_hash, text, label, suggested, quality, flagged).
TEST_LABEL_ISSUES: Fact[pd.DataFrame] = Fact("label issues of the test rows")
TRAIN_LABEL_ISSUES: Fact[pd.DataFrame] = Fact("label issues of the training rows")
