"""The slices stage: smart tags on every test row and the accuracy on each tag's rows.

Azimuth's idea on this data: a tag names a kind of text (short, long, wire copy, a near-copy of a
training row, ...) so that "where is the model weak?" has an answer with a row count and an interval.
Reads the `predictions` part (and the review rule, `REVIEW`, and the test rows' label issues,
`TEST_LABEL_ISSUES`, when the run has them, current); writes the `slices` part.
Test rows are compared with training rows in TF-IDF space (`agnews.training.tfidf_neighbours`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agnews.analyses.slices.numeric import (
    agency_tags,
    conflicting_neighbours,
    length_cutoffs,
    slice_table,
)
from agnews.analyses.slices.schema import AGENCY_APPLIES, PART, NeighbourSettings, SliceReport
from agnews.formatting import percent
from agnews.rundir.facts import REVIEW, TEST_LABEL_ISSUES
from agnews.stats import word_counts
from agnews.text import AGENCIES
from agnews.training.tfidf_neighbours import NEAR_DUPLICATE_COSINE, SPACE

if TYPE_CHECKING:
    from agnews.training.context import StageContext

TAGS = (
    "short",
    "long",
    "agency",
    "low_confidence",
    "near_duplicate",
    "conflicting_neighbours",
    "likely_mislabelled",
)
NEIGHBOURS = 10


def _review_threshold(context: StageContext) -> tuple[float | None, str | None]:
    """The review threshold (`agnews.rundir.facts.REVIEW`), or why there is none to use."""
    rule = context.fact(REVIEW)
    if rule is None:
        return None, context.why_no(REVIEW, PART.name)
    if rule.threshold is None:
        return None, (
            f"calibration found no confidence threshold that reaches its target accuracy "
            f"({percent(rule.target_accuracy, 0)}) on validation"
        )
    return rule.threshold, None


def _flagged(context: StageContext) -> tuple[np.ndarray | None, str | None]:
    """The test label-issue flags (`TEST_LABEL_ISSUES`), aligned with the predictions, or why there
    are none to use."""
    issues = context.fact(TEST_LABEL_ISSUES)
    if issues is None:
        return None, context.why_no(TEST_LABEL_ISSUES, PART.name)
    return issues["flagged"].to_numpy(dtype=bool), None


def slices_stage(context: StageContext) -> None:
    """Tag every test row and measure the accuracy on each tag's rows."""
    started = time.perf_counter()
    predictions = context.predictions()
    texts = predictions["text"].tolist()
    labels = predictions["label"].to_numpy()
    train = context.data().splits["train"]
    train_texts, train_labels = list(train["text"]), np.asarray(train["label"])
    words = word_counts(texts)

    cutoffs = length_cutoffs(word_counts(train_texts))
    near = context.nearest_training_rows(NEIGHBOURS)
    tags: dict[str, np.ndarray] = {
        "short": words <= cutoffs.short_max_words,
        "long": words >= cutoffs.long_min_words,
    }
    not_computed: dict[str, str] = {}
    agency_refusal = AGENCY_APPLIES.refusal({}, context.read("config").data.description())
    if agency_refusal is None:
        tags["agency"] = agency_tags(texts)
    else:
        not_computed["agency"] = agency_refusal
    threshold, why = _review_threshold(context)
    if threshold is None:
        not_computed["low_confidence"] = str(why)
    else:
        tags["low_confidence"] = predictions["confidence"].to_numpy() < threshold
    tags["near_duplicate"] = near.similarity[:, 0] >= NEAR_DUPLICATE_COSINE
    tags["conflicting_neighbours"] = conflicting_neighbours(train_labels[near.index], labels)
    flagged, why = _flagged(context)
    if flagged is None:
        not_computed["likely_mislabelled"] = str(why)
    else:
        tags["likely_mislabelled"] = flagged
    for tag in [tag for tag in TAGS if tag in tags and not tags[tag].any()]:
        # A slice of no rows has no accuracy: left out with its reason, never shown as 0%.
        not_computed[tag] = f"no test row carries the {tag} tag"
        del tags[tag]
    ordered = [tag for tag in TAGS if tag in tags]
    frame = pd.DataFrame({tag: tags[tag] for tag in ordered})
    correct = labels == predictions["pred"].to_numpy()
    report = SliceReport(
        tags=ordered,
        not_computed=not_computed,
        lengths=cutoffs,
        agencies=list(AGENCIES),
        neighbours=NeighbourSettings(
            space=SPACE,
            neighbours=near.index.shape[1],
            near_duplicate_cosine=NEAR_DUPLICATE_COSINE,
            rule=f"more than half of the {near.index.shape[1]} most similar training rows "
            "carry a label other than the row's",
        ),
        review_threshold=threshold,
        slices=slice_table(frame, correct),
        train_rows=len(train_texts),
        seconds=round(time.perf_counter() - started, 2),
    )
    frame.insert(0, "row_id", predictions["row_id"].to_numpy())
    context.staged.write(PART.name, frame, report)  # made from the calibration and label issues read too
