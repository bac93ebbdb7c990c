"""What the dataset checks part holds: `dataset_checks.json` (`DatasetWarnings`): class balance per
split, the train/test shift in text length and the test rows with a near-duplicate among the training
rows, each with its numbers whether or not it warns, the thresholds and the lines of those that warn."""

from __future__ import annotations

from dataclasses import dataclass

from agnews.rundir.parts import JsonFile, Part


@dataclass
class ClassBalance:
    split: str
    counts: dict[str, int]
    ratio: float | None  # rows of the largest class / rows of the smallest; None: a class has none
    warn: bool


@dataclass
class LengthShift:
    """Train vs test words per text: two-sample Kolmogorov-Smirnov test (its D is the effect size)."""

    train_median_words: float
    test_median_words: float
    train_mean_words: float
    test_mean_words: float
    ks_statistic: float
    p_value: float
    warn: bool


@dataclass
class NearDuplicatePair:
    row_id: int
    text: str
    label: str
    train_text: str
    train_label: str
    similarity: float


@dataclass
class TrainTestOverlap:
    """Test rows with a near-duplicate among the training rows (exact copies were dropped before training)."""

    cosine: float
    test_rows: int
    share: float
    different_label: int  # near-duplicates whose training twin carries another label
    exact_dropped: int
    examples: list[NearDuplicatePair]
    warn: bool


@dataclass
class UnknownTokens:
    """How much of the test text the base model's tokenizer cannot read: the share of the test rows'
    tokens (up to the run's max_length) that are its unknown token. `token` is None for a tokenizer
    without one (byte-level: every text reads), and `share` then None too."""

    token: str | None
    tokens: int
    unknown: int
    share: float | None
    warn: bool


@dataclass
class DatasetWarnings:
    """The checks behind the Data tab's warnings, with their numbers; `messages` are those that warn."""

    class_balance: list[ClassBalance]
    length: LengthShift
    overlap: TrainTestOverlap
    thresholds: dict[str, float]
    messages: list[str]
    unknown_tokens: UnknownTokens | None = None  # None in parts made before it was checked
    schema_version: int = 1


PART: Part[DatasetWarnings] = Part(
    "dataset_checks", ("dataset_checks.json",), False, (JsonFile(DatasetWarnings),)
)
