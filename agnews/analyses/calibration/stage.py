"""The calibration stage: how far the run's confidence can be taken at its word, on the test split.

It writes `calibration.json`: ECE, adaptive ECE, NLL and Brier score before (the raw logits,
recovered by inverting the calibrator folded into the model at training,
`agnews.training.calibrate`) and after, each with a bootstrap 95% interval (the same resamples for
every statistic, so the change after - before is paired), the reliability bins, the risk-coverage
curve, and the review threshold chosen on the calibrated validation probabilities for the run's
`review_accuracy`, with its test coverage and accuracy. A run trained without a fit gets the same
report with method "none"; its validation logits are then computed with the run's model.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from agnews.analyses.calibration.coverage import kept_at
from agnews.analyses.calibration.numeric import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrap, parameters
from agnews.analyses.calibration.schema import PART, Calibration
from agnews.rundir.parts import logit_columns, parse
from agnews.training.calibrate import validation_logits
from agnews.training.calibration import (
    ECE_BINS,
    METRICS,
    LogitTransform,
    reliability_bins,
    review_threshold,
    risk_coverage,
    softmax,
)

if TYPE_CHECKING:
    from agnews.training.context import StageContext

NO_FIT_REASON = "the run was trained without calibration: made before it existed, or with calibration=none"


def calibration_stage(context: StageContext) -> None:
    """Write `calibration.json` for the run's test predictions (see the module docstring)."""
    edit = context.staged
    started = time.perf_counter()
    fit = context.read("training").calibration
    classes = len(context.classes())
    if fit is None:
        transform, method, reason, candidates = LogitTransform.identity(classes), "none", NO_FIT_REASON, {}
        held_out_logits, validation_labels = validation_logits(
            context.config, context.model(), context.tokenizer(), context.data().splits["validation"], False
        )
    else:
        transform = LogitTransform(np.asarray(fit.scale), np.asarray(fit.bias))
        method, reason, candidates = fit.method, fit.reason, fit.candidates
        held_out_logits = transform.apply(np.asarray(fit.validation_logits))
        validation_labels = np.asarray(fit.validation_labels, dtype=np.int64)

    predictions = context.predictions()
    labels = predictions["label"].to_numpy()
    served = predictions[list(logit_columns(classes))].to_numpy(np.float64)  # the model's (folded) logits
    after = softmax(served)
    before = softmax(transform.invert(served))
    scores = bootstrap(before, after, labels)

    confidence = after.max(axis=1)
    correct = after.argmax(axis=1) == labels
    validation_probs = softmax(held_out_logits)
    validation_confidence = validation_probs.max(axis=1)
    validation_correct = validation_probs.argmax(axis=1) == validation_labels
    target = context.config.review_accuracy
    threshold = review_threshold(validation_confidence, validation_correct, target)
    validation_kept = test_kept = None
    if threshold is not None:
        validation_kept = kept_at(validation_confidence, validation_correct, threshold)
        test_kept = kept_at(confidence, correct, threshold)

    def side(probs: np.ndarray, column: int) -> dict:
        values = {name: scores[name][column] for name in METRICS}
        return {**values, "bins": reliability_bins(probs, labels)}

    report = {
        "method": method,
        "reason": reason,
        "parameters": parameters(method, transform),
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
        "validation_coverage": None if validation_kept is None else validation_kept.coverage,
        "validation_accuracy": None if validation_kept is None else validation_kept.accuracy,
        "test_coverage": None if test_kept is None else test_kept.coverage,
        "test_accuracy": None if test_kept is None else test_kept.accuracy,
        "seconds": round(time.perf_counter() - started, 1),
    }
    edit.write(PART.name, parse(Calibration, report, PART.files[0]))
