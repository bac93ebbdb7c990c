"""Calibration in a run: the fit inside training, and the `calibration` stage that reports on it.

`fit_calibration` runs in `agnews train` between fine-tuning and the first write of the model: it
scores the kept model on the validation rows, chooses a calibrator there
(`agnews.training.calibration.choose_calibration`) and folds it into the model, recording the fit
and the raw validation logits in `train_log.json`. Calibration happens only there, so running the
stage again never folds twice.

The `calibration` stage writes `calibration.json`: on the test split, ECE, adaptive ECE, NLL and
Brier score before (the raw logits, recovered by inverting the fold) and after, each with a
bootstrap 95% interval (the same resamples for every statistic, so the change after - before is
paired), the reliability bins, the risk-coverage curve, and the review threshold chosen on the
calibrated validation probabilities for the run's `review_accuracy`, with its test coverage and
accuracy. A run trained without a fit gets the same report with method "none"; its validation
logits are then computed with the run's model.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from agnews.config import TrainConfig
from agnews.inference import infer
from agnews.rundir import parts
from agnews.rundir.parts import LOGIT_COLUMNS, Calibration, CalibrationFit, parse
from agnews.training.calibration import (
    ECE_BINS,
    METRICS,
    LogitTransform,
    RowScores,
    choose_calibration,
    fold_into_classifier,
    kept_share,
    reliability_bins,
    review_threshold,
    risk_coverage,
    softmax,
)

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedModel
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

    from agnews.training.context import StageContext

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
NO_FIT_REASON = "the run was trained without calibration: made before it existed, or with calibration=none"


def _validation_logits(
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
    logits, labels = _validation_logits(config, model, tokenizer, validation, progress)
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


def _parameters(method: str, transform: LogitTransform) -> dict[str, list[float]]:
    if method == "temperature":
        return {"temperature": [float(1.0 / transform.scale[0])]}
    if method == "vector":
        return {"scale": transform.scale.tolist(), "bias": transform.bias.tolist()}
    return {}


def _bootstrap(before: np.ndarray, after: np.ndarray, labels: np.ndarray) -> dict[str, list[dict]]:
    """Each metric before and after, and their difference, with percentile 95% intervals over the
    same seeded resamples of the test rows."""
    from scipy.stats import bootstrap

    sides = (RowScores.of(before, labels), RowScores.of(after, labels))

    def statistics(rows: np.ndarray) -> np.ndarray:
        counts = np.bincount(rows, minlength=len(labels))
        b, a = (side.metrics(counts) for side in sides)
        return np.array([value for name in METRICS for value in (b[name], a[name], a[name] - b[name])])

    result = bootstrap(
        (np.arange(len(labels)),),
        statistics,
        vectorized=False,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        random_state=np.random.default_rng(BOOTSTRAP_SEED),
    )
    point = statistics(np.arange(len(labels)))
    low, high = result.confidence_interval
    intervals = [
        {"value": float(v), "low": float(lo), "high": float(hi)}
        for v, lo, hi in zip(point, low, high, strict=True)
    ]
    return {name: intervals[3 * i : 3 * i + 3] for i, name in enumerate(METRICS)}


def calibrate_stage(context: StageContext) -> None:
    """Write `calibration.json` for the run's test predictions (see the module docstring)."""
    edit = context.staged
    started = time.perf_counter()
    fit = context.read("training").calibration
    if fit is None:
        transform, method, reason, candidates = LogitTransform.identity(), "none", NO_FIT_REASON, {}
        validation_logits, validation_labels = _validation_logits(
            context.config, context.model(), context.tokenizer(), context.data().splits["validation"], False
        )
    else:
        transform = LogitTransform(np.asarray(fit.scale), np.asarray(fit.bias))
        method, reason, candidates = fit.method, fit.reason, fit.candidates
        validation_logits = transform.apply(np.asarray(fit.validation_logits))
        validation_labels = np.asarray(fit.validation_labels, dtype=np.int64)

    predictions = context.predictions()
    labels = predictions["label"].to_numpy()
    served = predictions[list(LOGIT_COLUMNS)].to_numpy(np.float64)  # the model's (folded) logits
    after = softmax(served)
    before = softmax(transform.invert(served))
    scores = _bootstrap(before, after, labels)

    confidence = after.max(axis=1)
    correct = after.argmax(axis=1) == labels
    validation_probs = softmax(validation_logits)
    validation_confidence = validation_probs.max(axis=1)
    validation_correct = validation_probs.argmax(axis=1) == validation_labels
    target = context.config.review_accuracy
    threshold = review_threshold(validation_confidence, validation_correct, target)
    validation_kept = test_kept = (None, None)
    if threshold is not None:
        validation_kept = kept_share(validation_confidence, validation_correct, threshold)
        test_kept = kept_share(confidence, correct, threshold)

    def side(probs: np.ndarray, column: int) -> dict:
        values = {name: scores[name][column] for name in METRICS}
        return {**values, "bins": reliability_bins(probs, labels)}

    report = {
        "method": method,
        "reason": reason,
        "parameters": _parameters(method, transform),
        "candidates": candidates,
        "bins": ECE_BINS,
        "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
        "bootstrap_seed": BOOTSTRAP_SEED,
        "rows": len(labels),
        "validation_rows": len(validation_labels),
        "before": side(before, 0),
        "after": side(after, 1),
        "change": {name: scores[name][2] for name in METRICS},
        "risk_coverage": risk_coverage(confidence, correct),
        "target_accuracy": target,
        "review_threshold": threshold,
        "validation_coverage": validation_kept[0],
        "validation_accuracy": validation_kept[1],
        "test_coverage": test_kept[0],
        "test_accuracy": test_kept[1],
        "seconds": round(time.perf_counter() - started, 1),
    }
    edit.write(
        "calibration",
        parse(Calibration, report, parts.CALIBRATION),
    )
