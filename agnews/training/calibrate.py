"""Calibration inside training: the fit that folds a calibrator into the model.

`fit_calibration` runs in `agnews train` between fine-tuning and the first write of the model: it
scores the kept model on the validation rows, chooses a calibrator there
(`agnews.training.calibration.choose_calibration`) and folds it into the model, recording the fit
and the raw validation logits in `train_log.json`. Calibration happens only there, so the analysis
that reports on it (`agnews/analyses/calibration/`) never folds twice.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from agnews.config import TrainConfig
from agnews.inference import infer
from agnews.rundir import parts
from agnews.rundir.parts import CalibrationFit, parse
from agnews.training.calibration import (
    choose_calibration,
    fold_into_classifier,
)

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedModel
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase


def validation_logits(
    config: TrainConfig,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    validation: Dataset,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The model's fp32 logits on the validation rows (as a `pipeline` computes them), and the labels."""
    inference = infer(
        model,
        tokenizer,
        list(validation["text"]),
        batch_size=config.eval_batch_size,
        max_length=config.max_length,
        progress=progress,
        description="validation",
    )
    return inference.logits.astype(np.float64), np.asarray(validation["label"], dtype=np.int64)


def fit_calibration(
    config: TrainConfig,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    validation: Dataset,
    *,
    progress: bool = True,
) -> CalibrationFit:
    """Choose a calibrator on the validation rows (`config.calibration`) and fold it into `model`."""
    started = time.perf_counter()
    logits, labels = validation_logits(config, model, tokenizer, validation, progress)
    choice = choose_calibration(logits, labels, config.calibration, config.seed)
    if choice.method != "none":
        fold_into_classifier(model, choice.transform)
    return CalibrationFit(
        method=choice.method,
        reason=choice.reason,
        scale=choice.transform.scale.tolist(),
        bias=choice.transform.bias.tolist(),
        folds=choice.folds,
        candidates=parse(dict[str, parts.CalibratorScore], choice.scores, "calibration candidates"),
        validation_labels=labels.tolist(),
        validation_logits=logits.tolist(),
        seconds=round(time.perf_counter() - started, 2),
    )
