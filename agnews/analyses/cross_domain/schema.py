"""What a cross-domain part holds: `cross_domain/<name>/`, one per labelled file evaluated, its per-row
predictions (`predictions.parquet`) and both classifiers' scores (`metrics.json`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from agnews.rundir.files import RunError
from agnews.rundir.parts import (
    PREDICTION_COLUMNS,
    ClassScores,
    Count,
    JsonFile,
    PartFamily,
    PartValueError,
    Rate,
    TableFile,
    check_confusion,
    check_predictions,
    read_part,
)

# Cross-domain predictions: the in-domain prediction columns (`row_id` is the row's position among the
# file's data rows, from 0; `label` the mapped class id), the file's own label (`source_label`) and
# the TF-IDF baseline's predicted class id (`baseline_pred`; -1 where the part has no baseline).
COLUMNS = (*PREDICTION_COLUMNS, "source_label", "baseline_pred")


@dataclass
class DomainScores:
    """One classifier's scores on a cross-domain file's evaluated rows. It chooses among all four
    classes (a prediction outside the mapped classes is wrong); macro F1 and the per-class scores are
    over the mapped classes; the confusion has a row per mapped class and a column per class."""

    accuracy: Rate
    f1_macro: Rate
    per_class: dict[str, ClassScores]
    confusion_matrix: list[list[Count]]
    confusion_rows: list[str]
    confusion_columns: list[str]

    def __post_init__(self) -> None:
        check_confusion(
            self.confusion_matrix,
            self.confusion_rows,
            self.confusion_columns,
            self.per_class,
            classes_key="confusion_columns",
        )


@dataclass
class CrossDomainMetrics:
    """`cross_domain/<name>/metrics.json`: the run's model, and a TF-IDF model refitted on the run's
    training rows, on an out-of-domain labelled CSV file whose classes map onto some of the four.
    Where the training rows cannot be read (a run pulled from the Hub, its data folder elsewhere) the
    model is scored alone and `baseline_left_out` says why."""

    name: str
    source: str  # the file: its path as given, or its own name (an upload from the page)
    source_sha256: str
    rows_read: Count  # data rows of the file
    text_columns: list[str]  # joined with a space, as AG News' title and description are
    label_column: str
    label_map: str  # as given: "a=Business,b=Sports"
    resolved_map: dict[str, str]  # source label -> class name
    mapped_classes: list[str]  # in class order
    rows: Count  # evaluated: a mapped label and some text
    skipped_unmapped: dict[str, Count]  # rows per source label the map leaves out
    skipped_empty_text: Count  # rows of a mapped label whose text is empty once cleaned
    model: DomainScores
    baseline: DomainScores | None  # None: the run's training rows were not found (`baseline_left_out`)
    baseline_method: str
    baseline_train_rows: Count
    seconds: dict[str, float]
    baseline_left_out: str | None = None  # why there is no baseline
    schema_version: int = 2  # 2: the baseline may be left out

    def __post_init__(self) -> None:
        for key, scores in (("model", self.model), ("baseline", self.baseline)):
            if scores is not None and scores.confusion_rows != self.mapped_classes:
                raise PartValueError(
                    f"{key}.confusion_rows",
                    f"true classes {scores.confusion_rows}; the part maps {self.mapped_classes}",
                )

    def skipped(self) -> list[str]:
        """The skipped rows, one phrase per reason: "world 195", "empty label 2", "empty text 3"."""
        phrases = [
            f"{label} {n}" if label else f"empty label {n}" for label, n in self.skipped_unmapped.items()
        ]
        if self.skipped_empty_text:
            phrases.append(f"empty text {self.skipped_empty_text}")
        return phrases


class CrossDomain(NamedTuple):
    """One evaluated file: its per-row predictions and its metrics."""

    predictions: pd.DataFrame
    metrics: CrossDomainMetrics


def rows_match_metrics(paths: tuple[Path, ...], values: tuple[Any, ...]) -> None:
    """The predictions are valid and hold as many rows as the metrics say were evaluated."""
    predictions, metrics = values
    check_predictions(paths[0], predictions)
    if len(predictions) != metrics.rows:
        raise RunError(f"{paths[0]}: {len(predictions)} rows, its metrics say {metrics.rows}")


FAMILY: PartFamily[CrossDomain] = PartFamily(
    "cross_domain",
    ("predictions.parquet", "metrics.json"),
    (TableFile(COLUMNS), JsonFile(CrossDomainMetrics)),
    check=rows_match_metrics,
    value=CrossDomain,
)


def read_evaluation(folder: Path, name: str) -> CrossDomain:
    """An evaluation kept outside any run (`agnews cross-domain --out FOLDER`, laid out as in a run),
    read and checked as `Run.load` reads one; RunError names what is wrong."""
    return read_part(folder, FAMILY.member(name), [])
