"""The splits a run trains, validates and is tested on, from any labelled text dataset.

`agnews.dataset` reads the data (AG News's own folder, a folder or file pair of CSV / TSV / JSON
lines / parquet, or a Hub dataset) and checks it; here it becomes the same `DatasetDict` with
`train`, `validation` and `test` splits and the columns `row_id` (position in the source split),
`text` (cleaned) and `label` (a class id of the dataset's classes, in their stated order).
Validation is carved out of the training rows, stratified and seeded, unless the data has a
validation split of its own; a dataset without a test split gets one carved out the same way
(recorded). The test split is only ever read, never sampled for anything but an explicit
`max_test_samples` cap.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
from sklearn.model_selection import train_test_split

from agnews.config import TrainConfig
from agnews.dataset.assemble import LabelledDataset, Split
from agnews.dataset.description import DatasetDescription
from agnews.dataset.errors import DataError
from agnews.dataset.source import read_source
from agnews.dataset.stratify import require_rows_per_class
from agnews.rundir.decisions import Corrections, DecisionError, read_corrections
from agnews.stats import word_counts
from agnews.text import normalised_key, text_hash

if TYPE_CHECKING:
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

__all__ = ["DataError", "LoadedData", "load_config_data", "load_test_split"]


def features(classes: tuple[str, ...]) -> Features:
    """The columns of every split: row id, cleaned text, class id of `classes`."""
    return Features(
        {"row_id": Value("int64"), "text": Value("string"), "label": ClassLabel(names=list(classes))}
    )


@dataclass
class LoadedData:
    """The splits plus what a run must record about where they came from."""

    splits: DatasetDict
    source: str
    origins: dict[str, str]
    duplicates_dropped: int
    description: DatasetDescription
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def classes(self) -> tuple[str, ...]:
        return self.description.class_names

    def split_hashes(self) -> dict[str, str]:
        """Content hash of each split (texts and labels), so a run says exactly what it saw."""
        return {name: content_hash(ds["text"], ds["label"]) for name, ds in self.splits.items()}

    def stats(self, tokenizer: PreTrainedTokenizerBase | None = None, max_length: int = 0) -> dict[str, Any]:
        """Per-split class counts and text lengths (in characters, words and, given the run's
        `tokenizer`, tokens with the share longer than `max_length`): the data_stats part."""
        splits: dict[str, Any] = {}
        for name, ds in self.splits.items():
            chars = np.array([len(t) for t in ds["text"]])
            words = word_counts(ds["text"])
            counts = Counter(ds["label"])
            splits[name] = {
                "rows": len(ds),
                "class_counts": {label: int(counts.get(i, 0)) for i, label in enumerate(self.classes)},
                "chars": _describe(chars),
                "words": _describe(words),
            }
            if tokenizer is not None:
                splits[name]["tokens"] = token_lengths(ds["text"], tokenizer, max_length)
        return {"splits": splits, "duplicates_dropped_from_train": self.duplicates_dropped, **self.extra}


def token_lengths(texts: list[str], tokenizer: PreTrainedTokenizerBase, max_length: int) -> dict[str, float]:
    """Tokens per text as the model reads it (special tokens included, nothing cut) and the share of
    texts longer than `max_length`, which training, evaluation and serving cut there."""
    encoded = tokenizer(list(texts), truncation=False, verbose=False)  # long texts are the point: no warning
    counts = np.array([len(ids) for ids in encoded["input_ids"]])
    if len(counts) == 0:
        return {}
    return {**_describe(counts), "truncated": round(float((counts > max_length).mean()), 4)}


def _describe(values: np.ndarray) -> dict[str, float]:
    if len(values) == 0:
        return {}
    return {
        "mean": round(float(values.mean()), 2),
        "median": float(np.median(values)),
        "p95": float(np.percentile(values, 95)),
        "max": int(values.max()),
    }


def content_hash(texts: list[str], labels: list[int]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------
# Assembling the DatasetDict
# --------------------------------------------------------------------------------------------------


def stratified_take(indices: np.ndarray, labels: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """Up to `n` of `indices`, keeping the class balance; all of them when `n` is None or larger."""
    if n is None or n >= len(indices):
        return indices
    if n <= 0:
        raise DataError(f"a row cap must be positive, got {n}")
    # A stratified draw needs a row of every class on both sides of the cut.
    present = len(np.unique(labels[indices]))
    stratify = labels[indices] if min(n, len(indices) - n) >= present else None
    taken, _ = train_test_split(indices, train_size=n, random_state=seed, stratify=stratify)
    return np.sort(taken)


def _to_dataset(split: Split, indices: np.ndarray, classes: tuple[str, ...]) -> Dataset:
    return Dataset.from_dict(
        {
            "row_id": [int(i) for i in indices],
            "text": [split.texts[i] for i in indices],
            "label": [split.labels[i] for i in indices],
        },
        features=features(classes),
    )


def _unique_training_rows(train_texts: list[str], test_texts: list[str]) -> tuple[np.ndarray, int, int]:
    """Positions of the training rows to keep, and how many were dropped for each reason.

    A training row equal (after normalisation) to a test row would inflate test accuracy; a row
    repeated within the training file could land in both train and validation and inflate the
    validation score that picks the best epoch. The first occurrence of a repeated row is kept.
    """
    test_keys = {normalised_key(t) for t in test_texts}
    seen: set[str] = set()
    kept: list[int] = []
    in_test = repeats = 0
    for i, text in enumerate(train_texts):
        key = normalised_key(text)
        if key in test_keys:
            in_test += 1
        elif key in seen:
            repeats += 1
        else:
            seen.add(key)
            kept.append(i)
    return np.array(kept, dtype=np.int64), in_test, repeats


def _carve(
    indices: np.ndarray, labels: np.ndarray, fraction: float, seed: int, classes: tuple[str, ...], what: str
) -> tuple[np.ndarray, np.ndarray]:
    """`indices` split into (kept, carved out): `fraction` of them, stratified by class and seeded.

    A class too small to have rows on both sides is refused (`agnews.dataset.stratify`), naming it."""
    carved = max(len(classes), round(len(indices) * fraction))
    counts = Counter(labels[indices].tolist())
    try:
        require_rows_per_class({classes[i]: n for i, n in counts.items()}, carved)
    except DataError as exc:
        raise DataError(f"{what}: {exc}") from None
    kept, out = train_test_split(indices, test_size=carved, random_state=seed, stratify=labels[indices])
    return np.sort(kept), np.sort(out)


def build_splits(read: LabelledDataset, config: TrainConfig) -> LoadedData:
    """The run's splits from a read dataset, as `config` says (validation share, split seed, caps).

    Training rows whose normalised text equals a test row's are dropped (and counted) so test accuracy
    is honest; validation is carved out of the rest unless the data has its own; a dataset without a
    test split has one carved out of the training rows first, the same way (recorded in the stats).
    """
    classes = read.description.class_names
    train = read.train
    train_labels = np.array(train.labels)
    extra: dict[str, Any] = {}
    test = read.test
    if test is None:
        everything = np.arange(len(train.texts))
        kept_rows, test_rows = _carve(
            everything, train_labels, config.validation_fraction, config.split_seed, classes,
            f"{train.origin} (no test split: one is carved out)",
        )  # fmt: skip
        test = dataclasses.replace(
            train,
            texts=[train.texts[i] for i in test_rows],
            labels=[train.labels[i] for i in test_rows],
            rows=[train.rows[i] for i in test_rows],
            origin=f"{train.origin} (test carved out)",
        )
        train = dataclasses.replace(
            train,
            texts=[train.texts[i] for i in kept_rows],
            labels=[train.labels[i] for i in kept_rows],
            rows=[train.rows[i] for i in kept_rows],
        )
        train_labels = np.array(train.labels)
        extra["test_carved_from_train"] = len(test_rows)
    kept, duplicates, repeats = _unique_training_rows(train.texts, test.texts)
    if len(kept) == 0:
        raise DataError(f"{train.origin}: every training row also appears in the test split")
    validation = read.validation
    if validation is None:
        train_idx, val_idx = _carve(
            kept, train_labels, config.validation_fraction, config.split_seed, classes, train.origin
        )
        validation_source, validation_rows = train, val_idx
    else:
        train_idx = kept
        validation_source = validation
        validation_rows = np.arange(len(validation.texts))
    seed = config.split_seed
    train_idx = stratified_take(train_idx, train_labels, config.max_train_samples, seed)
    validation_labels = np.array(validation_source.labels)
    validation_rows = stratified_take(validation_rows, validation_labels, config.max_validation_samples, seed)
    test_labels = np.array(test.labels)
    test_idx = stratified_take(np.arange(len(test.texts)), test_labels, config.max_test_samples, seed)

    splits = DatasetDict(
        train=_to_dataset(train, train_idx, classes),
        validation=_to_dataset(validation_source, validation_rows, classes),
        test=_to_dataset(test, test_idx, classes),
    )
    origins = {"train": train.origin, "validation": validation_source.origin, "test": test.origin}
    return LoadedData(
        splits,
        read.description.source,
        origins,
        duplicates,
        read.description,
        {"repeated_training_rows_dropped": repeats, **extra},
        read.warnings,
    )


def load_test_split(
    config: TrainConfig, classes: tuple[str, ...], source: str | None, max_test_samples: int | None = None
) -> Dataset:
    """Only the test split (for `agnews evaluate`), read with the run's data options from `source` (None:
    the run's own data), its labels as ids of the run's `classes`; RunError-free DataError when the
    data names a class the run does not have."""
    settings = config if source is None else dataclasses.replace(config, data=source, dataset=None)
    read = read_source(settings)
    if read.test is None:
        raise DataError(f"{read.description.source}: no test split to evaluate on")
    own = read.description.class_names
    unknown = sorted({own[i] for i in read.test.labels} - set(classes))
    if unknown:
        raise DataError(
            f"{read.test.origin}: classes {unknown} are not classes of the run ({', '.join(classes)})"
        )
    test = dataclasses.replace(read.test, labels=[classes.index(own[i]) for i in read.test.labels])
    labels = np.array(test.labels)
    idx = stratified_take(np.arange(len(test.texts)), labels, max_test_samples, config.split_seed)
    return _to_dataset(test, idx, classes)


def load_config_data(config: TrainConfig, source: str | None = None) -> LoadedData:
    """The splits `config` describes (data options, split seed, caps, validation share, training rows
    dropped as label issues or corrected), from `source` (a path standing in for `--data`) or the
    config's own data."""
    settings = config if source is None else dataclasses.replace(config, data=source, dataset=None)
    data = build_splits(read_source(settings), settings)
    if config.drop_label_issues is not None:
        path = Path(config.drop_label_issues).expanduser()
        removed = apply_corrections(data, Corrections.removing(read_text_hashes(path)), path)
        data.extra["label_issue_rows_dropped"] = removed
    if config.corrections is not None:
        path = Path(config.corrections).expanduser()
        try:
            corrections = read_corrections(path)
        except DecisionError as exc:
            raise DataError(str(exc)) from exc
        apply_corrections(data, corrections, path)
    return data


