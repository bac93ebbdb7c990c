"""Calibration of a classifier's probabilities: metrics, calibrators fitted on validation, and the fold.

A calibrator here is a per-class affine map of the logits, `logits * scale + bias`: temperature
scaling (one scale 1/T, no bias) or vector scaling (a scale and a bias per class). Both are linear,
so they fold exactly into the model's last linear layer (`fold_into_classifier`): a plain
`transformers.pipeline`, the ONNX graphs and the stored predictions then all give the calibrated
probabilities, and the raw logits come back by inverting the map (`LogitTransform.invert`).

Candidates are compared on the validation rows only, by the NLL of their out-of-fold probabilities
(k-fold: each row scored by a calibrator fitted without it). On a few hundred rows the in-sample fit
would flatter the more flexible calibrator; NLL, a proper scoring rule, is the criterion because
ECE depends on its binning and can be lowered by blurring confidences that NLL would penalise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agnews.formatting import number

METHODS = ("none", "temperature", "vector")
ECE_BINS = 15
CV_FOLDS = 5


class CalibrationError(ValueError):
    """Calibration cannot be fitted or folded as asked; the message says why and what to do."""


@dataclass(frozen=True)
class LogitTransform:
    """`logits * scale + bias`, per class. Scales are positive, so the map is invertible."""

    scale: np.ndarray
    bias: np.ndarray

    @classmethod
    def identity(cls, classes: int) -> LogitTransform:
        return cls(np.ones(classes), np.zeros(classes))

    @classmethod
    def temperature(cls, temperature: float, classes: int) -> LogitTransform:
        return cls(np.full(classes, 1.0 / temperature), np.zeros(classes))

    def apply(self, logits: np.ndarray) -> np.ndarray:
        return logits.astype(np.float64) * self.scale + self.bias

    def invert(self, logits: np.ndarray) -> np.ndarray:
        return (logits.astype(np.float64) - self.bias) / self.scale


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    from scipy.special import softmax as scipy_softmax

    return scipy_softmax(logits.astype(np.float64), axis=1)


# --------------------------------------------------------------------------------------------------
# Metrics (plain numpy: the bootstrap calls them a thousand times)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowScores:
    """Per-row ingredients of every metric for one set of probabilities, so that a bootstrap resample
    is scored from its row counts (`metrics(counts)`) without re-sorting or recomputing anything."""

    confidence: np.ndarray
    correct: np.ndarray
    log_loss: np.ndarray
    squared_error: np.ndarray
    width_bin: np.ndarray
    order: np.ndarray
    bins: int

    @classmethod
    def of(cls, probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> RowScores:
        confidence = probs.max(axis=1)
        true = probs[np.arange(len(labels)), labels]
        onehot = np.eye(probs.shape[1])[labels]
        return cls(
            confidence=confidence,
            correct=(probs.argmax(axis=1) == labels).astype(np.float64),
            log_loss=-np.log(np.clip(true, 1e-12, 1.0)),
            squared_error=np.sum((probs - onehot) ** 2, axis=1),
            width_bin=equal_width_bin(confidence, bins),
            order=np.argsort(confidence, kind="stable"),
            bins=bins,
        )

    def metrics(self, counts: np.ndarray | None = None) -> dict[str, float]:
        """ECE, adaptive ECE, NLL and Brier score of the rows, each counted `counts` times (default once)."""
        counts = np.ones(len(self.confidence), dtype=np.int64) if counts is None else counts
        total = counts.sum()
        # Equal-mass bins: the resample's rows in confidence order, cut into `bins` equal counts.
        ranked = np.repeat(self.order, counts[self.order])
        mass_bin = np.arange(total) * self.bins // total
        return {
            "ece": _gap(self.confidence, self.correct, self.width_bin, counts, self.bins),
            "adaptive_ece": _gap(
                self.confidence[ranked], self.correct[ranked], mass_bin, np.ones(total), self.bins
            ),
            "nll": float(counts @ self.log_loss / total),
            "brier": float(counts @ self.squared_error / total),
        }


def _gap(
    confidence: np.ndarray, correct: np.ndarray, bin_of_row: np.ndarray, counts: np.ndarray, bins: int
) -> float:
    """Sum over bins of (bin share) x |accuracy - mean confidence|, rows weighted by `counts`."""
    conf_sums = np.bincount(bin_of_row, weights=counts * confidence, minlength=bins)
    correct_sums = np.bincount(bin_of_row, weights=counts * correct, minlength=bins)
    return float(np.abs(correct_sums - conf_sums).sum() / counts.sum())


def equal_width_bin(confidence: np.ndarray, bins: int = ECE_BINS) -> np.ndarray:
    """Bin index of each confidence in `bins` equal-width bins of [0, 1] (right-closed, as in Guo et al.)."""
    return np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)


METRICS = ("ece", "adaptive_ece", "nll", "brier")


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label expected calibration error over equal-width confidence bins.

    Parameters
    ----------
    probs : np.ndarray, shape (N, K)
        Class probabilities per row (each row sums to 1); the confidence is the row's maximum.
    labels : np.ndarray, shape (N,)
        True class ids, 0 to K-1.
    bins : int, default 15
        Equal-width bins of [0, 1], right-closed (Guo et al. 2017).

    Returns
    -------
    float
        Sum over bins of (share of rows) x |accuracy - mean confidence|, from 0 (calibrated) to 1.

    Note
    ----
    With few rows per bin the estimate is biased upwards; the calibration part states it with a
    bootstrap interval (`agnews.training.calibrate`), and `adaptive_ece` bins by mass instead.
    """
    return RowScores.of(probs, labels, bins).metrics()["ece"]


