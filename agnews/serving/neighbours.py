"""The training rows nearest a test row or a typed text in the fine-tuned space, with their labels.

A model learns a confusion from its training rows: the ones nearest a mistake in the space its
classifier reads (cosine of fine-tuned [CLS] vectors, the `train_embeddings` part) show what it
learned it from, and whether their own labels are suspect (the `label_issues_train` part, joined by
text hash, when the run has it). Torch-free: a test row's vector is stored (the `embeddings` part,
row by row with the predictions), a typed text's comes from the app's predictor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agnews.formatting import count
from agnews.rundir.facts import TRAIN_LABEL_ISSUES, TRAINING_VECTORS
from agnews.rundir.run import Run
from agnews.serving.map_index import nearest, unit_rows


class NeighbourError(ValueError):
    """A question this run cannot answer, with a message that says what to ask or run instead."""


@dataclass(frozen=True)
class TrainingNeighbours:
    """The training rows of a run and their unit vectors (float32, for BLAS), searchable by cosine.

    `flagged` holds each row's cleanlab verdict and `suggested` the class the out-of-fold
    probabilities favour, both <NA> where the run has no `label_issues_train` part (`flags_known`).
    """

    rows: pd.DataFrame  # text_hash, text, label (class id), label_name, flagged, suggested
    unit: np.ndarray
    flags_known: bool

    @classmethod
    def from_run(cls, run: Run) -> TrainingNeighbours:
        """The index of `run`'s training rows' vectors (`TRAINING_VECTORS`); NeighbourError, saying how
        to add them, without."""
        found = run.fact(TRAINING_VECTORS)
        if found is None:
            adds = run.fact_remake(TRAINING_VECTORS)
            missing = "This run has no fine-tuned vectors of its training rows"
            raise NeighbourError(f"{missing}; {adds} adds them.")
        rows, vectors = found
        rows = rows[["text_hash", "text", "label"]].reset_index(drop=True)
        classes = run.classes
        rows["label_name"] = [classes[i] for i in rows["label"]]
        issues = run.fact(TRAIN_LABEL_ISSUES)
        known = issues is not None
        if known:
            by_hash = issues.drop_duplicates("text_hash").set_index("text_hash")
            flagged = rows["text_hash"].map(by_hash["flagged"]).astype("boolean")
            suggested = (
                rows["text_hash"].map(by_hash["suggested"]).map(classes.__getitem__, na_action="ignore")
            )
        else:
            flagged, suggested = pd.array([pd.NA] * len(rows), dtype="boolean"), pd.NA
        rows["flagged"], rows["suggested"] = flagged, suggested
        return cls(rows, unit_rows(vectors), known)

    def nearest(self, vector: np.ndarray, k: int) -> pd.DataFrame:
        """The `k` training rows most similar to `vector` (a fine-tuned [CLS] vector, any scale), most
        similar first: `similarity` (cosine) and the columns of `rows`."""
        if vector.shape != (self.unit.shape[1],):
            raise NeighbourError(
                f"a vector of shape {vector.shape}; the training rows' have {self.unit.shape[1]} values "
                "(the run's own model makes comparable ones)"
            )
        positions, similarities = nearest(self.unit, vector, k)
        found = self.rows.iloc[positions].reset_index(drop=True)
        found.insert(0, "similarity", similarities.astype(float))
        return found


def training_neighbours(run: Run) -> TrainingNeighbours:
    """`TrainingNeighbours.from_run(run)`, built once per loaded run (the vectors' float32 copy and
    the join with the label issues cost more than a lookup) and shared by every caller; the run
    owns it (`Run.derived`), so it goes when the run is loaded again or dropped."""
    return run.derived("training neighbours", lambda: TrainingNeighbours.from_run(run))


def stored_vector(run: Run, row_id: int) -> np.ndarray:
    """The stored fine-tuned [CLS] vector of test row `row_id` (its id, not its position);
    NeighbourError naming the ids there are, or the part that is missing."""
    vectors = (run.embeddings or {}).get("finetuned_cls")
    if vectors is None:
        raise NeighbourError(
            "This run has no stored vectors of its test rows (the `embeddings` part); "
            f"`agnews analyze {run.path} --stages embed` adds them. Typed text works without them."
        )
    ids = run.predictions["row_id"].to_numpy()
    position = np.flatnonzero(ids == row_id)
    if len(position) == 0:
        raise NeighbourError(
            f"No test row has id {row_id}: this run's {count(len(ids))} test rows have ids from {ids.min()} "
            f"to {ids.max()} (the Errors and Map tabs show them)."
        )
    return vectors[position[0]].astype(np.float32)
