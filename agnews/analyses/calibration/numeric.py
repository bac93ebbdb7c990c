"""The calibration analysis's numbers: the calibrator's parameters as the part records them, and each
metric before and after with paired bootstrap intervals."""

from __future__ import annotations

import numpy as np

from agnews.training.calibration import METRICS, LogitTransform, RowScores

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


def parameters(method: str, transform: LogitTransform) -> dict[str, list[float]]:
    """The kept calibrator's parameters, by name (a temperature for temperature scaling)."""
    if method == "temperature":
        return {"temperature": [float(1.0 / transform.scale[0])]}
    if method == "vector":
        return {"scale": transform.scale.tolist(), "bias": transform.bias.tolist()}
    return {}


def bootstrap(before: np.ndarray, after: np.ndarray, labels: np.ndarray) -> dict[str, list[dict]]:
    """Each metric before and after, and their difference, with percentile 95% intervals over the
    same seeded resamples of the test rows.

    Parameters
    ----------
    before, after : np.ndarray, shape (N, classes)
        Probabilities of the N test rows from the raw and from the calibrated logits.
    labels : np.ndarray, shape (N,)
        The rows' class ids.

    Returns
    -------
    dict
        metric name -> [before, after, after - before], each {"value", "low", "high"}.
    """
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
