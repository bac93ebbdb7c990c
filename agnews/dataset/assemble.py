"""What reading a dataset gives (cleaned splits with class ids, its description, its warnings), and
how the tables of a generic dataset become it.

A split's texts are its text columns joined with one space (as AG News joins title and description)
and then cleaned; a row whose text is empty after cleaning is refused, as is a label the training
split lacks. A class missing from the test or validation split is only a warning: the model can
still learn it, only its score on that split is undefined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from agnews.dataset.classes import (
    class_ids,
    class_order,
    is_integer_literal,
    read_labels,
    refuse_multi_label,
)
from agnews.dataset.cleaning import cleaner
from agnews.dataset.description import DatasetDescription
from agnews.dataset.errors import DataError
from agnews.dataset.files import Table

SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
TEXT_OPTION = "--text-column"
LABEL_OPTION = "--label-column"
# A header cell longer than this, or with more words, is text, not a column name.
_HEADER_MAX_CHARS = 60
_HEADER_MAX_WORDS = 6


@dataclass(frozen=True)
class Split:
    """One split as training will see it: cleaned texts, class ids, and where each row came from.

    `rows[i]` is where row `i` is found in `origin` (see `agnews.dataset.files`); `columns` are the
    columns the source had, for `agnews data check`.
    """

    texts: list[str]
    labels: list[int]
    origin: str
    rows: list[int]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class LabelledDataset:
    """A dataset read and checked: its description, its splits (validation and test may be absent:
    the caller carves them) and the warnings a person should see."""

    description: DatasetDescription
    train: Split
    validation: Split | None
    test: Split | None
    warnings: tuple[str, ...]

    def splits(self) -> dict[str, Split]:
        """The splits present, by name, in the order train, validation, test."""
        present = {"train": self.train, "validation": self.validation, "test": self.test}
        return {name: split for name, split in present.items() if split is not None}


def missing_class_warnings(classes: Sequence[str], splits: Mapping[str, Split]) -> list[str]:
    """A warning per evaluation split (not train) that has no row of some class."""
    warnings = []
    for name, split in splits.items():
        if name == "train":
            continue
        present = set(split.labels)
        absent = [classes[i] for i in range(len(classes)) if i not in present]
        if absent:
            shown = ", ".join(repr(c) for c in absent[:10]) + (" ..." if len(absent) > 10 else "")
            warnings.append(
                f"{split.origin}: no {name} rows of {len(absent)} class(es) ({shown}); their {name} "
                "scores will be undefined"
            )
    return warnings


def assemble(
    tables: Mapping[str, Table],
    *,
    name: str,
    source: str,
    text_columns: Sequence[str] = ("text",),
    label_column: str = "label",
    label_names: Sequence[str] | None = None,
    cleaning: str = "plain",
    domain: str | None = None,
    warnings: Sequence[str] = (),
) -> LabelledDataset:
    """The dataset held by `tables` (keyed by split name; "train" required), checked as the module
    says; `label_names` fixes the class order (see `agnews.dataset.classes`)."""
    unknown = sorted(set(tables) - set(SPLIT_NAMES))
    if unknown or "train" not in tables:
        raise ValueError(f"splits must include train and be among {SPLIT_NAMES}, got {sorted(tables)}")
    if not text_columns:
        raise DataError(f"no text column given; name one with {TEXT_OPTION}")
    for table in tables.values():
        if not len(table):
            raise DataError(f"{table.origin}: no data rows")
    clean = cleaner(cleaning)
    labels = {
        split: read_labels(_column(table, label_column, LABEL_OPTION), table.rows, table.origin, label_column)
        for split, table in tables.items()
    }
    refuse_multi_label(labels["train"], tables["train"].rows)
    classes = class_order(labels["train"], label_names)
    splits: dict[str, Split] = {}
    for split in SPLIT_NAMES:
        if split not in tables:
            continue
        table = tables[split]
        refuse_multi_label(labels[split], table.rows, set(classes))
        ids = class_ids(labels[split], classes, table.rows)
        texts = _texts(table, text_columns, clean)
        splits[split] = Split(texts, ids, table.origin, list(table.rows), table.columns)
    description = DatasetDescription(
        name=name,
        source=source,
        text_columns=tuple(text_columns),
        label_column=label_column,
        class_names=classes,
        cleaning=cleaning,
        domain=domain,
    )
    return LabelledDataset(
        description,
        splits["train"],
        splits.get("validation"),
        splits.get("test"),
        (*warnings, *missing_class_warnings(classes, splits)),
    )


def _column(table: Table, column: str, option: str) -> list[object]:
    """The cells of `column`; a missing one is refused listing the columns the source has."""
    if column in table.cells:
        return table.cells[column]
    has = ", ".join(repr(c) for c in table.columns) or "none"
    message = f"{table.origin}: no column {column!r}; its columns are {has}. Name the column with {option}"
    if not table.typed and _looks_like_data(table.columns):
        message += (
            ". Its first row looks like data, not a header: the file needs a header row naming its "
            "columns first (e.g. text,label)"
        )
    raise DataError(message)


def _looks_like_data(header: Sequence[str]) -> bool:
    """Whether a CSV/TSV header row is more likely a data row (an integer cell, or a cell of prose)."""
    return any(
        is_integer_literal(cell) or len(cell) > _HEADER_MAX_CHARS or len(cell.split()) > _HEADER_MAX_WORDS
        for cell in header
    )


def _texts(table: Table, text_columns: Sequence[str], clean: Callable[[str], str]) -> list[str]:
    columns = [(c, _column(table, c, TEXT_OPTION)) for c in text_columns]
    texts: list[str] = []
    empty: list[int] = []
    for i, row in enumerate(table.rows):
        parts = []
        for name, cells in columns:
            cell = cells[i]
            if cell is None:
                continue
            if not isinstance(cell, str):
                raise DataError(
                    f"{table.origin}: row {row}: column {name!r} holds {type(cell).__name__} {cell!r}, "
                    "not text; is it the text column?"
                )
            parts.append(cell)
        text = clean(" ".join(parts))
        if not text:
            empty.append(row)
        texts.append(text)
    if len(empty) == len(texts):
        raise DataError(f"{table.origin}: the text column(s) {', '.join(map(repr, text_columns))} are empty")
    if empty:
        raise DataError(
            f"{table.origin}: {len(empty)} rows have empty or whitespace-only text (first: row {empty[0]}); "
            "remove them or fill them in"
        )
    return texts
