"""Fine-tune a transformer on AG News with the Hugging Face Trainer and write a run directory.

The Trainer is the reference recipe's API; we add what an honest, resumable run needs: a validated
config, length-grouped batches, best-epoch selection on validation (never test), checkpoints kept
outside the run, and an atomic run directory at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import shutil
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset
from transformers import (
    DataCollatorWithPadding,
    PreTrainedModel,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from agnews import run as run_files
from agnews.data import LoadedData, load_ag_news
from agnews.evaluate import compute_metrics, infer, predictions_frame
from agnews.models import cpu_has_native_bf16, load_classifier, load_tokenizer, resolve_base_model
from agnews.serving_onnx import export_serving_onnx

MIXED_PRECISION = ("auto", "bf16", "fp16", "no")
CHECKPOINT_CONFIG = "agnews_train_config.json"


class ConfigError(ValueError):
    """A training setting that cannot work; the message says which and what to use instead."""


@dataclass
class TrainConfig:
    """Everything that determines a training run. Recorded in the run's config.json."""

    base_model: str = field(
        default="minilm", metadata={"help": "Base model: `minilm` (bundled), a local folder or a Hub id."}
    )
    data: str | None = field(
        default=None,
        metadata={"help": "Local folder with the AG News CSVs; omitted: the Hub dataset fancyzhx/ag_news."},
    )
    epochs: float = field(
        default=2.0, metadata={"help": "Training epochs; the best epoch by validation accuracy is kept."}
    )
    learning_rate: float = field(
        default=1e-4, metadata={"help": "Peak learning rate (linear decay, warmup)."}
    )
    batch_size: int = field(default=32, metadata={"help": "Training batch size per device."})
    eval_batch_size: int = field(
        default=64, metadata={"help": "Batch size for validation and test inference."}
    )
    max_length: int = field(default=128, metadata={"help": "Tokens per text; longer texts are truncated."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    warmup_ratio: float = field(
        default=0.06, metadata={"help": "Fraction of steps spent warming up the learning rate."}
    )
    seed: int = field(default=42, metadata={"help": "Seed for the validation split, training and the map."})
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
    freeze_layers: int = field(
        default=0,
        metadata={
            "help": "Freeze the embeddings and this many lowest encoder layers (0: train everything); "
            "saves their backward pass and optimizer updates."
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
            (self.freeze_layers >= 0, f"freeze_layers must be 0 or more, got {self.freeze_layers}"),
            (
                self.dropout is None or 0 <= self.dropout < 1,
                f"dropout must be in [0, 1), got {self.dropout}",
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
            allowed = typing.get_args(hints[name]) or (hints[name],)
            # bool is an int and int is acceptable where a float is expected; nothing else converts.
            ok = isinstance(value, allowed) or (float in allowed and type(value) is int)
            if not ok or (isinstance(value, bool) and bool not in allowed):
                raise ConfigError(f"{name} must be {hints[name]}, got {value!r}")
        return cls(**values)


PRESETS: dict[str, dict[str, Any]] = {
    # CPU-sized: bundled MiniLM on the offline 5k sample; a few minutes on 2 cores. No dropout:
    # drawing its masks was a third of a bf16 CPU step, and over 3 seeds test accuracy was the same
    # without it (89.98% vs 89.97% mean, README "Performance").
    "quick": {
        "base_model": "minilm",
        "epochs": 2.0,
        "learning_rate": 1e-4,
        "batch_size": 32,
        "dropout": 0.0,
    },
    # GPU-sized reference recipe: DistilBERT on the full 120k Hub train split.
    "distilbert": {
        "base_model": "distilbert-base-uncased",
        "epochs": 2.0,
        "learning_rate": 5e-5,
        "batch_size": 64,
        "eval_batch_size": 256,
    },
}


def preset_config(name: str, **overrides: Any) -> TrainConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return TrainConfig.from_dict({**PRESETS[name], **overrides})


def library_versions() -> dict[str, str]:
    import datasets
    import sklearn
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }


def resolve_precision(mode: str) -> str:
    """What `mixed_precision` means on this machine: "bf16", "fp16" or "no".

    "auto" takes bf16 on CUDA cards that have it (else fp16) and on CPUs with native bf16
    instructions (measured on this project's AMX CPU: 1.6-1.9x the fp32 Trainer); fp32 elsewhere.
    """
    if mode == "fp16" and not torch.cuda.is_available():
        raise ConfigError("mixed_precision fp16 needs a CUDA GPU; on the CPU use bf16, auto or no")
    if mode != "auto":
        return mode
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_native_bf16() else "no"


def training_attention(precision: str) -> str | None:
    """The attention kernels to train with: "eager" for bf16 on the CPU, else the library default.

    Why: PyTorch's CPU SDPA backward in bf16 took 37 ms per layer call at batch 32 x 56 tokens, over
    half of each training step; eager attention is plain matmuls that run on the bf16 units. bf16
    training steps went from 74 to 158 samples/s with it (MiniLM, 2 cores). fp32 and CUDA are
    unaffected or better off with SDPA, so they keep it.
    """
    return "eager" if precision == "bf16" and not torch.cuda.is_available() else None


def _precision_flags(precision: str) -> dict[str, bool]:
    flags = {"bf16": precision == "bf16", "fp16": precision == "fp16"}
    if precision == "bf16" and not torch.cuda.is_available():
        flags["use_cpu"] = True  # the Trainer refuses bf16 without a GPU unless told to autocast on the CPU
    return flags


def _is_first_process() -> bool:
    """True except in the non-first processes of a torchrun / accelerate launch (RANK is set there)."""
    return int(os.environ.get("RANK", "0")) == 0


def remove_checkpoints(checkpoint_dir: Path) -> None:
    """Delete only what training put there (a user's --checkpoint-dir may hold other files)."""
    for checkpoint in checkpoint_dir.glob("checkpoint-*"):
        shutil.rmtree(checkpoint, ignore_errors=True)
    (checkpoint_dir / CHECKPOINT_CONFIG).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        checkpoint_dir.rmdir()  # only if now empty


def last_complete_checkpoint(checkpoint_dir: Path) -> str | None:
    """The newest checkpoint the Trainer finished writing (it writes trainer_state.json last).

    A process killed while saving leaves a newer, partial checkpoint folder; resuming from that one
    would fail, so it is passed over.
    """
    complete = [p for p in checkpoint_dir.glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
    if not complete:
        return None
    return str(max(complete, key=lambda p: int(p.name.rpartition("-")[2])))


def default_checkpoint_dir(out: Path) -> Path:
    """Trainer checkpoints (optimizer state: local, pickled, never shipped) live beside the run."""
    out = out.expanduser().resolve()
    return out.parent / f".{out.name}.checkpoints"


def _check_resume(config: TrainConfig, checkpoint_dir: Path, resume: bool) -> str | None:
    """The checkpoint to resume from, after checking it was made with the same settings.

    The data is checked too, once loaded (`_check_resume_data`): same settings on changed files
    would silently continue a different experiment.
    """
    saved = checkpoint_dir / CHECKPOINT_CONFIG
    last = last_complete_checkpoint(checkpoint_dir)
    if not resume:
        if last is not None:
            raise ConfigError(
                f"{checkpoint_dir} holds checkpoints of an interrupted run; pass --resume to "
                "continue it, or delete that folder to start over"
            )
        return None
    if last is None:
        raise ConfigError(f"--resume: no checkpoint in {checkpoint_dir}")
    previous = json.loads(saved.read_text()) if saved.is_file() else {}
    if previous.get("settings") != config.to_dict():
        raise ConfigError(
            f"--resume: settings differ from the interrupted run's ({saved}); resume with the same "
            "options or delete the checkpoint folder"
        )
    return last


def _check_resume_data(checkpoint_dir: Path, data: LoadedData) -> None:
    saved = json.loads((checkpoint_dir / CHECKPOINT_CONFIG).read_text())
    if saved.get("split_hashes") != data.split_hashes():
        raise ConfigError(
            f"--resume: the data differs from the interrupted run's ({data.source}); resume with the "
            f"same data or delete {checkpoint_dir}"
        )


def tokenize_splits(data: LoadedData, tokenizer: Any, max_length: int) -> dict[str, Any]:
    def encode(batch: dict[str, list[Any]]) -> dict[str, Any]:
        encoded = tokenizer(batch["text"], truncation=True, max_length=max_length)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    return {
        name: data.splits[name].map(
            encode, batched=True, remove_columns=["text", "row_id"], desc=f"tokenize {name}"
        )
        for name in ("train", "validation")
    }


def _validation_metrics(prediction: Any) -> dict[str, float]:
    logits, labels = prediction
    preds = np.asarray(logits).argmax(axis=-1)
    return {"accuracy": float((preds == np.asarray(labels)).mean())}


def freeze_bottom(model: PreTrainedModel, layers: int, *, embeddings: bool = False) -> None:
    """Stop gradients through the embeddings (with `embeddings`, or when any layer is frozen) and the
    `layers` lowest encoder layers.

    Lower layers hold general language features that a few thousand headlines barely change; not
    back-propagating into them cuts training cost. The word-embedding table is half of MiniLM's
    weights, yet a batch touches a few hundred of its 30k rows: its dense gradient and AdamW update
    cost every step for little change. Works for BERT (`encoder.layer`) and DistilBERT
    (`transformer.layer`) alike by looking for the encoder's layer list.
    """
    encoder = model.base_model
    if embeddings or layers:
        encoder.embeddings.requires_grad_(False)
    if layers == 0:
        return
    stack = next(
        (
            m
            for name, m in encoder.named_modules()
            if name.endswith("layer") and isinstance(m, torch.nn.ModuleList)
        ),
        None,
    )
    if stack is None or layers > len(stack):
        available = 0 if stack is None else len(stack)
        raise ConfigError(f"freeze_layers={layers}, but the model has {available} encoder layers")
    for module in stack[:layers]:
        module.requires_grad_(False)


def set_dropout(model: PreTrainedModel, probability: float | None) -> None:
    """Set every dropout layer of `model` to `probability` (None: leave the model's own).

    Why a knob: on the CPU, dropout's random masks are slow to draw (about 5 ms per hidden-state
    tensor of a 32 x 56 batch, a third of a bf16 training step), and the quick recipe trains only two
    epochs, where dropout's regularisation matters least. BERT and DistilBERT apply attention dropout
    through the same `nn.Dropout` modules' `p`, so one walk covers both.
    """
    if probability is None:
        return
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = probability


def prepare_model(config: TrainConfig, base: str, *, attention: str | None = None) -> PreTrainedModel:
    """The model `config` trains from `base`: attention kernels for its precision (`attention`
    overrides them, for benchmarks), embeddings and layers frozen and dropout set as configured."""
    attention = attention or training_attention(resolve_precision(config.mixed_precision))
    model = load_classifier(base, attention=attention)
    freeze_bottom(model, config.freeze_layers, embeddings=config.freeze_embeddings)
    set_dropout(model, config.dropout)
    return model


def load_config_data(config: TrainConfig, source: str | None = None) -> LoadedData:
    """The splits `config` describes (same seed, caps and validation share), from `source` or config.data."""
    return load_ag_news(
        source if source is not None else config.data,
        validation_fraction=config.validation_fraction,
        seed=config.seed,
        max_train_samples=config.max_train_samples,
        max_validation_samples=config.max_validation_samples,
        max_test_samples=config.max_test_samples,
    )


def build_trainer(
    config: TrainConfig,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    train_dataset: Dataset,
    eval_dataset: Dataset | None,
    *,
    output_dir: Path,
    progress: bool = True,
    callbacks: list[TrainerCallback] | None = None,
) -> Trainer:
    """The project's Trainer recipe for `config`.

    With an `eval_dataset` it evaluates and checkpoints each epoch and keeps the best epoch by
    validation accuracy; without one (benchmarks) it only trains.
    """
    per_epoch = eval_dataset is not None
    args = TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,
        lr_scheduler_type="linear",
        eval_strategy="epoch" if per_epoch else "no",
        save_strategy="epoch" if per_epoch else "no",
        save_total_limit=2,
        load_best_model_at_end=per_epoch,
        metric_for_best_model="accuracy" if per_epoch else None,
        greater_is_better=True,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        seed=config.seed,
        data_seed=config.seed,
        logging_strategy="steps",
        logging_steps=20,
        report_to="none",
        disable_tqdm=not progress,
        dataloader_num_workers=0,
        **_precision_flags(resolve_precision(config.mixed_precision)),
    )
    return Trainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=_validation_metrics if per_epoch else None,
        callbacks=callbacks,
    )


def fine_tune(
    config: TrainConfig,
    out: Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    checkpoint_dir: Path | None = None,
    keep_checkpoints: bool = False,
    embed: bool = True,
    progress: bool = True,
    callbacks: list[TrainerCallback] | None = None,
) -> Path | None:
    """Train, evaluate on test, optionally embed and map, and write the run directory `out`.

    Returns the run's path, or None in the non-first processes of a data-parallel launch.

    Checkpoints go to `checkpoint_dir` (outside the run) each epoch; an interrupted run resumes
    from there with `resume=True` and the same config. `callbacks` reach the Trainer (UI progress).
    """
    out = out.expanduser().resolve()
    checkpoint_dir = (checkpoint_dir or default_checkpoint_dir(out)).expanduser().resolve()
    if out.exists() and not overwrite:
        raise run_files.RunError(f"{out}: already exists; choose another --out or pass --overwrite")
    run_files.check_writable(out.parent)
    resume_from = _check_resume(config, checkpoint_dir, resume)
    precision = resolve_precision(config.mixed_precision)  # fails before any loading if impossible here

    base = resolve_base_model(config.base_model)
    data = load_config_data(config)
    if resume_from is not None:
        _check_resume_data(checkpoint_dir, data)
    tokenizer = load_tokenizer(base)
    set_seed(config.seed)
    model = prepare_model(config, base)
    tokenized = tokenize_splits(data, tokenizer, config.max_length)

    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    if _is_first_process():
        state = {"settings": config.to_dict(), "split_hashes": data.split_hashes()}
        run_files.write_json(checkpoint_dir / CHECKPOINT_CONFIG, state)
    trainer = build_trainer(
        config,
        model,
        tokenizer,
        tokenized["train"],
        tokenized["validation"],
        output_dir=checkpoint_dir,
        progress=progress,
        callbacks=callbacks,
    )
    started = time.perf_counter()
    train_output = trainer.train(resume_from_checkpoint=resume_from)
    train_seconds = time.perf_counter() - started
    best_validation = trainer.evaluate()
    if not trainer.is_world_process_zero():
        # Under `torchrun` / `accelerate launch` every process trains; only the first writes the run.
        return None

    # Without the mixed-precision wrapper the Trainer put on `forward`: the test metrics describe the
    # model as saved and as a plain `pipeline` runs it (fp32), whatever precision trained it.
    model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
    test = data.splits["test"]
    test_texts = list(test["text"])
    started = time.perf_counter()
    inference = infer(
        model,
        tokenizer,
        test_texts,
        batch_size=config.eval_batch_size,
        max_length=config.max_length,
        progress=progress,
        description="test",
    )
    test_seconds = time.perf_counter() - started
    labels = np.asarray(test["label"])
    metrics = {
        "test": compute_metrics(labels, inference.probs),
        "validation": {k.removeprefix("eval_"): v for k, v in best_validation.items()},
        "best_checkpoint": Path(trainer.state.best_model_checkpoint or "").name or None,
        "timing": {
            "train_seconds": round(train_seconds, 1),
            "train_samples_per_second": train_output.metrics.get("train_samples_per_second"),
            "test_seconds": round(test_seconds, 1),
            "test_samples_per_second": round(len(test) / test_seconds, 1),
            "device": str(trainer.args.device),
            "precision": precision,
        },
    }
    run_config = {
        "train": config.to_dict(),
        "base_model_resolved": base,
        "versions": library_versions(),
        "data": {
            "source": data.source,
            "origins": data.origins,
            "split_hashes": data.split_hashes(),
            "rows": {name: len(ds) for name, ds in data.splits.items()},
        },
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }

    with run_files.building_run(out, overwrite=overwrite) as tmp:
        model.save_pretrained(tmp / run_files.MODEL_DIR)
        tokenizer.save_pretrained(tmp / run_files.MODEL_DIR)
        run_files.write_json(tmp / run_files.CONFIG, run_config)
        run_files.write_json(tmp / run_files.DATA_STATS, data.stats())
        run_files.write_json(tmp / run_files.TRAIN_LOG, {"log_history": trainer.state.log_history})
        run_files.write_parquet(
            tmp / run_files.PREDICTIONS,
            predictions_frame(list(test["row_id"]), test_texts, labels, inference.probs),
        )
        if progress:
            print("exporting the serving graphs (ONNX, fp32 and int8) ...", flush=True)
        export_serving_onnx(model, tokenizer, tmp)
        if embed:
            from agnews.embed import embed_run_dir

            embed_run_dir(
                tmp, data, finetuned_cls=inference.cls, config=config, metrics=metrics, progress=progress
            )
        run_files.write_json(tmp / run_files.METRICS, metrics)
    if not keep_checkpoints:
        remove_checkpoints(checkpoint_dir)
    return out
