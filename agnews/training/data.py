"""Load AG News from the Hub or a local folder, validate it, clean it, and split it.

Every source ends as the same `DatasetDict` with `train`, `validation` and `test` splits and the
columns `row_id` (position in the source split), `text` (cleaned) and `label` (0-3). Validation is
carved out of the training rows, stratified and seeded; the test split is only ever read, never
split or sampled for anything but an explicit `max_test_samples` cap.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
from sklearn.model_selection import train_test_split

from agnews.config import HUB_DATASET_ID, TrainConfig
from agnews.labels import LABELS, NUM_LABELS
from agnews.rundir.decisions import Corrections, DecisionError, read_corrections
from agnews.text import clean_text, normalised_key, text_hash

OFFLINE_HINT = "pass --data PATH to a local folder with the AG News CSVs, e.g. ../shared/data/ag_news"


class DataError(ValueError):
    """Input data that cannot be used; the message names the file and row and says what to fix."""


FEATURES = Features(
    {
        "row_id": Value("int64"),
        "text": Value("string"),
        "label": ClassLabel(names=list(LABELS)),
    }
)


@dataclass(frozen=True)
class RawSplit:
    """One split as read from its source, before cleaning decisions that involve other splits."""

    texts: list[str]
    labels: list[int]
    origin: str  # file path or Hub id + split, for messages and the run's config


@dataclass
class LoadedData:
    """The splits plus what a run must record about where they came from."""

    splits: DatasetDict
    source: str
    origins: dict[str, str]
    duplicates_dropped: int
    extra: dict[str, Any] = field(default_factory=dict)

    def split_hashes(self) -> dict[str, str]:
        """Content hash of each split (texts and labels), so a run says exactly what it saw."""
        return {name: content_hash(ds["text"], ds["label"]) for name, ds in self.splits.items()}

    def stats(self) -> dict[str, Any]:
        """Per-split class counts and text lengths (in characters and words): the data_stats part."""
        splits: dict[str, Any] = {}
        for name, ds in self.splits.items():
            chars = np.array([len(t) for t in ds["text"]])
            words = np.array([len(t.split()) for t in ds["text"]])
            counts = Counter(ds["label"])
            splits[name] = {
                "rows": len(ds),
                "class_counts": {LABELS[i]: int(counts.get(i, 0)) for i in range(NUM_LABELS)},
                "chars": _describe(chars),
                "words": _describe(words),
            }
        return {"splits": splits, "duplicates_dropped_from_train": self.duplicates_dropped, **self.extra}


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
# Reading one CSV file
# --------------------------------------------------------------------------------------------------


def read_csv_split(path: Path) -> RawSplit:
    """Read an AG News CSV in either shape and return cleaned texts with 0-based labels.

    Shapes (detected from the first row):
    - original: `class (1-4), title, description`, no header;
    - Hub-shaped: `text, label (0-3)`, optionally with a `text,label` header.
    """
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    rows: list[list[str]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            rows.extend(reader)
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except csv.Error as exc:
            raise DataError(f"{path}: malformed CSV at line {reader.line_num}: {exc}") from exc
    if not rows:
        raise DataError(f"{path}: the file is empty")

    first = [cell.strip().lower() for cell in rows[0]]
    start = 0
    if first == ["text", "label"]:
        start = 1
    width = len(rows[0])
    if width == 3:
        parse = _parse_original_row
    elif width == 2:
        parse = _parse_hub_row
    else:
        raise DataError(
            f"{path}: row 1 has {width} columns; expected 3 (class, title, description) or 2 (text, label)"
        )

    texts: list[str] = []
    labels: list[int] = []
    for index in range(start, len(rows)):
        row = rows[index]
        line = index + 1
        if len(row) != width:
            raise DataError(f"{path}: row {line} has {len(row)} columns, expected {width}")
        text, label = parse(row, path, line)
        if not text:
            raise DataError(f"{path}: row {line} has empty text")
        texts.append(text)
        labels.append(label)
    if not texts:
        raise DataError(f"{path}: no data rows")
    return RawSplit(texts, labels, str(path))


def _parse_label(value: str, low: int, path: Path, line: int) -> int:
    try:
        label = int(value.strip())
    except ValueError:
        raise DataError(f"{path}: row {line}: class {value!r} is not an integer") from None
    if not low <= label < low + NUM_LABELS:
        raise DataError(f"{path}: row {line}: class {label} out of range {low}-{low + NUM_LABELS - 1}")
    return label - low


def _parse_original_row(row: list[str], path: Path, line: int) -> tuple[str, int]:
    label = _parse_label(row[0], 1, path, line)
    return clean_text(f"{row[1]} {row[2]}"), label


def _parse_hub_row(row: list[str], path: Path, line: int) -> tuple[str, int]:
    label = _parse_label(row[1], 0, path, line)
    return clean_text(row[0]), label


# --------------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------------


def _train_file(folder: Path) -> Path:
    """`train.csv` if present, else the one `train*.csv` (e.g. the offline 5k sample)."""
    if (folder / "train.csv").is_file():
        return folder / "train.csv"
    candidates = sorted(folder.glob("train*.csv"))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise DataError(f"{folder}: no train.csv (or train*.csv) found")
    names = ", ".join(c.name for c in candidates)
    raise DataError(f"{folder}: several training files ({names}); keep one or add train.csv")


def read_local(folder: Path) -> tuple[RawSplit, RawSplit]:
    if not folder.is_dir():
        raise DataError(f"{folder}: data folder not found; {OFFLINE_HINT}")
    test_file = folder / "test.csv"
    if not test_file.is_file():
        raise DataError(f"{folder}: test.csv not found")
    return read_csv_split(_train_file(folder)), read_csv_split(test_file)


def read_hub(dataset_id: str = HUB_DATASET_ID) -> tuple[RawSplit, RawSplit]:
    """Download the Hub dataset, failing fast (no retry hang) when the Hub cannot be reached."""
    import datasets
    import huggingface_hub

    if not os.environ.get("HF_HUB_OFFLINE"):
        try:
            huggingface_hub.HfApi().dataset_info(dataset_id, timeout=10)
        except Exception as exc:
            raise DataError(
                f"cannot reach the Hugging Face Hub for {dataset_id} ({type(exc).__name__}); {OFFLINE_HINT}"
            ) from exc
    try:
        hub = datasets.load_dataset(dataset_id)
    except Exception as exc:
        raise DataError(f"could not load {dataset_id} from the Hub: {exc}; {OFFLINE_HINT}") from exc
    raw = []
    for split in ("train", "test"):
        texts = [clean_text(t) for t in hub[split]["text"]]
        raw.append(RawSplit(texts, list(hub[split]["label"]), f"{dataset_id}:{split}"))
    return raw[0], raw[1]


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
    stratify = labels[indices] if min(n, len(indices) - n) >= NUM_LABELS else None
    taken, _ = train_test_split(indices, train_size=n, random_state=seed, stratify=stratify)
    return np.sort(taken)


def _to_dataset(raw: RawSplit, indices: np.ndarray) -> Dataset:
    return Dataset.from_dict(
        {
            "row_id": [int(i) for i in indices],
            "text": [raw.texts[i] for i in indices],
            "label": [raw.labels[i] for i in indices],
        },
        features=FEATURES,
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
    return np.array(kept), in_test, repeats


def load_ag_news(
    source: str | Path | None = None,
    *,
    validation_fraction: float = 0.1,
    seed: int = 42,
    max_train_samples: int | None = None,
    max_validation_samples: int | None = None,
    max_test_samples: int | None = None,
) -> LoadedData:
    """Load AG News into train / validation / test.

    `source` is a local folder (original or Hub-shaped CSVs) or None for the Hub. Training rows whose
    normalised text equals a test row's are dropped (and counted) so test accuracy is honest.
    """
    if not 0 < validation_fraction < 1:
        raise DataError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    if source is None:
        train_raw, test_raw = read_hub()
        source_name = HUB_DATASET_ID
    else:
        folder = Path(source).expanduser()
        train_raw, test_raw = read_local(folder)
        source_name = str(folder.resolve())

    train_labels = np.array(train_raw.labels)
    kept, duplicates, repeats = _unique_training_rows(train_raw.texts, test_raw.texts)

    n_val = max(NUM_LABELS, round(len(kept) * validation_fraction))
    if len(kept) - n_val < NUM_LABELS:
        raise DataError(f"{train_raw.origin}: too few training rows ({len(kept)}) to split")
    train_idx, val_idx = train_test_split(
        kept, test_size=n_val, random_state=seed, stratify=train_labels[kept]
    )
    train_idx = stratified_take(np.sort(train_idx), train_labels, max_train_samples, seed)
    val_idx = stratified_take(np.sort(val_idx), train_labels, max_validation_samples, seed)
    test_labels = np.array(test_raw.labels)
    test_idx = stratified_take(np.arange(len(test_raw.texts)), test_labels, max_test_samples, seed)

    splits = DatasetDict(
        train=_to_dataset(train_raw, train_idx),
        validation=_to_dataset(train_raw, val_idx),
        test=_to_dataset(test_raw, test_idx),
    )
    origins = {"train": train_raw.origin, "validation": train_raw.origin, "test": test_raw.origin}
    return LoadedData(splits, source_name, origins, duplicates, {"repeated_training_rows_dropped": repeats})


def load_test_split(
    source: str | Path | None, max_test_samples: int | None = None, seed: int = 42
) -> Dataset:
    """Only the test split (for `agnews evaluate`), cleaned and validated like the rest."""
    if source is None:
        _, test_raw = read_hub()
    else:
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise DataError(f"{folder}: data folder not found; {OFFLINE_HINT}")
        test_raw = read_csv_split(folder / "test.csv")
    labels = np.array(test_raw.labels)
    idx = stratified_take(np.arange(len(test_raw.texts)), labels, max_test_samples, seed)
    return _to_dataset(test_raw, idx)


def load_config_data(config: TrainConfig, source: str | None = None) -> LoadedData:
    """The splits `config` describes (split seed, caps, validation share, training rows dropped as
    label issues), from `source` or config.data."""
    data = load_ag_news(
        source if source is not None else config.data,
        validation_fraction=config.validation_fraction,
        seed=config.split_seed,
        max_train_samples=config.max_train_samples,
        max_validation_samples=config.max_validation_samples,
        max_test_samples=config.max_test_samples,
    )
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
    labels = [
        LABELS.index(corrections.relabelled[h]) if h in corrections.relabelled else label
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
