"""What the slices part holds: `slices.parquet` (`row_id` plus one boolean column per smart tag the run
could compute, rows aligned with the predictions) and `slices.json` (`SliceReport`: how each tag was
defined, the tags that could not be computed and why, and the accuracy on each tag's rows)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from agnews.rundir.declarations import NEWS, Applies
from agnews.rundir.files import RunError
from agnews.rundir.parts import Count, JsonFile, Part, Rate, TableFile

# The agency tag ("(Reuters)", "AP - ") marks wire copy: a slice of news text only. Elsewhere it is left
# out with its reason (`SliceReport.not_computed`), as is any tag no test row carries.
AGENCY_APPLIES = Applies(domains=(NEWS,))


@dataclass
class SliceAccuracy:
    """One line of the slice table: the test rows carrying a tag (or all rows) and the accuracy on them."""

    name: str
    rows: Count
    correct: Count
    accuracy: Rate | None  # None for a slice without rows
    low: Rate | None  # 95% Wilson interval of the accuracy
    high: Rate | None


@dataclass
class LengthCutoffs:
    """Word counts at which a text is tagged short (at most `short_max_words`) or long (at least
    `long_min_words`), and how they were chosen."""

    short_max_words: int
    long_min_words: int
    rule: str


@dataclass
class NeighbourSettings:
    """The space in which test rows are compared with training rows, and the thresholds used there."""

    space: str
    neighbours: int
    near_duplicate_cosine: float
    rule: str


@dataclass
class SliceReport:
    """`slices.json`: the tags of `slices.parquet` (one boolean column each), how they were defined,
    the tags that could not be computed for this run (and why) and the slice table.

    Version 2 left the dataset warnings to their own part (`dataset_checks.json`); a version-1 file
    still reads (its `dataset` key is ignored; `agnews migrate` moves it)."""

    tags: list[str]
    not_computed: dict[str, str]
    lengths: LengthCutoffs
    agencies: list[str]
    neighbours: NeighbourSettings
    review_threshold: float | None
    slices: list[SliceAccuracy]  # "all rows" first
    train_rows: int
    seconds: float
    schema_version: int = 2


class Slices(NamedTuple):
    """The part: the tag table and the report that defines its columns."""

    tags: pd.DataFrame
    report: SliceReport


def tags_named(paths: tuple[Path, ...], values: tuple[Any, ...]) -> None:
    """Every tag the slice report names is a column of the tag table."""
    tags, report = values
    missing = [tag for tag in report.tags if tag not in tags.columns]
    if missing:
        raise RunError(f"{paths[0]}: missing tag columns {missing}")


PART: Part[Slices] = Part(
    "slices",
    ("slices.parquet", "slices.json"),
    False,
    (TableFile(("row_id",), aligned=True), JsonFile(SliceReport)),
    check=tags_named,
    value=Slices,
)


def tag_table(value: Slices) -> pd.DataFrame:
    """The `TEST_ROW_TAGS` fact: the boolean tag columns, rows aligned with the predictions."""
    return value.tags.drop(columns="row_id")