def read_text_hashes(path: Path) -> set[str]:
    """The `text_hash` column of a label-issue export (the CSV the app writes of flagged training rows)."""
    if not path.is_file():
        raise DataError(
            f"{path}: file not found (--drop-label-issues takes the app's CSV of flagged training rows)"
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    if "text_hash" not in frame.columns:
        raise DataError(
            f"{path}: no `text_hash` column (it has {list(frame.columns)}); export the flagged training "
            "rows from the app's Label issues tab"
        )
    hashes = {value.strip() for value in frame["text_hash"] if value.strip()}
    if not hashes:
        raise DataError(f"{path}: the `text_hash` column is empty")
    return hashes


def apply_corrections(data: LoadedData, corrections: Corrections, path: Path) -> int:
    """Relabel and leave out training rows as `corrections` (from `path`) says, after the validation
    split (so runs with and without them share their validation rows); return the rows left out.

    Every decision must name a training row of this run: a file made on other training rows (another
    data folder, split seed or row cap) is refused, never half applied. A corrections file also
    carries the split hash it was made on, checked first; with `--drop-label-issues` (only removals,
    no hash) the text hashes alone decide. What was applied goes into the run's data stats.
    """
    train = data.splits["train"]
    own_hash = data.split_hashes()["train"]
    if corrections.split_hash and corrections.split_hash != own_hash:
        raise DataError(
            f"{path}: made on other training rows (split hash {corrections.split_hash[:12]}, this run's "
            f"{own_hash[:12]}): another data folder, split seed or row cap; export the decisions of a run "
            "trained on these rows"
        )
    hashes = [text_hash(text) for text in train["text"]]
    named = corrections.removed | corrections.relabelled.keys()
    unknown = sorted(named - set(hashes))
    if unknown:
        what = "none" if len(unknown) == len(named) else f"{len(unknown)}"
        raise DataError(
            f"{path}: {what} of its {len(named)} text hashes matches a training row of this run (e.g. "
            f"{unknown[0]}); it was exported from a run with other training rows (data, split seed or "
            "row cap)"
        )
    strange = sorted(set(corrections.relabelled.values()) - set(data.classes))
    if strange:
        raise DataError(
            f"{path}: relabels to {strange}, not classes of this data ({', '.join(data.classes)})"
        )
    labels = [
        data.classes.index(corrections.relabelled[h]) if h in corrections.relabelled else label
        for h, label in zip(hashes, train["label"], strict=True)
    ]
    keep = np.array([h not in corrections.removed for h in hashes])
    if corrections.relabelled:
        columns = {name: train[name] for name in train.column_names}
        train = Dataset.from_dict({**columns, "label": labels}, features=train.features)
    data.splits["train"] = train.select(np.flatnonzero(keep))
    if corrections.split_hash:
        data.extra["corrections"] = {
            "file": path.name,
            "split_hash": corrections.split_hash,
            "relabelled": len(corrections.relabelled),
            "removed": len(corrections.removed),
            "kept": corrections.kept,
            "test_rows_not_applied": corrections.test_rows,
        }
    return int((~keep).sum())
