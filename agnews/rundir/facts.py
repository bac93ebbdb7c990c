"""The facts the core asks a run for, whichever analysis answers them (`Fact`, `Provides`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
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


class TrainingVectors(NamedTuple):
    """The training rows (text_hash, text, label) and, in their order, their fine-tuned [CLS]
    vectors (unit length, float16): where the rows nearest a test row or a typed text are found."""

    rows: pd.DataFrame
    vectors: np.ndarray


TRAINING_VECTORS: Fact[TrainingVectors] = Fact("fine-tuned vectors of the training rows")
