"""What `agnews data check` prints: what training would read, without training.

For each split its file (or Hub split), format, columns, rows, class counts and text lengths (in
words and characters), the splits training carves out of the training rows (a test split when the
data has none, then validation when it has none), then the warnings and the verdict: "OK: training
would read this", or the refusal. A refusal while reading is the first one (reading stops there, as
training would) and leaves nothing else to show; a refusal of a carved split (a class too small to
stratify) comes after the splits, so their counts show why.
Class and column names are shown as text, never interpreted.

`render()` is the text a person reads; `to_dict()` is the `--json` form, for the page. Its keys are
stable (a change bumps `schema_version`):

- `schema_version`: 1.
- `ok`: whether training would read the data; `refusal`: the message when not, else null.
- `dataset`: the description a run records (`DatasetDescription.to_dict()`: `name`, `source`,
  `text_columns`, `label_column`, `class_names` in class-id order, `cleaning`, `domain`), or null
  when reading was refused.
- `splits`: one object per split read, in the order train, validation, test: `name`, `origin` (a file
  path or `HUB_ID:split`), `format` (CSV, TSV, JSON lines, parquet or Hub dataset), `columns` (the
  source's own), `rows`, `class_counts` (class name to rows, every class, in class order), and
  `words` and `chars`, each `{mean, p5, p50, p95, max}`.
- `carved`: the splits carved out of the training rows, in the order training carves them, each
  `{split, fraction, rows, rows_needed_per_class}`: `test` when the data has no test split, then
  `validation` when it has no validation split; empty when the data brings both.
- `warnings`: what a person should know that does not stop training (among them, rows of a
  validation or test split the data brings that are also training rows: `copies_of_training_rows`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agnews.dataset.assemble import LabelledDataset, Split
from agnews.dataset.description import DatasetDescription
from agnews.dataset.errors import DataError
from agnews.dataset.files import FORMATS
from agnews.dataset.stratify import require_rows_per_class, rows_needed_per_class, validation_rows
from agnews.formatting import count, number, percent

SCHEMA_VERSION = 1
PERCENTILES: tuple[int, ...] = (5, 50, 95)
OK_LINE = "OK: training would read this"
HUB_FORMAT = "Hub dataset"


@dataclass(frozen=True)
class Lengths:
    """A split's text lengths in one unit: mean, percentiles and the longest."""

    mean: float
    percentiles: dict[int, float]
    max: int

    @classmethod
    def of(cls, values: list[int]) -> Lengths:
        array = np.asarray(values)
        points = np.percentile(array, PERCENTILES)
        at = dict(zip(PERCENTILES, map(float, points), strict=True))
        return cls(float(array.mean()), at, int(array.max()))

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, **{f"p{p}": v for p, v in self.percentiles.items()}, "max": self.max}

    def render(self) -> str:
        shown = ", ".join(f"p{p} {count(round(v))}" for p, v in self.percentiles.items())
        return f"mean {number(self.mean, 1)}, {shown}, max {count(self.max)}"


@dataclass(frozen=True)
class SplitCheck:
    """One split as training would read it."""

    name: str
    origin: str
    format: str
    columns: tuple[str, ...]
    rows: int
    class_counts: dict[str, int]
    words: Lengths
    chars: Lengths

    @classmethod
    def of(cls, name: str, split: Split, classes: tuple[str, ...]) -> SplitCheck:
        counts = Counter(split.labels)
        return cls(
            name=name,
            origin=split.origin,
            format=format_of(split.origin),
            columns=split.columns,
            rows=len(split.texts),
            class_counts={c: counts.get(i, 0) for i, c in enumerate(classes)},
            words=Lengths.of([len(t.split()) for t in split.texts]),
            chars=Lengths.of([len(t) for t in split.texts]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "format": self.format,
            "columns": list(self.columns),
            "rows": self.rows,
            "class_counts": dict(self.class_counts),
            "words": self.words.to_dict(),
            "chars": self.chars.to_dict(),
        }


@dataclass(frozen=True)
class Carving:
    """A split training carves out of the training rows, stratified, and what it asks of each class."""

    split: str
    fraction: float
    rows: int
    rows_needed_per_class: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "fraction": self.fraction,
            "rows": self.rows,
            "rows_needed_per_class": self.rows_needed_per_class,
        }


@dataclass(frozen=True)
class DataCheck:
    """The report: the description and splits when the data reads, and the refusal when it is refused."""

    description: DatasetDescription | None
    splits: tuple[SplitCheck, ...]
    carved: tuple[Carving, ...]
    warnings: tuple[str, ...]
    refusal: str | None

    @property
    def ok(self) -> bool:
        return self.refusal is None

    def to_dict(self) -> dict[str, Any]:
        """The `--json` form; the module lists its keys."""
        return {
            "schema_version": SCHEMA_VERSION,
            "ok": self.ok,
            "refusal": self.refusal,
            "dataset": None if self.description is None else self.description.to_dict(),
            "splits": [split.to_dict() for split in self.splits],
            "carved": [carving.to_dict() for carving in self.carved],
            "warnings": list(self.warnings),
        }

    def render(self, *, verdict: bool = True) -> str:
        """Plain text for a terminal, names quoted where they hold anything but printable text; the
        last line is the verdict unless `verdict` is False (the command prints a refusal as its error)."""
        lines = [] if self.description is None else self._report_lines(self.description)
        if verdict:
            lines += ["", OK_LINE] if self.ok else ["", f"refused: {self.refusal}"]
        return "\n".join(lines).strip("\n")

    def _report_lines(self, d: DatasetDescription) -> list[str]:
        lines = [
            f"dataset {_shown(d.name)} from {_shown(d.source)}",
            f"  text column(s): {', '.join(map(_shown, d.text_columns))}",
            f"  label column: {_shown(d.label_column)}",
            f"  cleaning: {d.cleaning}; domain: {d.domain or 'not declared'}",
            f"  {count(len(d.class_names))} classes, in order: {', '.join(map(_shown, d.class_names))}",
        ]
        for split in self.splits:
            lines += [
                "",
                f"{split.name}: {count(split.rows)} rows from {_shown(split.origin)} ({split.format})",
                f"  columns: {', '.join(map(_shown, split.columns))}",
                f"  words: {split.words.render()}",
                f"  characters: {split.chars.render()}",
                "  rows per class:",
                *(f"    {count(n):>9}  {_shown(name)}" for name, n in split.class_counts.items()),
            ]
        for carving in self.carved:
            lines += [
                "",
                f"carved {carving.split} split: {count(carving.rows)} of the training rows (share "
                f"{number(carving.fraction, 2)}, stratified); each class needs at least "
                f"{count(carving.rows_needed_per_class)} training rows",
            ]
        if self.warnings:
            lines += ["", "warnings:", *(f"  - {w}" for w in self.warnings)]
        return lines


