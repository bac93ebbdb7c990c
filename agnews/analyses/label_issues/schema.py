"""What the label-issue parts hold: for the test rows (`label_issues_test.parquet`, aligned with the
predictions) and the training rows (`label_issues_train.parquet`, keyed by `agnews.text.text_hash`,
with how they were found in `label_issues_train.json`): the given label, the class the held-out
probabilities favour (`suggested`), cleanlab's label quality (low: the given label is unlikely) and
its verdict (`flagged`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from agnews.rundir.parts import Count, JsonFile, Part, Rate, TableFile

TEST_COLUMNS = ("row_id", "label", "suggested", "quality", "flagged")
TRAIN_COLUMNS = ("text_hash", "text", "label", "suggested", "quality", "flagged")


@dataclass
class TrainLabelIssues:
    """`label_issues_train.json`: how the training rows' label issues were found: out-of-fold
    probabilities from a cheap model that never saw the row's label, ranked by cleanlab."""

    method: str
    folds: int
    seed: int
    rows: Count
    flagged: Count
    flagged_by_label: dict[str, Count]
    out_of_fold_accuracy: Rate
    seconds: dict[str, float]
    schema_version: int = 1


class TrainIssues(NamedTuple):
    """The training part: its rows and how they were found."""

    rows: pd.DataFrame
    info: TrainLabelIssues


TEST_PART: Part[pd.DataFrame] = Part(
    "label_issues_test", ("label_issues_test.parquet",), False, (TableFile(TEST_COLUMNS, aligned=True),)
)
TRAIN_PART: Part[TrainIssues] = Part(
    "label_issues_train",
    ("label_issues_train.parquet", "label_issues_train.json"),
    False,
    (TableFile(TRAIN_COLUMNS), JsonFile(TrainLabelIssues)),
    value=TrainIssues,
)


def issues_of_training_rows(issues: TrainIssues) -> pd.DataFrame:
    """The training part's answer to `agnews.rundir.facts.TRAIN_LABEL_ISSUES`: its rows."""
    return issues.rows
