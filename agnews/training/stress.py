"""The robustness stage: behavioural tests (CheckList-style invariance) on a stratified sample of test rows.

Each test of `agnews.training.perturb` changes a text without changing its topic (typos, punctuation,
an agency marker, a neutral prefix, a boilerplate sentence, a person's name, letter case), so the
predicted class should stay. Per test the `robustness` part records the rows it applied to, the share
whose prediction flipped (95% Wilson interval) and how much the originally predicted class's
probability moved, with the flipped rows as examples.

The originals are predicted again here, in the same batched pass and with the same model and
settings as their perturbed copies, rather than read from the `predictions` part: a flip then
measures the perturbation alone, whatever backend or precision made the stored predictions. The
`predictions` part is read only for the rows (texts, labels) and to choose them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from agnews.inference import model_device
from agnews.labels import LABELS
from agnews.rundir.parts import FlippedExample, Robustness, StressResult
from agnews.training.augment import parse_families, stress_tests_taught
from agnews.training.data import stratified_take
from agnews.training.perturb import PERTURBATIONS, UNCASED_REASON, Perturbation, perturb, tokenizer_is_cased
from agnews.training.slices import wilson_interval

if TYPE_CHECKING:
    from agnews.training.context import StageContext

# Flipped rows kept per test: enough to read what a test does to the model, few enough for the part
# to stay small at any row count.
EXAMPLES = 50


def choose_rows(predictions: pd.DataFrame, rows: int | None, seed: int) -> tuple[pd.DataFrame, str]:
    """Up to `rows` test rows, stratified by label and seeded (all of them for None or more than the
    run has), and how they were chosen, in words for the part."""
    total = len(predictions)
    index = stratified_take(np.arange(total), predictions["label"].to_numpy(), rows, seed)
    if rows is None:
        selection = f"all {total:,} test rows"
    elif rows >= total:
        selection = f"all {total:,} test rows (the run has no more than the {rows:,} asked for)"
    else:
        selection = f"{rows:,} of {total:,} test rows, stratified by label (seed {seed})"
    return predictions.iloc[index].reset_index(drop=True), selection


def stress_result(
    test: Perturbation,
    rows: pd.DataFrame,
    perturbed: list[str | None],
    before: np.ndarray,
    after: np.ndarray,
    examples: int = EXAMPLES,
) -> StressResult:
    """One test's line of the part: its flip rate with a 95% Wilson interval, and examples.

    Parameters
    ----------
    test : Perturbation
        The behavioural test (its name and description are copied).
    rows : pd.DataFrame, N rows
        The chosen test rows: `row_id`, `text`, `label`.
    perturbed : list of str or None, length N
        Each row's perturbed text, None where the test does not apply to it.
    before : np.ndarray, shape (N, 4)
        Class probabilities of every row's original text.
    after : np.ndarray, shape (M, 4)
        Class probabilities of the perturbed texts, in order, M = rows the test applied to.
    examples : int
        Flipped rows kept as examples, largest confidence drop first.

    Returns
    -------
    StressResult
        `flip_rate` = flipped / M (None when M is 0) with its Wilson interval, and the mean change of
        the originally predicted class's probability.
    """
    applied = np.flatnonzero([text is not None for text in perturbed])
    if len(after) != len(applied):
        raise ValueError(f"{len(after)} perturbed predictions for {len(applied)} perturbed rows")
    if len(applied) == 0:
        return StressResult(test.name, test.description, 0, 0, None, None, None, None, [])
    before = before[applied]
    predicted, predicted_after = before.argmax(axis=1), after.argmax(axis=1)
    flipped = predicted != predicted_after
    positions = np.arange(len(applied))
    change = after[positions, predicted] - before[positions, predicted]
    low, high = wilson_interval(int(flipped.sum()), len(applied))
    worst = [i for i in np.argsort(change, kind="stable") if flipped[i]][:examples]
    return StressResult(
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
                label=LABELS[int(rows["label"].iloc[applied[i]])],
                text=str(rows["text"].iloc[applied[i]]),
                perturbed=str(perturbed[applied[i]]),
                pred_before=LABELS[predicted[i]],
                pred_after=LABELS[predicted_after[i]],
                confidence_before=float(before[i].max()),
                confidence_after=float(after[i].max()),
            )
            for i in worst
        ],
    )


def stress_stage(context: StageContext) -> None:
    """Perturb the chosen test rows with every test that can matter for this tokenizer, predict the
    originals and the perturbed texts in one pass, and write the `robustness` part."""
    started = time.perf_counter()
    config = context.config
    rows, selection = choose_rows(context.predictions(), context.stress_rows, config.seed)
    texts, row_ids = rows["text"].tolist(), rows["row_id"].tolist()
    model, tokenizer = context.model(), context.tokenizer()
    cased = tokenizer_is_cased(tokenizer)
    tests = [test for test in PERTURBATIONS if cased or not test.cased_only]
    not_run = {test.name: UNCASED_REASON for test in PERTURBATIONS if test not in tests}
    perturbed = {test.name: perturb(texts, row_ids, test, config.seed) for test in tests}
    batch = texts + [text for test in tests for text in perturbed[test.name] if text is not None]
    if context.progress:
        print(
            f"stress tests: {len(tests)} perturbations of {len(texts)} test rows, "
            f"{len(batch)} texts to predict",
            flush=True,
        )
    probs = context.infer(batch, "stress").probs
    before, offset = probs[: len(texts)], len(texts)
    results = []
    for test in tests:
        applied = sum(text is not None for text in perturbed[test.name])
        after = probs[offset : offset + applied]
        results.append(stress_result(test, rows, perturbed[test.name], before, after))
        offset += applied
    report = Robustness(
        rows=len(rows),
        rows_requested=context.stress_rows,
        selection=selection,
        seed=config.seed,
        backend=(
            f"the run's PyTorch model (torch {torch.__version__}), fp32 on {model_device(model).type}, "
            f"max_length {config.max_length}"
        ),
        tokenizer_cased=cased,
        tests=results,
        not_run=not_run,
        seconds=round(time.perf_counter() - started, 1),
        trained_for=(
            None if config.augment is None else sorted(stress_tests_taught(parse_families(config.augment)))
        ),
    )
    context.staged.write("robustness", report)
