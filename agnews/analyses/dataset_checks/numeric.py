"""The checks of the data a run was trained and tested on: class balance per split, the train/test
shift in text length, and test rows with a near-duplicate among the training rows (which flatter the
test accuracy). Each check keeps its numbers whether or not it warns, so the tab can say "balanced"
with the evidence; the thresholds are stored with them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from agnews.analyses.dataset_checks.schema import (
    ClassBalance,
    DatasetWarnings,
    LengthShift,
    NearDuplicatePair,
    TrainTestOverlap,
    UnknownTokens,
)
from agnews.formatting import number, percent, ratio, setting, significant
from agnews.rundir.parts import DataStats

# Largest over smallest class above which a split is called imbalanced: past it, accuracy and the
# model's prior lean noticeably towards the large classes.
IMBALANCE_RATIO = 1.5
# Kolmogorov-Smirnov D (the largest gap between the train and test cumulative distributions of words
# per text) from which the lengths are called mismatched. With thousands of rows the p-value is
# tiny for any visible gap, so the effect size, not the p-value, decides.
LENGTH_SHIFT_D = 0.1
# Share of test rows with a training near-duplicate from which the test accuracy is called flattered.
OVERLAP_SHARE = 0.01
# Share of the test tokens that are the tokenizer's unknown token from which the base model is called
# unable to read the data. A tokenizer made for the text's language and script meets its unknown token
# only on rare symbols (emoji, a stray script), far below this; text in a script its vocabulary lacks
# turns most words into it. At one token in twenty a sentence has lost about a word, which is where
# the model reads around holes rather than text.
UNKNOWN_SHARE = 0.05
EXAMPLES = 5
LISTED_CLASSES = 10  # classes a warning names, the smallest first (a dataset may have 150)


def class_balance(stats: DataStats, classes: tuple[str, ...]) -> list[ClassBalance]:
    """Rows per class of the run's `classes` in each split, and largest over smallest class."""
    balances = []
    for split, split_stats in stats.splits.items():
        counts = {name: int(split_stats.class_counts.get(name, 0)) for name in classes}
        smallest = min(counts.values())
        largest_over_smallest = max(counts.values()) / smallest if smallest else None
        warn = largest_over_smallest is None or largest_over_smallest > IMBALANCE_RATIO
        balances.append(ClassBalance(split=split, counts=counts, ratio=largest_over_smallest, warn=warn))
    return balances


def length_shift(train_words: np.ndarray, test_words: np.ndarray) -> LengthShift:
    """Two-sample KS test of words per text, training ((rows,)) vs test ((rows,))."""
    from scipy.stats import ks_2samp

    result = ks_2samp(train_words, test_words)
    return LengthShift(
        train_median_words=float(np.median(train_words)),
        test_median_words=float(np.median(test_words)),
        train_mean_words=float(np.mean(train_words)),
        test_mean_words=float(np.mean(test_words)),
        ks_statistic=float(result.statistic),
        p_value=float(result.pvalue),
        warn=bool(result.statistic >= LENGTH_SHIFT_D),
    )


def train_test_overlap(pairs: pd.DataFrame, cosine: float, exact_dropped: int) -> TrainTestOverlap:
    """Test rows whose most similar training row reaches `cosine`, with the closest pairs as examples.

    `pairs`: one row per test row with its most similar training row (`row_id`, `text`, `label`,
    `train_text`, `train_label`, `similarity`).
    """
    near = pairs[pairs["similarity"] >= cosine].sort_values(
        ["similarity", "row_id"], ascending=[False, True], kind="stable"
    )
    share = len(near) / len(pairs) if len(pairs) else 0.0
    examples = [
        NearDuplicatePair(
            row_id=int(row.row_id),
            text=str(row.text),
            label=str(row.label),
            train_text=str(row.train_text),
            train_label=str(row.train_label),
            similarity=round(float(row.similarity), 4),
        )
        for row in near.head(EXAMPLES).itertuples()
    ]
    return TrainTestOverlap(
        cosine=cosine,
        test_rows=len(near),
        share=share,
        different_label=int((near["label"] != near["train_label"]).sum()),
        exact_dropped=exact_dropped,
        examples=examples,
        warn=share >= OVERLAP_SHARE,
    )


