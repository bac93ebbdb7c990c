"""Distillation: a student learns from a teacher run's softened probabilities (`--teacher RUN`).

The student's loss on a training row is `distill_alpha` x T^2 x KL(teacher || student), both softened
at temperature T (`distill_temperature`), plus (1 - `distill_alpha`) x the usual cross-entropy on
the row's label (Hinton et al.). Augmented variants (`--augment`) are distilled too: the teacher
labels them, so the student learns the teacher's answer on texts it has never seen labelled.

The teacher's logits are computed once and kept in the *teacher's* run, as the part
`teacher_logits/<key>`: one row per text (its `text_hash` and four logits), keyed by the student's
training split hash and the augmentation settings that made the texts. A second student with the
same rows and settings (another seed of the same group, say) reads them instead of running the
teacher again. A teacher whose training or validation rows differ from the student's is refused: the
student's validation rows (where its epoch is chosen) may be the teacher's training rows, and the
teacher's answers on them would leak their labels.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from datasets import Dataset

from agnews.config import ConfigError, TrainConfig
from agnews.inference import infer
from agnews.rundir import parts
from agnews.rundir.catalog import CATALOG
from agnews.rundir.edit import edit_run
from agnews.rundir.files import RunError
from agnews.rundir.parts import TeacherInfo
from agnews.rundir.run import Run
from agnews.text import text_hash
from agnews.training.data import LoadedData
from agnews.training.data_parallel import ShardRecordingTrainer

TEACHER_COLUMN = "teacher_logits"


def teacher_key(config: TrainConfig, data: LoadedData) -> str:
    """The name of the teacher part that holds this student's texts: a hash of what made them."""
    made_from = {
        "train_split": data.split_hashes()["train"],
        "augment": config.augment,
        "augment_copies": config.augment_copies if config.augment else None,
        "augment_seed": config.seed if config.augment else None,
    }
    return hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()[:16]


def check_teacher(teacher: Run, data: LoadedData) -> None:
    """Refuse a teacher trained on other rows or classes than the student's (see the module docstring)."""
    if teacher.classes != data.classes:
        raise ConfigError(
            f"--teacher {teacher.path}: its classes {list(teacher.classes)} are not this run's "
            f"{list(data.classes)}"
        )
    mine, theirs = data.split_hashes(), teacher.config.data.split_hashes
    differ = [split for split in ("train", "validation") if mine[split] != theirs.get(split)]
    if differ:
        raise ConfigError(
            f"--teacher {teacher.path}: its {' and '.join(differ)} rows differ from this run's (content "
            "hashes); a teacher must be trained on the same split (same data, --split-seed and row caps), "
            "or its answers on the student's validation rows would leak their labels"
        )


def teacher_logits(
    teacher_path: str | Path, config: TrainConfig, data: LoadedData, texts: list[str], *, progress: bool
) -> tuple[np.ndarray, TeacherInfo]:
    """The teacher's logits for `texts` (the student's training rows and their variants, in order),
    and what the student records of its teacher: read from the teacher's part `teacher_logits/<key>`
    when it holds them, else computed with the teacher's model and kept there."""
    try:
        teacher = Run.load(teacher_path)
    except RunError as exc:
        raise ConfigError(f"--teacher: {exc}") from exc
    check_teacher(teacher, data)
    name = f"{parts.TEACHER_LOGITS}/{teacher_key(config, data)}"
    info = TeacherInfo(
        run=teacher.name,
        base_model=teacher.config.train.base_model,
        test_accuracy=teacher.metrics.test.accuracy,
        logits_part=name,
        temperature=config.distill_temperature,
        alpha=config.distill_alpha,
    )
    hashes = [text_hash(text) for text in texts]
    columns = list(parts.logit_columns(len(teacher.classes)))
    if teacher.has(name):
        stored = pd.read_parquet(teacher.path / CATALOG.part(name).files[0])
        by_hash = dict(zip(stored["text_hash"], stored[columns].to_numpy(np.float32), strict=True))
        if all(h in by_hash for h in hashes):
            return np.stack([by_hash[h] for h in hashes]), info
    model, tokenizer = teacher.load_classifier(), teacher.load_tokenizer()
    inference = infer(
        model,
        tokenizer,
        texts,
        batch_size=teacher.config.train.eval_batch_size,
        max_length=teacher.config.train.max_length,
        progress=progress,
        description="teacher",
    )
    frame = pd.DataFrame(inference.logits.astype(np.float32), columns=columns)
    frame.insert(0, "text_hash", hashes)
    frame = frame.drop_duplicates("text_hash")
    try:
        with edit_run(teacher.path) as edit:
            edit.begin(CATALOG.stages["distill"])
            edit.write(name, frame)
    except (RunError, OSError) as exc:  # a read-only or busy teacher: the student still trains
        print(f"note: the teacher's logits could not be kept in {teacher.path} ({exc}); computed this time")
    return inference.logits.astype(np.float32), info


def with_teacher(rows: Dataset, logits: np.ndarray) -> Dataset:
    """The training rows with their teacher logits as a column the Trainer keeps."""
    return rows.add_column(TEACHER_COLUMN, [row.tolist() for row in logits])


class DistillationTrainer(ShardRecordingTrainer):
    """The Trainer with the distillation loss on rows that carry teacher logits (training); rows
    without them (validation) get the model's own loss."""

    def __init__(self, *args: Any, temperature: float, alpha: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.temperature = temperature
        self.alpha = alpha

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        if TEACHER_COLUMN not in self._signature_columns:
            self._signature_columns.append(TEACHER_COLUMN)

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        teacher = inputs.pop(TEACHER_COLUMN, None)
        outputs = model(**inputs)
        loss = outputs.loss
        if teacher is not None:
            t = self.temperature
            student = torch.log_softmax(outputs.logits.float() / t, dim=-1)
            target = torch.softmax(teacher.float() / t, dim=-1)
            soft = torch.nn.functional.kl_div(student, target, reduction="batchmean") * t * t
            loss = self.alpha * soft + (1 - self.alpha) * loss
        return (loss, outputs) if return_outputs else loss