def format_of(origin: str) -> str:
    """A split's format: a file's by its extension (as the reader chose it), else a Hub dataset split."""
    path = Path(origin)
    return FORMATS.get(path.suffix.lower(), HUB_FORMAT) if path.is_file() else HUB_FORMAT


def _shown(text: str) -> str:
    """`text` as is when it is printable, else its repr (a terminal must not act on what data holds)."""
    return text if text.isprintable() else repr(text)


def check_data(read: Callable[[], LabelledDataset], *, validation_fraction: float | None) -> DataCheck:
    """Run `read` (any of the readers bound to its arguments, or `read_source` bound to a config) and
    report what it gave or refused.

    `validation_fraction` is the share training carves out of the training rows for each split the
    data lacks: first a test split, then validation from the rest; every class must then have rows
    on both sides of each cut (`agnews.dataset.stratify`). None is for a caller that never carves.
    """
    try:
        data = read()
    except DataError as exc:
        return DataCheck(None, (), (), (), str(exc))
    classes = data.description.class_names
    splits = tuple(SplitCheck.of(name, split, classes) for name, split in data.splits().items())
    carved: list[Carving] = []
    refusal = None
    if validation_fraction is not None:
        counts = dict(splits[0].class_counts)
        lacking = [name for name in ("test", "validation") if getattr(data, name) is None]
        try:
            for split in lacking:
                carving = carve(split, counts, validation_fraction)
                carved.append(carving)
                counts = remaining_counts(counts, carving.rows)
        except DataError as exc:
            refusal = f"{data.train.origin}: {exc}"
    warnings = (*data.warnings, *copies_of_training_rows(data))
    return DataCheck(data.description, splits, tuple(carved), warnings, refusal)


def copies_of_training_rows(data: LabelledDataset) -> list[str]:
    """A warning for each held-out split the data brings (validation, test) whose rows are also
    training rows, the same text up to spacing and case: such rows measure recall of the training
    rows more than generalisation, and lift that split's accuracy. One pass over each split (a set
    of the training texts), so a large dataset is checked in linear time. Near-copies are the run's
    Data tab's (`agnews.analyses.dataset_checks`), which needs the texts' vectors."""
    labels_of: dict[str, set[int]] = {}
    for text, label in zip(data.train.texts, data.train.labels, strict=True):
        labels_of.setdefault(_same_text(text), set()).add(label)
    warnings = []
    for name in ("validation", "test"):
        split: Split | None = getattr(data, name)
        if split is None:
            continue
        copies = [
            (labels_of.get(_same_text(t)), label) for t, label in zip(split.texts, split.labels, strict=True)
        ]
        found = [(given, label) for given, label in copies if given is not None]
        if not found:
            continue
        relabelled = sum(1 for given, label in found if given != {label})
        other = f", {count(relabelled)} of them with another label there" if relabelled else ""
        share = len(found) / len(split.texts)
        shown = percent(share) if share >= 0.001 else "under 0.1%"
        verb = "is also a training row" if len(found) == 1 else "are also training rows"
        warnings.append(
            f"{count(len(found))} of the {count(len(split.texts))} {name} rows ({shown}) {verb} (the "
            f"same text){other}: such rows measure recall of the training rows more than generalisation; "
            f"remove them from one side for an honest {name} score"
        )
    return warnings


def _same_text(text: str) -> str:
    """What two texts that are the same up to spacing and case share."""
    return " ".join(text.split()).casefold()


def carve(split: str, counts: dict[str, int], fraction: float) -> Carving:
    """The carving of `split` out of training rows with class `counts`; DataError when a class is too
    small to stratify."""
    total = sum(counts.values())
    rows = validation_rows(total, fraction, len(counts))
    try:
        carving = Carving(split, fraction, rows, rows_needed_per_class(total, rows))
        require_rows_per_class(counts, rows)
    except DataError as exc:
        raise DataError(f"carving the {split} split: {exc}") from None
    return carving


def remaining_counts(counts: dict[str, int], carved: int) -> dict[str, int]:
    """Each class's rows left after a stratified cut of `carved` rows: its share of the cut, rounded,
    taken off. A stratified split may round one row differently, so a class right at the minimum of
    the next cut can be judged one row off."""
    total = sum(counts.values())
    return {name: n - round(n * carved / total) for name, n in counts.items()}