def unknown_tokens(token_ids: list[list[int]], unknown_id: int | None, token: str | None) -> UnknownTokens:
    """The share of all tokens in `token_ids` (one list per test text, no special tokens) that are the
    unknown token `unknown_id` (None: the tokenizer has none, nothing is unknown)."""
    total = sum(len(ids) for ids in token_ids)
    if unknown_id is None or total == 0:
        return UnknownTokens(token=token, tokens=total, unknown=0, share=None, warn=False)
    unknown = sum(ids.count(unknown_id) for ids in token_ids)
    share = unknown / total
    return UnknownTokens(token=token, tokens=total, unknown=unknown, share=share, warn=share >= UNKNOWN_SHARE)


def _counts_said(counts: dict[str, int]) -> str:
    """Rows per class in words, the smallest classes first when there are many."""
    if len(counts) <= LISTED_CLASSES:
        return ", ".join(f"{name} {n}" for name, n in counts.items())
    smallest = sorted(counts.items(), key=lambda item: item[1])[:LISTED_CLASSES]
    listed = ", ".join(f"{name} {n}" for name, n in smallest)
    return f"smallest: {listed}; {len(counts) - LISTED_CLASSES} more classes"


def warning_messages(
    balances: list[ClassBalance], length: LengthShift, overlap: TrainTestOverlap, unknown: UnknownTokens
) -> list[str]:
    """One line per check that warns, with its numbers."""
    messages = []
    for balance in balances:
        if balance.warn:
            counts = _counts_said(balance.counts)
            written = ratio(balance.ratio) if balance.ratio is not None else "a class has no rows"
            messages.append(
                f"Class imbalance in {balance.split}: largest/smallest class {written} ({counts})."
            )
    if length.warn:
        messages.append(
            f"Train/test length mismatch: KS D = {number(length.ks_statistic, 3)} "
            f"(p = {significant(length.p_value, 2)}); "
            f"median words {setting(length.train_median_words)} (train) "
            f"vs {setting(length.test_median_words)} (test)."
        )
    if overlap.warn:
        messages.append(
            f"Train/test near-duplicates: {overlap.test_rows} test rows ({percent(overlap.share)}) have a "
            f"training row at TF-IDF cosine >= {setting(overlap.cosine)} ({overlap.different_label} of them "
            "with another label): they test recall of training rows more than generalisation "
            "(the Slices tab's near-copy slice has the accuracy on them)."
        )
    if unknown.warn:
        messages.append(
            f"Unknown tokens: {percent(unknown.share)} of the test tokens ({unknown.unknown} of "
            f"{unknown.tokens}) are the tokenizer's unknown token {unknown.token}: the base model does not "
            f"read much of this text (a language or script its vocabulary lacks); warned from "
            f"{percent(UNKNOWN_SHARE, 0)}."
        )
    return messages


def dataset_warnings(
    stats: DataStats,
    classes: tuple[str, ...],
    train_words: np.ndarray,
    test_words: np.ndarray,
    pairs: pd.DataFrame,
    cosine: float,
    unknown: UnknownTokens,
) -> DatasetWarnings:
    """Every check, with the thresholds used and the lines of those that warn."""
    balances = class_balance(stats, classes)
    length = length_shift(train_words, test_words)
    overlap = train_test_overlap(pairs, cosine, stats.duplicates_dropped_from_train)
    return DatasetWarnings(
        class_balance=balances,
        length=length,
        overlap=overlap,
        thresholds={
            "imbalance_ratio": IMBALANCE_RATIO,
            "length_ks_d": LENGTH_SHIFT_D,
            "overlap_share": OVERLAP_SHARE,
            "unknown_token_share": UNKNOWN_SHARE,
        },
        messages=warning_messages(balances, length, overlap, unknown),
        unknown_tokens=unknown,
    )
