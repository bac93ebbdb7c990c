"""The facts the core asks a run for, whichever analysis answers them (`Fact`, `Provides`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from agnews.formatting import percent
from agnews.rundir.declarations import Fact


@dataclass(frozen=True)
class ReviewRule:
    """Below `threshold` confidence a prediction needs a person's review. Either the lowest
    confidence whose kept validation rows reach `target_accuracy` (threshold None: no confidence
    reached it), or a threshold a person chose (`set_by`, at `set_at`, UTC ISO time; no target)."""

    threshold: float | None
    target_accuracy: float | None
    set_by: str | None = None
    set_at: str | None = None

    @property
    def basis(self) -> str:
        """How the threshold was chosen, in words that follow "the review threshold 82.3%, ...";
        `set_by` is a person's login name: shown as text where Markdown renders it."""
        if self.set_by is not None:
            return f"set by {self.set_by} at {self.set_at}"
        target = percent(self.target_accuracy, 0)
        return f"chosen on validation so that predictions at or above it are {target} right"


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

# The smart tags of the test rows: one boolean column per tag (e.g. short, long), rows aligned with
# the predictions; the Errors tab filters by them and the map colours by them.
TEST_ROW_TAGS: Fact[pd.DataFrame] = Fact("tags of the test rows")

# The 2-D map coordinates of the test rows: row_id and `KIND_x`/`KIND_y` per embedding kind
# (`agnews.rundir.parts.MAP_KINDS`), rows aligned with the predictions.
MAP_COORDINATES: Fact[pd.DataFrame] = Fact("map coordinates of the test rows")
