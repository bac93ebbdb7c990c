"""The slices stage: smart tags on every test row, the accuracy on each tag's rows, and data checks.

Azimuth's idea on this data: a tag names a kind of text (short, long, wire copy, a near-copy of a
training row, ...) so that "where is the model weak?" has an answer with a row count and an interval.
Reads the `predictions` part (and the review rule, `REVIEW`, and the test rows' label issues,
`TEST_LABEL_ISSUES`, when the run has them, current);
writes the `slices` part: `slices.parquet` (`row_id` plus one boolean column per tag that could be
computed, rows aligned with the predictions) and `slices.json` (`agnews.rundir.parts.SliceReport`).

Test rows are compared with training rows in TF-IDF space fitted on the training texts, not in the
fine-tuned model's space: fine-tuning pulls every text of a class together (most test rows have a
fine-tuned neighbour above 0.95 cosine), so closeness there says what the model learnt, not what the
data holds. TF-IDF also costs seconds on two cores, where embedding the training split with the base
model would cost minutes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agnews.formatting import percent
from agnews.labels import LABELS
from agnews.rundir.facts import REVIEW, TEST_LABEL_ISSUES
from agnews.rundir.parts import LengthCutoffs, NeighbourSettings, SliceAccuracy, SliceReport
from agnews.stats import wilson_interval
from agnews.text import AGENCIES, AGENCY_MARKER
from agnews.training.data_checks import dataset_warnings

if TYPE_CHECKING:
    from agnews.training.context import StageContext

ALL_ROWS = "all rows"
TAGS = (
    "short",
    "long",
    "agency",
    "low_confidence",
    "near_duplicate",
    "conflicting_neighbours",
    "likely_mislabelled",
)
# Word-count percentiles of the training split below / above which a text counts as short / long:
# the training texts define what is typical, so a test row's tag does not depend on the test split.
SHORT_PERCENTILE, LONG_PERCENTILE = 10, 90
NEIGHBOURS = 10
# The optional parts some tags come from, and the stage that makes each.
# TF-IDF cosine from which a training row counts as a near-duplicate of a test row. Chosen by reading
# the validation rows' most similar training rows (quick run's split): pairs at or above it were the
# same article reworded, pairs just below it different articles on one event or sharing a template.
NEAR_DUPLICATE_COSINE = 0.75


def word_counts(texts: Sequence[str]) -> np.ndarray:
    """Whitespace-separated words per text (the unit of the Data tab's length table)."""
    return np.fromiter((len(text.split()) for text in texts), dtype=np.int64, count=len(texts))


def length_cutoffs(train_words: np.ndarray) -> LengthCutoffs:
    """Short / long cut-offs from the training split's word-count percentiles."""
    if len(train_words) == 0:
        raise ValueError("no training rows to choose the length cut-offs from")
    short, long = np.percentile(train_words, [SHORT_PERCENTILE, LONG_PERCENTILE])
    return LengthCutoffs(
        short_max_words=int(np.floor(short)),
        long_min_words=int(np.ceil(long)),
        rule=f"training split's {SHORT_PERCENTILE}th / {LONG_PERCENTILE}th percentile of words per text",
    )


def agency_tags(texts: Sequence[str]) -> np.ndarray:
    """Whether each text carries a news-agency marker such as "(Reuters)" or "AP - "."""
    return np.array([AGENCY_MARKER.search(text) is not None for text in texts], dtype=bool)


@dataclass(frozen=True)
class TrainNeighbours:
    """Each test row's nearest training rows in TF-IDF space (cosine similarity, most similar first)."""

    similarity: np.ndarray  # (test rows, k)
    index: np.ndarray  # (test rows, k) positions in the training split


def train_neighbours(
    train_texts: Sequence[str], texts: Sequence[str], k: int = NEIGHBOURS
) -> TrainNeighbours:
    """The `k` most similar training texts of each text, by cosine of TF-IDF vectors fitted on training."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(train_texts))
    if k == 0:
        raise ValueError("no training rows to compare the test rows with")
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", dtype=np.float32)
    train = vectorizer.fit_transform(train_texts)
    search = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute").fit(train)
    distance, index = search.kneighbors(vectorizer.transform(texts))
    return TrainNeighbours(similarity=1.0 - distance, index=index)


def conflicting_neighbours(neighbour_labels: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Whether most (more than half) of a row's neighbours carry a label other than the row's own."""
    other = (neighbour_labels != labels[:, None]).sum(axis=1)
    return other * 2 > neighbour_labels.shape[1]


def slice_accuracy(name: str, correct: np.ndarray) -> SliceAccuracy:
    """Accuracy of the rows whose correctness is `correct`, with its 95% Wilson interval."""
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


def _review_threshold(context: StageContext) -> tuple[float | None, str | None]:
    """The review threshold (`agnews.rundir.facts.REVIEW`), or why there is none to use."""
    rule = context.fact(REVIEW)
    if rule is None:
        return None, context.why_no(REVIEW, "slices")
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
        return None, context.why_no(TEST_LABEL_ISSUES, "slices")
    return issues["flagged"].to_numpy(dtype=bool), None


def slices_stage(context: StageContext) -> None:
    """Tag every test row, measure the accuracy on each tag's rows, check the splits against each other."""
    started = time.perf_counter()
    edit = context.staged
    predictions = context.predictions()
    texts = predictions["text"].tolist()
    labels = predictions["label"].to_numpy()
    train = context.data().splits["train"]
    train_texts, train_labels = list(train["text"]), np.asarray(train["label"])
    train_words, words = word_counts(train_texts), word_counts(texts)

    cutoffs = length_cutoffs(train_words)
    if context.progress:
        print(
            f"TF-IDF neighbours of {len(texts)} test rows in {len(train_texts)} training rows...", flush=True
        )
    near = train_neighbours(train_texts, texts)
    tags: dict[str, np.ndarray] = {
        "short": words <= cutoffs.short_max_words,
        "long": words >= cutoffs.long_min_words,
        "agency": agency_tags(texts),
    }
    not_computed: dict[str, str] = {}
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
    ordered = [tag for tag in TAGS if tag in tags]
    frame = pd.DataFrame({tag: tags[tag] for tag in ordered})
    correct = labels == predictions["pred"].to_numpy()

    overlap_pairs = pd.DataFrame(
        {
            "row_id": predictions["row_id"].to_numpy(),
            "text": texts,
            "label": [LABELS[i] for i in labels],
            "train_text": [train_texts[i] for i in near.index[:, 0]],
            "train_label": [LABELS[i] for i in train_labels[near.index[:, 0]]],
            "similarity": near.similarity[:, 0],
        }
    )
    checks = dataset_warnings(
        context.read("data_stats"),
        train_words,
        words,
        overlap_pairs,
        NEAR_DUPLICATE_COSINE,
    )
    report = SliceReport(
        tags=ordered,
        not_computed=not_computed,
        lengths=cutoffs,
        agencies=list(AGENCIES),
        neighbours=NeighbourSettings(
            space="TF-IDF (sublinear tf, English stop words removed) fitted on the training texts",
            neighbours=near.index.shape[1],
            near_duplicate_cosine=NEAR_DUPLICATE_COSINE,
            rule=f"more than half of the {near.index.shape[1]} most similar training rows "
            "carry a label other than the row's",
        ),
        review_threshold=threshold,
        slices=slice_table(frame, correct),
        dataset=checks,
        train_rows=len(train_texts),
        seconds=round(time.perf_counter() - started, 2),
    )
    frame.insert(0, "row_id", predictions["row_id"].to_numpy())
    edit.write("slices", frame, report)  # made from the calibration and label issues read too, when usable
