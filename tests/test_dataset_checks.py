"""Dataset checks: each check on hand-made numbers, and the stage's part on the synthetic run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agnews.analyses.dataset_checks import numeric as data_checks
from agnews.analyses.dataset_checks.present import near_duplicate_examples, warnings_markdown
from agnews.analyses.dataset_checks.schema import PART as DATASET_CHECKS
from agnews.analyses.dataset_checks.schema import UnknownTokens
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.present.markup import literal
from agnews.rundir.parts import DataStats, SplitStats
from agnews.rundir.run import Run

NO_UNKNOWN = UnknownTokens(token="[UNK]", tokens=100, unknown=0, share=0.0, warn=False)


def split_stats(counts: dict[str, int]) -> SplitStats:
    return SplitStats(rows=sum(counts.values()), class_counts=counts, chars={}, words={})


def test_dataset_checks_warn_with_their_numbers() -> None:
    stats = DataStats(
        splits={
            "train": split_stats({"World": 300, "Sports": 100, "Business": 100, "Sci/Tech": 100}),
            "test": split_stats({"World": 50, "Sports": 50, "Business": 50, "Sci/Tech": 49}),
        },
        duplicates_dropped_from_train=3,
    )
    balance = {b.split: b for b in data_checks.class_balance(stats, LABELS)}
    assert balance["train"].ratio == pytest.approx(3.0) and balance["train"].warn
    assert not balance["test"].warn

    rng = np.random.default_rng(0)
    train_words = rng.integers(20, 60, 2000)
    assert not data_checks.length_shift(train_words, rng.integers(20, 60, 2000)).warn
    shifted = data_checks.length_shift(train_words, rng.integers(35, 75, 2000))
    assert shifted.warn and shifted.ks_statistic > 0.3 and shifted.p_value < 1e-6

    pairs = pd.DataFrame(
        {
            "row_id": [0, 1, 2, 3],
            "text": ["a", "b", "c", "d"],
            "label": ["World", "Sports", "World", "World"],
            "train_text": ["a2", "b2", "c2", "d2"],
            "train_label": ["World", "World", "World", "World"],
            "similarity": [0.9, 0.8, 0.2, 0.1],
        }
    )
    overlap = data_checks.train_test_overlap(pairs, 0.75, exact_dropped=3)
    assert (overlap.test_rows, overlap.share, overlap.different_label) == (2, 0.5, 1)
    assert [e.row_id for e in overlap.examples] == [0, 1] and overlap.warn
    messages = data_checks.warning_messages(list(balance.values()), shifted, overlap, NO_UNKNOWN)
    assert len(messages) == 3 and "3.00x" in messages[0] and "2 test rows (50.0%)" in messages[2]


def test_the_run_has_the_dataset_checks_part(synthetic_run: Path) -> None:
    run = Run.load(synthetic_run)
    checks = run.get(DATASET_CHECKS)
    assert checks is not None, run.warnings
    assert {b.split for b in checks.class_balance} == set(run.data_stats.splits)
    assert checks.overlap.test_rows <= len(run.predictions)
    assert set(run.manifest.parts[DATASET_CHECKS.name].made_from) >= {"data_stats", "predictions"}
    shown = warnings_markdown(checks)
    assert all(literal(message) in shown for message in checks.messages)
    assert len(near_duplicate_examples(checks)) == len(checks.overlap.examples)
