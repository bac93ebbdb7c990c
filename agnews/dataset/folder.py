"""Find and read the splits of a local dataset: a folder, or a training file plus a test file.

The folder rule: a split's file is named for it, `train.*`, `test.*` and optionally `validation.*`
or `dev.*`, where `*` is one of `csv`, `tsv`, `jsonl`, `parquet` (names compared without case).
Training and test files are required, validation is optional; two candidates for one split (say
`train.csv` and `train.parquet`, or `dev.tsv` and `validation.tsv`) are refused naming both; other
files in the folder are ignored. The splits may use different formats.

AG News is read its own way (`agnews.dataset.ag_news` says when); everything else is read with
`agnews.dataset.files` and checked with `agnews.dataset.assemble`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agnews.dataset.ag_news import (
    AG_NEWS,
    CLASSES_FILE,
    ag_news_train_file,
    is_ag_news_folder,
    read_ag_news,
)
from agnews.dataset.assemble import LabelledDataset, assemble
from agnews.dataset.errors import DataError
from agnews.dataset.files import FORMATS, read_table

SPLIT_FILE_STEMS: dict[str, tuple[str, ...]] = {
    "train": ("train",),
    "validation": ("validation", "dev"),
    "test": ("test",),
}


def split_files(folder: Path) -> dict[str, Path]:
    """The file of each split present in `folder` (see the module's rule); refuses ambiguity."""
    found: dict[str, list[Path]] = {split: [] for split in SPLIT_FILE_STEMS}
    stems = {stem: split for split, names in SPLIT_FILE_STEMS.items() for stem in names}
    for path in sorted(folder.iterdir()):
        split = stems.get(path.stem.lower())
        if split is not None and path.suffix.lower() in FORMATS and path.is_file():
            found[split].append(path)
    files: dict[str, Path] = {}
    for split, paths in found.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            raise DataError(f"{folder}: two files for the {split} split ({names}); keep one")
        if paths:
            files[split] = paths[0]
    for split in ("train", "test"):
        if split not in files:
            expected = ", ".join(f"{split}{ext}" for ext in FORMATS)
            raise DataError(f"{folder}: no {split} file; expected one of {expected}")
    return files


def read_folder(
    folder: Path,
    *,
    text_columns: Sequence[str] = ("text",),
    label_column: str = "label",
    label_names: Sequence[str] | None = None,
    name: str | None = None,
    domain: str | None = None,
) -> LabelledDataset:
    """The dataset in `folder`: AG News when it is AG News (its `classes.txt`, or `name="ag_news"`),
    whose columns are fixed; otherwise the split files of the module's rule, read by their headers."""
    if not folder.is_dir():
        raise DataError(f"{folder}: data folder not found")
    source = str(folder.resolve())
    if name == AG_NEWS or is_ag_news_folder(folder):
        return read_ag_news(ag_news_train_file(folder), folder / "test.csv", source)
    warnings = []
    if (folder / CLASSES_FILE).is_file():
        warnings.append(
            f"{folder / CLASSES_FILE} is not AG News's; the folder is read as generic data (by its header "
            "rows) and the classes come from the training labels"
        )
    files = split_files(folder)
    return assemble(
        {split: read_table(path) for split, path in files.items()},
        name=name or folder.resolve().name,
        source=source,
        text_columns=text_columns,
        label_column=label_column,
        label_names=label_names,
        domain=domain,
        warnings=warnings,
    )


def read_files(
    train: Path,
    test: Path,
    *,
    validation: Path | None = None,
    text_columns: Sequence[str] = ("text",),
    label_column: str = "label",
    label_names: Sequence[str] | None = None,
    name: str | None = None,
    domain: str | None = None,
) -> LabelledDataset:
    """A training file plus a test file (and an optional validation file), each in any of the four
    formats; `name="ag_news"` reads them as AG News's CSVs (no validation file)."""
    source = str(train.resolve())
    if name == AG_NEWS:
        if validation is not None:
            raise DataError(f"{validation}: AG News has no validation file; validation is carved from train")
        return read_ag_news(train, test, source)
    paths = {"train": train, "validation": validation, "test": test}
    return assemble(
        {split: read_table(path) for split, path in paths.items() if path is not None},
        name=name or train.stem,
        source=source,
        text_columns=text_columns,
        label_column=label_column,
        label_names=label_names,
        domain=domain,
    )