def adaptive_ece(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE over `bins` equal-mass bins (rows sorted by confidence, split into equal counts):
    unlike equal-width bins, no bin is nearly empty when most confidences crowd near 1."""
    return RowScores.of(probs, labels, bins).metrics()["adaptive_ece"]


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class.

    Parameters
    ----------
    probs : np.ndarray, shape (N, K)
        Class probabilities per row.
    labels : np.ndarray, shape (N,)
        True class ids, 0 to K-1.

    Returns
    -------
    float
        Mean of -ln p(true class), 0 for certain and right, unbounded above (probabilities are
        clipped away from 0 so that one certain mistake does not make it infinite).
    """
    return RowScores.of(probs, labels).metrics()["nll"]


def brier(probs: np.ndarray, labels: np.ndarray) -> float:
    """Multiclass Brier score: mean over rows of the squared distance to the one-hot label (0 to 2)."""
    return RowScores.of(probs, labels).metrics()["brier"]


def reliability_bins(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    """Per equal-width bin: bounds, rows, mean confidence and accuracy (None for an empty bin)."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    bin_of_row = equal_width_bin(confidence, bins)
    out = []
    for b in range(bins):
        inside = bin_of_row == b
        count = int(inside.sum())
        out.append(
            {
                "lower": b / bins,
                "upper": (b + 1) / bins,
                "count": count,
                "confidence": float(confidence[inside].mean()) if count else None,
                "accuracy": float(correct[inside].mean()) if count else None,
            }
        )
    return out


# --------------------------------------------------------------------------------------------------
# Selective prediction
# --------------------------------------------------------------------------------------------------


def risk_coverage(confidence: np.ndarray, correct: np.ndarray, points: int = 101) -> dict:
    """The risk-coverage curve: rows kept most confident first; at each coverage the error rate of
    the kept rows. Sampled at `points` coverages; `aurc` is the area under the full curve."""
    order = np.argsort(-confidence, kind="stable")
    errors = np.cumsum(~correct[order])
    kept = np.arange(1, len(order) + 1)
    risk = errors / kept
    picks = np.unique(np.clip(np.round(np.linspace(0, 1, points) * len(order)).astype(int), 1, len(order)))
    return {
        "coverage": (picks / len(order)).tolist(),
        "risk": risk[picks - 1].tolist(),
        "threshold": confidence[order][picks - 1].tolist(),
        "aurc": float(risk.mean()),
    }


def review_threshold(confidence: np.ndarray, correct: np.ndarray, target: float) -> float | None:
    """The lowest confidence threshold whose kept rows (confidence >= threshold) reach `target`
    accuracy; None when no threshold does. Rows of equal confidence are kept or dropped together."""
    order = np.argsort(-confidence, kind="stable")
    sorted_conf = confidence[order]
    accuracy = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    # Only cut where the confidence changes: a threshold keeps every row of equal confidence.
    boundary = np.append(sorted_conf[1:] < sorted_conf[:-1], True)
    valid = np.flatnonzero(boundary & (accuracy >= target))
    return float(sorted_conf[valid[-1]]) if len(valid) else None


# --------------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------------


# Temperatures searched (and per-class scales, as their inverse): a fit outside them is a validation
# set the model separates (or cannot tell apart) and the fit running off to infinity, not a calibration.
TEMPERATURE_BOUNDS = (0.05, 20.0)
# Per-class biases searched, in logits: for the same reason, a bias beyond it only memorises the rows.
BIAS_BOUND = 10.0


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> LogitTransform:
    """The temperature minimising validation NLL (bounded search over log T)."""
    from scipy.optimize import minimize_scalar

    def loss(log_t: float) -> float:
        return nll(softmax(logits / np.exp(log_t)), labels)

    result = minimize_scalar(loss, bounds=tuple(np.log(TEMPERATURE_BOUNDS)), method="bounded")
    return LogitTransform.temperature(float(np.exp(result.x)), logits.shape[1])


def fit_vector(logits: np.ndarray, labels: np.ndarray) -> LogitTransform:
    """Per-class scale (kept positive: fitted as its log) and bias minimising validation NLL (L-BFGS).

    Both are bounded (the scales as the temperatures are, the biases by `BIAS_BOUND`): on a small
    validation set that the model separates, or on logits it cannot tell apart, the unbounded fit
    runs a scale to millions, which, folded into the classifier, overflows its logits to NaN.
    The biases are centred afterwards: softmax ignores a shift shared by all classes.
    """
    from scipy.optimize import minimize

    z = logits.astype(np.float64)
    classes = z.shape[1]
    onehot = np.eye(classes)[labels]

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        scale, bias = np.exp(params[:classes]), params[classes:]
        probs = softmax(z * scale + bias)
        residual = (probs - onehot) / len(z)
        grad_scale = (residual * z).sum(axis=0) * scale
        return nll(probs, labels), np.concatenate([grad_scale, residual.sum(axis=0)])

    low, high = np.log(1.0 / TEMPERATURE_BOUNDS[1]), np.log(1.0 / TEMPERATURE_BOUNDS[0])
    bounds = [(low, high)] * classes + [(-BIAS_BOUND, BIAS_BOUND)] * classes
    result = minimize(loss, np.zeros(2 * classes), jac=True, method="L-BFGS-B", bounds=bounds)
    bias = result.x[classes:]
    return LogitTransform(np.exp(result.x[:classes]), bias - bias.mean())


FITTERS: dict[str, Callable[[np.ndarray, np.ndarray], LogitTransform]] = {
    "none": lambda logits, labels: LogitTransform.identity(logits.shape[1]),
    "temperature": fit_temperature,
    "vector": fit_vector,
}


@dataclass(frozen=True)
class Choice:
    """The calibrator kept, fitted on every validation row, and how each candidate scored."""

    method: str
    transform: LogitTransform
    reason: str
    folds: int
    scores: dict[str, dict[str, float]]


def out_of_fold_probabilities(
    logits: np.ndarray, labels: np.ndarray, methods: tuple[str, ...], folds: int, seed: int
) -> dict[str, np.ndarray]:
    """Per method, each validation row's probabilities from a calibrator fitted on the other folds
    (stratified, seeded: the same folds for every method, so rows compare pairwise)."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    held_out = {}
    for method in methods:
        probabilities = np.zeros(logits.shape, dtype=np.float64)
        for fit_rows, score_rows in splitter.split(logits, labels):
            transform = FITTERS[method](logits[fit_rows], labels[fit_rows])
            probabilities[score_rows] = softmax(transform.apply(logits[score_rows]))
        held_out[method] = probabilities
    return held_out


def simplest_within_noise(held_out: dict[str, np.ndarray], labels: np.ndarray) -> tuple[str, str]:
    """The calibrator to keep, and why: walking from the simplest (`METHODS` order: none, one
    temperature, a scale and bias per class), a more complex one replaces the kept one only if its
    mean out-of-fold NLL gain is larger than one standard error of that gain over the rows (the
    one-standard-error rule of model selection).

    Why: on a few hundred validation rows the candidates' NLLs can differ by less than their own
    noise, and taking the lowest then picked vector scaling that made the test split worse; a gain
    inside the noise is no evidence for the extra parameters.
    """
    losses = {method: RowScores.of(probs, labels).log_loss for method, probs in held_out.items()}
    kept, steps = METHODS[0], []
    for candidate in METHODS[1:]:
        gain = losses[kept] - losses[candidate]
        mean, error = float(gain.mean()), float(gain.std(ddof=1) / np.sqrt(len(gain)))
        taken = mean > error
        steps.append(
            f"{candidate} over {kept}: NLL gain {number(mean, signed=True)}, standard error {number(error)}, "
            f"{'taken' if taken else 'not taken'}"
        )
        if taken:
            kept = candidate
    reason = (
        f"the simplest calibrator whose cross-validated NLL gain on the {len(labels)} validation rows "
        f"exceeds one standard error ({'; '.join(steps)})"
    )
    return kept, reason


def choose_calibration(logits: np.ndarray, labels: np.ndarray, method: str, seed: int) -> Choice:
    """Fit `method` on the validation logits, or with "auto" the simplest candidate whose out-of-fold
    NLL gain is beyond its noise (`simplest_within_noise`).

    The candidates are always scored (when every class has at least two rows), so the run records
    what was compared even when the method was fixed.
    """
    if method not in ("auto", *METHODS):
        raise CalibrationError(f"calibration must be auto or one of {METHODS}, got {method!r}")
    if len(logits) != len(labels) or logits.ndim != 2 or logits.shape[1] < 2:
        raise CalibrationError(
            "expected n x classes logits (2 or more classes) and n labels, "
            f"got {logits.shape}, {labels.shape}"
        )
    folds = min(CV_FOLDS, int(np.bincount(labels, minlength=logits.shape[1]).min()))
    held_out = out_of_fold_probabilities(logits, labels, METHODS, folds, seed) if folds >= 2 else {}
    scores = {
        name: {"cv_nll": nll(probs, labels), "cv_ece": ece(probs, labels)} for name, probs in held_out.items()
    }
    if method == "auto":
        if not scores:
            return Choice(
                "none",
                LogitTransform.identity(logits.shape[1]),
                "a class has fewer than 2 validation rows, too few to compare calibrators",
                folds,
                scores,
            )
        method, reason = simplest_within_noise(held_out, labels)
    else:
        reason = "the run's `calibration` setting asked for it"
    return Choice(method, FITTERS[method](logits, labels), reason, folds, scores)


# --------------------------------------------------------------------------------------------------
# Folding into the model
# --------------------------------------------------------------------------------------------------


def classifier_layer(model: object) -> object:
    """The model's last linear layer: `classifier` (BERT, DistilBERT) or `classifier.out_proj` (MPNet,
    RoBERTa), with one output per class."""
    import torch

    classes = getattr(getattr(model, "config", None), "num_labels", None)
    head = getattr(model, "classifier", None)
    for layer in (head, getattr(head, "out_proj", None)):
        if isinstance(layer, torch.nn.Linear) and layer.out_features == classes and layer.bias is not None:
            return layer
    raise CalibrationError(
        f"{type(model).__name__}: no final linear layer with {classes} outputs and a bias at "
        "`classifier` or `classifier.out_proj`, so calibration cannot be folded into this model; "
        "train it with --calibration none"
    )


def fold_into_classifier(model: object, transform: LogitTransform) -> None:
    """Make the model output `transform.apply(logits)`: W' = diag(scale) W, b' = scale * b + bias."""
    import torch

    layer = classifier_layer(model)
    with torch.no_grad():
        scale = torch.as_tensor(transform.scale, dtype=layer.weight.dtype, device=layer.weight.device)
        bias = torch.as_tensor(transform.bias, dtype=layer.bias.dtype, device=layer.bias.device)
        layer.weight.mul_(scale[:, None])
        layer.bias.mul_(scale).add_(bias)
