"""The robustness analysis's numbers: which test rows are perturbed, and what one test did to them.

Pure functions of arrays and frames; the stage (`stage.py`) runs the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agnews.analyses.robustness.schema import FlippedExample, FlipResult
from agnews.formatting import count
from agnews.stats import wilson_interval
from agnews.training.data import stratified_take
from agnews.training.perturb import Perturbation

# Flipped rows kept per test: enough to read what a test does to the model, few enough for the part
# to stay small at any row count.
EXAMPLES = 50


def choose_rows(predictions: pd.DataFrame, rows: int | None, seed: int) -> tuple[pd.DataFrame, str]:
    """Up to `rows` test rows, stratified by label and seeded (all of them for None or more than the
    run has), and how they were chosen, in words for the part."""
    total = len(predictions)
    index = stratified_take(np.arange(total), predictions["label"].to_numpy(), rows, seed)
    if rows is None:
        selection = f"all {count(total)} test rows"
    elif rows >= total:
        selection = f"all {count(total)} test rows (the run has no more than the {count(rows)} asked for)"
    else:
        selection = f"{count(rows)} of {count(total)} test rows, stratified by label (seed {seed})"
    return predictions.iloc[index].reset_index(drop=True), selection


def flip_result(
    test: Perturbation,
    rows: pd.DataFrame,
    perturbed: list[str | None],
    before: np.ndarray,
    after: np.ndarray,
    classes: tuple[str, ...],
    examples: int = EXAMPLES,
) -> FlipResult:
    """One test's line of the part: its flip rate with a 95% Wilson interval, and examples.

    Parameters
    ----------
    test : Perturbation
        The behavioural test (its name and description are copied).
    rows : pd.DataFrame, N rows
        The chosen test rows: `row_id`, `text`, `label`.
    perturbed : list of str or None, length N
        Each row's perturbed text, None where the test does not apply to it.
    before : np.ndarray, shape (N, K)
        Class probabilities of every row's original text.
    after : np.ndarray, shape (M, K)
        Class probabilities of the perturbed texts, in order, M = rows the test applied to.
    classes : tuple of str, length K
        The run's classes, which name the examples' labels and predictions.
    examples : int
        Flipped rows kept as examples, largest confidence drop first.

    Returns
    -------
    FlipResult
        `flip_rate` = flipped / M (None when M is 0) with its Wilson interval, and the mean change of
        the originally predicted class's probability.
    """
    applied = np.flatnonzero([text is not None for text in perturbed])
    if len(after) != len(applied):
        raise ValueError(f"{len(after)} perturbed predictions for {len(applied)} perturbed rows")
    if len(applied) == 0:
        return FlipResult(test.name, test.description, 0, 0, None, None, None, None, [])
    before = before[applied]
    predicted, predicted_after = before.argmax(axis=1), after.argmax(axis=1)
    flipped = predicted != predicted_after
    positions = np.arange(len(applied))
    change = after[positions, predicted] - before[positions, predicted]
    low, high = wilson_interval(int(flipped.sum()), len(applied))
    worst = [i for i in np.argsort(change, kind="stable") if flipped[i]][:examples]
    return FlipResult(
        name=test.name,
        description=test.description,
        rows=len(applied),
        flipped=int(flipped.sum()),
        flip_rate=float(flipped.mean()),
        low=low,
        high=high,
        mean_confidence_change=float(change.mean()),
        examples=[
            FlippedExample(
                row_id=int(rows["row_id"].iloc[applied[i]]),
                label=classes[int(rows["label"].iloc[applied[i]])],
                text=str(rows["text"].iloc[applied[i]]),
                perturbed=str(perturbed[applied[i]]),
                pred_before=classes[predicted[i]],
                pred_after=classes[predicted_after[i]],
                confidence_before=float(before[i].max()),
                confidence_after=float(after[i].max()),
            )
            for i in worst
        ],
    )
