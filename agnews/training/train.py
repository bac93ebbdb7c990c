"""The training stage: fine-tune a transformer on AG News with the Hugging Face Trainer.

The Trainer is the reference recipe's API; we add what an honest, resumable run needs: a validated
config, length-grouped batches, best-epoch selection on validation (never test), checkpoints kept
outside the run, and a run created atomically with its evaluation (`train_run`), followed by the
default stages (`agnews.training.stages`).
"""

from __future__ import annotations

import contextlib
import json
import math
import platform
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import Dataset, concatenate_datasets
from transformers import (
    DataCollatorWithPadding,
    PreTrainedModel,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from agnews import events
from agnews.config import ConfigError, TrainConfig
from agnews.models import cpu_has_native_bf16, load_classifier, load_tokenizer, resolve_base_model
from agnews.processes import launch_rank, launch_size
from agnews.rundir import parts
from agnews.rundir.edit import create_run, fault_point
from agnews.rundir.files import RunError, check_writable, write_json
from agnews.rundir.parts import DataInfo, DataStats, RunConfig, Training, parse
from agnews.training.augment import AugmentError, augment_rows, parse_families
from agnews.training.calibrate import fit_calibration
from agnews.training.context import StageContext
from agnews.training.data import LoadedData, load_config_data
from agnews.training.data_parallel import (
    ShardRecordingTrainer,
    check_launch,
    per_device_batch,
    shard_record,
    trainer_batch,
    with_positions,
)
from agnews.training.distill import DistillationTrainer, teacher_logits, with_teacher
from agnews.training.evaluate import evaluate_stage
from agnews.training.stages import begin_stage, run_stages

CHECKPOINT_CONFIG = "agnews_train_config.json"
INTERRUPTED = "interrupted: the last checkpoint is kept; rerun with --resume to continue"


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


# The share of the encoder's layers (rounded down, the lower ones) that the quick preset freezes where
# a CPU trains in fp32; see `resolve_frozen_layers`.
FP32_CPU_FROZEN_SHARE = 0.5


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


def _precision_flags(precision: str, *, tf32: bool = False) -> dict[str, bool]:
    """TrainingArguments' precision fields: bf16/fp16 autocast, and `tf32` where the GPU has TF32.

    TF32 is only ever switched on, on CUDA cards that have it (Ampere or newer): the Trainer raises
    for `tf32=True` elsewhere, and leaving the field unset keeps PyTorch's own setting (exact fp32
    matrix products), so the CPU recipes are untouched. The switch is process-wide in PyTorch.
    """
    flags = {"bf16": precision == "bf16", "fp16": precision == "fp16"}
    # `use_cpu`: the Trainer refuses bf16 without a GPU unless told to autocast on the CPU, and only with
    # it does accelerate join the CPU processes of a `torchrun` launch into one (gloo) process group.
    if not torch.accelerator.is_available() or (precision == "bf16" and not torch.cuda.is_available()):
        flags["use_cpu"] = True
    if tf32 and torch.cuda.is_available():
        from transformers.utils import is_torch_tf32_available

        if is_torch_tf32_available():
            flags["tf32"] = True
    return flags


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


def _check_resume_state(checkpoint_dir: Path, data: LoadedData, resolved: dict[str, Any]) -> None:
    """The interrupted run's data and what its settings resolved to on its machine must be this
    run's: a preset's "auto" precision or empty `freeze_layers` resolves per CPU, and continuing bf16
    optimizer state in fp32 with other layers frozen would be a different experiment under the same
    name (a checkpoint moved to another machine, or a torch capped differently)."""
    saved = json.loads((checkpoint_dir / CHECKPOINT_CONFIG).read_text())
    if saved.get("split_hashes") != data.split_hashes():
        raise ConfigError(
            f"--resume: the data differs from the interrupted run's ({data.source}); resume with the "
            f"same data or delete {checkpoint_dir}"
        )
    if saved.get("resolved") != resolved:
        raise ConfigError(
            f"--resume: the interrupted run trained with {saved.get('resolved')}, but here the same "
            f"settings resolve to {resolved}; resume on a machine like the first (or with the same "
            f"--mixed-precision and --freeze-layers given explicitly), or delete {checkpoint_dir}"
        )


def training_rows(config: TrainConfig, data: LoadedData) -> Dataset:
    """The rows the Trainer trains on: the training split, plus `--augment`'s variants of its rows
    (counted in the run's data stats; the split itself, its hash and its analyses stay the source's)."""
    train = data.splits["train"]
    if config.augment is None:
        return train
    try:
        families = parse_families(config.augment)
    except AugmentError as exc:
        raise ConfigError(str(exc)) from exc
    texts, labels, made = augment_rows(
        train["text"], train["label"], families, copies=config.augment_copies, seed=config.seed
    )
    data.extra["augmented_training_rows"] = len(texts)
    data.extra["augmented_by_family"] = made
    variants = Dataset.from_dict(
        {"row_id": [-1] * len(texts), "text": texts, "label": labels}, features=train.features
    )
    return concatenate_datasets([train, variants])


def tokenize_splits(
    data: LoadedData, tokenizer: Any, max_length: int, train: Dataset | None = None
) -> dict[str, Any]:
    """Token ids of the training rows (`train`, default the training split) and of validation."""

    def encode(batch: dict[str, list[Any]]) -> dict[str, Any]:
        encoded = tokenizer(batch["text"], truncation=True, max_length=max_length)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    sources = {
        "train": data.splits["train"] if train is None else train,
        "validation": data.splits["validation"],
    }
    return {
        name: rows.map(encode, batched=True, remove_columns=["text", "row_id"], desc=f"tokenize {name}")
        for name, rows in sources.items()
    }


def _validation_metrics(prediction: Any) -> dict[str, float]:
    logits, labels = prediction
    preds = np.asarray(logits).argmax(axis=-1)
    return {"accuracy": float((preds == np.asarray(labels)).mean())}


def encoder_layers(model: PreTrainedModel) -> torch.nn.ModuleList:
    """The encoder's stack of transformer layers: BERT's and MPNet's `encoder.layer`, DistilBERT's
    `transformer.layer`, found by looking for the module list named `layer`."""
    stack = next(
        (
            m
            for name, m in model.base_model.named_modules()
            if name.endswith("layer") and isinstance(m, torch.nn.ModuleList)
        ),
        None,
    )
    if stack is None:
        raise ConfigError(f"{type(model).__name__}: no encoder layer list found to freeze")
    return stack


def freeze_bottom(model: PreTrainedModel, layers: int, *, embeddings: bool = False) -> None:
    """Stop gradients through the embeddings (with `embeddings`, or when any layer is frozen) and the
    `layers` lowest encoder layers.

    Lower layers hold general language features that a few thousand headlines barely change; not
    back-propagating into them cuts training cost. The word-embedding table is half of MiniLM's
    weights, yet a batch touches a few hundred of its 30k rows: its dense gradient and AdamW update
    cost every step for little change.
    """
    if embeddings or layers:
        model.base_model.embeddings.requires_grad_(False)
    if layers == 0:
        return
    stack = encoder_layers(model)
    if layers > len(stack):
        raise ConfigError(f"freeze_layers={layers}, but the model has {len(stack)} encoder layers")
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


def resolve_frozen_layers(layers: int | None, precision: str, depth: int) -> int:
    """What `freeze_layers` means for a model of `depth` encoder layers on this machine: an empty
    setting (the quick preset's) freezes the lower `FP32_CPU_FROZEN_SHARE` of the layers where training
    runs in fp32 on a CPU, and nothing elsewhere. The run records the number resolved.

    Why a share, not a count: the same preset then freezes the same part of a 2-layer test model, the
    6-layer MiniLM and the 12-layer MPNet, and never more layers than the model has. Without native
    bf16 a CPU trains in fp32 at a fraction of the bf16 speed; not back-propagating into the lower half
    of the encoder recovers much of it (bench/train_throughput.py) for a few tenths of a point of test
    accuracy (docs/performance.md). With bf16 or on a GPU, speed is there already.
    """
    if layers is not None:
        return layers
    if precision == "no" and not torch.cuda.is_available():
        return int(depth * FP32_CPU_FROZEN_SHARE)
    return 0


def prepare_model(
    config: TrainConfig, base: str, classes: Sequence[str], *, attention: str | None = None
) -> tuple[PreTrainedModel, int]:
    """The model `config` trains from `base` for `classes` (a new head, in class-id order) and how many
    encoder layers it froze: attention kernels
    for its precision (`attention` overrides them, for benchmarks), embeddings and layers frozen and
    dropout set as configured."""
    precision = resolve_precision(config.mixed_precision)
    attention = attention or training_attention(precision)
    model = load_classifier(base, classes=classes, attention=attention)
    layers = resolve_frozen_layers(config.freeze_layers, precision, len(encoder_layers(model)))
    freeze_bottom(model, layers, embeddings=config.freeze_embeddings)
    set_dropout(model, config.dropout)
    return model, layers


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

    `batch_size` is the global batch, split over the devices of a data-parallel launch. With an
    `eval_dataset` it evaluates and checkpoints each epoch and keeps the best epoch by
    validation accuracy; without one (benchmarks) it only trains. The speed knobs map onto the
    Trainer's own fields: `pad_to_multiple_of` (DataCollatorWithPadding), `dataloader_workers`
    (`dataloader_num_workers`, persistent), `torch_compile` and `tf32` (see `_precision_flags`).
    Measured on an H100 by `bench/gpu_product.py` (bench/results/gpu_product_*.json).
    """
    per_epoch = eval_dataset is not None
    args = TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=trainer_batch(config.batch_size),
        accelerator_config={"split_batches": launch_size() > 1},
        # The classification heads average their loss over the batch a device holds and ignore the
        # Trainer's `num_items_in_batch`, so its rescaling by the process count (this field, on by
        # default) would multiply the loss and gradients by that count in a data-parallel launch; the
        # processes' mean losses, averaged by DDP, are already the global batch's mean.
        average_tokens_across_devices=False,
        per_device_eval_batch_size=config.eval_batch_size,
        weight_decay=config.weight_decay,
        label_smoothing_factor=config.label_smoothing,
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
        dataloader_num_workers=config.dataloader_workers,
        # Workers outlive an epoch: no re-forking (and re-importing) at every epoch and evaluation.
        dataloader_persistent_workers=config.dataloader_workers > 0,
        torch_compile=config.torch_compile,
        # On a GPU the filter's `if torch.isnan(loss)` reads every step's loss back to the host, so the
        # CPU cannot queue the next step while the card works; a NaN then shows in the logged loss
        # instead of being smoothed over. The CPU has nothing to overlap and keeps the filter.
        logging_nan_inf_filter=not torch.cuda.is_available(),
        **_precision_flags(resolve_precision(config.mixed_precision), tf32=config.tf32),
    )
    distillation = (
        {"temperature": config.distill_temperature, "alpha": config.distill_alpha} if config.teacher else {}
    )
    return (DistillationTrainer if config.teacher else ShardRecordingTrainer)(
        **distillation,
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=config.pad_to_multiple_of),
        compute_metrics=_validation_metrics if per_epoch else None,
        callbacks=callbacks,
    )


class _FaultPoints(TrainerCallback):
    """Named moments in training for the fault tests (see `agnews.rundir.edit.fault_point`)."""

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        fault_point("train:checkpoint-saved")


class TrainingEvents(TrainerCallback):
    """Fine-tuning's progress in the event log (`agnews.events`), for a page following `agnews train`:
    the optimizer steps done of all the steps (when the loop starts, at most every
    `events.PROGRESS_SECONDS`, and at the last step), and each epoch's validation accuracy as a
    measured progress (`n` the epoch, `value` the accuracy). Only the first process of a
    data-parallel launch speaks; the evaluation of the kept model after training is not an epoch's.
    """

    def __init__(self) -> None:
        self._said = -math.inf
        self._training = False

    def _steps(self, state: Any, *, always: bool) -> None:
        if state.is_world_process_zero and (
            always or time.monotonic() - self._said >= events.PROGRESS_SECONDS
        ):
            events.emit(
                events.Event(
                    events.PROGRESS,
                    events.TRAIN,
                    n=state.global_step,
                    total=state.max_steps,
                    what=events.TRAIN,
                )
            )
            self._said = time.monotonic()

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._training = True
        self._steps(state, always=True)  # n: the steps a resumed run starts from

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._steps(state, always=state.global_step >= state.max_steps)

    def on_evaluate(
        self, args: Any, state: Any, control: Any, metrics: dict[str, float] | None = None, **kwargs: Any
    ) -> None:
        accuracy = (metrics or {}).get("eval_accuracy")
        if not (self._training and state.is_world_process_zero and accuracy is not None):
            return
        epochs = math.ceil(args.num_train_epochs)
        # `state.epoch` is fractional (steps / steps per epoch); an epoch's end is within rounding of k.
        epoch = min(math.ceil(round(state.epoch or 0.0, 6)), epochs)
        events.emit(
            events.Event(
                events.PROGRESS,
                events.TRAIN,
                n=epoch,
                total=epochs,
                what=events.VALIDATION,
                value=float(accuracy),
            )
        )

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._training = False


@contextlib.contextmanager
def _reported(stage: str) -> Iterator[None]:
    """Say that `stage` started, then that it is done, or failed (interrupted, or why) as it raises.
    Only the first process of a data-parallel launch speaks."""
    if launch_rank() != 0:
        yield
        return
    with events.running(stage):
        try:
            yield
        except KeyboardInterrupt:
            events.emit(events.Event(events.FAILED, stage, message=INTERRUPTED))
            raise
        except Exception as exc:
            events.emit(events.Event(events.FAILED, stage, message=events.failure(exc)))
            raise
    events.emit(events.Event(events.DONE, stage))


class _StepCheckpoints(TrainerCallback):
    """A checkpoint every `every` training steps besides each epoch's end (`checkpoint_steps`).

    Evaluation, and so the choice of the best epoch, stays per epoch; the Trainer keeps the best
    checkpoint whatever the rotation (`save_total_limit`).
    """

    def __init__(self, every: int) -> None:
        self.every = every

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step % self.every == 0:
            control.should_save = True


@dataclass
class Trained:
    """A fine-tuned model with what the run records about how it was made."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    data: LoadedData
    base: str
    training: Training


def fine_tune(
    config: TrainConfig,
    checkpoint_dir: Path,
    *,
    resume: bool = False,
    progress: bool = True,
    callbacks: list[TrainerCallback] | None = None,
) -> Trained | None:
    """Train `config` with checkpoints in `checkpoint_dir` each epoch (and every `checkpoint_steps`
    steps); keep the best epoch by validation accuracy. Returns None in the non-first processes of a
    data-parallel launch.

    An interrupted run resumes from its last complete checkpoint with `resume=True`, the same config
    and data, and the same resolved precision, frozen layers and attention. `--augment` variants and
    a `--teacher`'s logits join the training rows here. `callbacks` reach the Trainer; with an event
    log (`agnews.events`), `TrainingEvents` reports the steps and each epoch's validation accuracy.
    """
    resume_from = _check_resume(config, checkpoint_dir, resume)
    precision = resolve_precision(config.mixed_precision)  # fails before any loading if impossible here
    per_device_batch(config.batch_size)  # likewise a global batch that the devices cannot split evenly
    base = resolve_base_model(config.base_model)
    data = load_config_data(config)
    train_rows = training_rows(config, data)
    teacher = None
    if config.teacher is not None:
        logits, teacher = teacher_logits(
            config.teacher, config, data, list(train_rows["text"]), progress=progress
        )
        train_rows = with_teacher(train_rows, logits)
    tokenizer = load_tokenizer(base)
    set_seed(config.seed)
    model, frozen_layers = prepare_model(config, base, data.description.class_names)
    resolved = {
        "precision": precision,
        "frozen_layers": frozen_layers,
        "attention": training_attention(precision) or "default",
    }
    if resume_from is not None:
        _check_resume_state(checkpoint_dir, data, resolved)
    tokenized = tokenize_splits(data, tokenizer, config.max_length, train_rows)
    tokenized["train"] = with_positions(tokenized["train"])

    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    if launch_rank() == 0:
        state = {"settings": config.to_dict(), "split_hashes": data.split_hashes(), "resolved": resolved}
        write_json(checkpoint_dir / CHECKPOINT_CONFIG, state)
    step_checkpoints = [_StepCheckpoints(config.checkpoint_steps)] if config.checkpoint_steps else []
    reported = [TrainingEvents()] if events.log_path() is not None else []
    trainer = build_trainer(
        config,
        model,
        tokenizer,
        tokenized["train"],
        tokenized["validation"],
        output_dir=checkpoint_dir,
        progress=progress,
        callbacks=[*(callbacks or []), *reported, *step_checkpoints, _FaultPoints()],
    )
    check_launch(trainer)
    started = time.perf_counter()
    train_output = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - started
    best_validation = trainer.evaluate()
    data_parallel = shard_record(trainer, len(tokenized["train"]))
    if not trainer.is_world_process_zero():
        # Under `torchrun` / `accelerate launch` every process trains; only the first writes the run.
        return None
    training = Training(
        validation={k.removeprefix("eval_"): v for k, v in best_validation.items()},
        best_checkpoint=Path(trainer.state.best_model_checkpoint or "").name or None,
        seconds=round(seconds, 1),
        samples_per_second=train_output.metrics.get("train_samples_per_second"),
        device=str(trainer.args.device),
        precision=precision,
        log_history=trainer.state.log_history,
        frozen_layers=frozen_layers,
        teacher=teacher,
        data_parallel=data_parallel,
    )
    # Without the mixed-precision wrapper the Trainer put on `forward`: the test metrics describe the
    # model as saved and as a plain `pipeline` runs it (fp32), whatever precision trained it.
    model = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
    return Trained(model, tokenizer, data, base, training)


def run_config(config: TrainConfig, data: LoadedData, base: str, parent: str | None = None) -> RunConfig:
    """`config.json` of a run trained with `config` from `base` on `data`: the settings, the resolved
    base model, library versions, what the data was (sources, split hashes, rows, the dataset) and
    the run it was trained from (`parent`, a run folder's name), if any."""
    return RunConfig(
        train=config,
        base_model_resolved=base,
        versions=library_versions(),
        data=DataInfo(
            source=data.source,
            origins=data.origins,
            split_hashes=data.split_hashes(),
            rows={name: len(ds) for name, ds in data.splits.items()},
            dataset=data.description,
        ),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        parent=parent,
    )


def train_run(
    config: TrainConfig,
    out: Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    checkpoint_dir: Path | None = None,
    keep_checkpoints: bool = False,
    stages: tuple[str, ...] | None = None,
    progress: bool = True,
    callbacks: list[TrainerCallback] | None = None,
    parent: str | None = None,
) -> Path | None:
    """`agnews train`: fine-tune, create the run `out` with its test evaluation, then run `stages`
    (default: the default stages). `parent`: the run (folder name) this one was trained from.

    The run exists (loadable, with model, metrics and predictions) as soon as training and
    evaluation are committed; each later stage is its own atomic edit, and a failing one leaves a
    warning in the run. Returns the run's path, or None in non-first data-parallel processes.
    In the event log (`agnews.events`) fine-tuning is the stage "train", from loading the data to
    the run's creation (`TrainingEvents` for its steps); the stages after it report their own.
    """
    out = out.expanduser().absolute()
    checkpoint_dir = (checkpoint_dir or default_checkpoint_dir(out)).expanduser().resolve()
    if out.exists() and not overwrite:
        raise RunError(f"{out}: already exists; choose another --out or pass --overwrite")
    check_writable(out.parent)
    with _reported(events.TRAIN):
        trained = fine_tune(config, checkpoint_dir, resume=resume, progress=progress, callbacks=callbacks)
        if trained is None:
            return None
        context = _create_run(config, trained, out, overwrite=overwrite, progress=progress, parent=parent)
    if not keep_checkpoints:
        remove_checkpoints(checkpoint_dir)
    run_stages(out, context.catalog.default_stages() if stages is None else stages, context)
    return out


def _create_run(
    config: TrainConfig, trained: Trained, out: Path, *, overwrite: bool, progress: bool, parent: str | None
) -> StageContext:
    """Calibrate `trained`, then create the run `out` with it and its test evaluation, in one atomic
    edit; the context the later stages continue with."""
    # Before the model is first written: the fold reaches the model folder, ONNX graphs and predictions.
    trained.training.calibration = fit_calibration(
        config, trained.model, trained.tokenizer, trained.data.splits["validation"], progress=progress
    )
    context = StageContext(
        config, progress=progress, loaded=trained.data, model=trained.model, tokenizer=trained.tokenizer
    )
    with create_run(out, overwrite=overwrite) as edit:
        edit.write("config", run_config(config, trained.data, trained.base, parent), made_from=())

        def save_model(folder: Path) -> None:
            trained.model.save_pretrained(folder)
            trained.tokenizer.save_pretrained(folder)

        edit.write("model", save_model, made_from=("config",))
        edit.write("training", trained.training, made_from=("model", "config"))
        stats = parse(DataStats, trained.data.stats(trained.tokenizer, config.max_length), parts.DATA_STATS)
        edit.write("data_stats", stats, made_from=("config",))
        context.edit = edit
        begin_stage("evaluate", context)
        evaluate_stage(context)
    context.edit = None
    return context
