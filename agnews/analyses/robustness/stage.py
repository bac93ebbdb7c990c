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

import torch

from agnews.analyses.robustness.numeric import choose_rows, flip_result
from agnews.analyses.robustness.schema import PART, TEST_APPLIES, Robustness, RobustnessSettings
from agnews.formatting import count
from agnews.inference import model_device
from agnews.rundir.declarations import Applies
from agnews.training.augment import parse_families, stress_tests_taught
from agnews.training.perturb import PERTURBATIONS, UNCASED_REASON, perturb, tokenizer_is_cased

if TYPE_CHECKING:
    from agnews.training.context import StageContext


def robustness_stage(context: StageContext) -> None:
    """Perturb the chosen test rows with every test that can matter for this tokenizer, predict the
    originals and the perturbed texts in one pass, and write the `robustness` part."""
    started = time.perf_counter()
    config = context.config
    settings: RobustnessSettings = context.settings(PART.name)
    rows, selection = choose_rows(context.predictions(), settings.rows, config.seed)
    texts, row_ids = rows["text"].tolist(), rows["row_id"].tolist()
    model, tokenizer = context.model(), context.tokenizer()
    cased = tokenizer_is_cased(tokenizer)
    dataset = context.read("config").data.description()
    not_run = {}
    for test in PERTURBATIONS:
        refusal = TEST_APPLIES.get(test.name, Applies()).refusal({}, dataset)
        if refusal is not None:
            not_run[test.name] = refusal
        elif test.cased_only and not cased:
            not_run[test.name] = UNCASED_REASON
    tests = [test for test in PERTURBATIONS if test.name not in not_run]
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
    results, classes = [], context.classes()
    for test in tests:
        applied = sum(text is not None for text in perturbed[test.name])
        after = probs[offset : offset + applied]
        offset += applied
        if applied == 0:  # left out with its reason, never shown as a 0% flip rate
            not_run[test.name] = (
                f"it changed none of the {count(len(rows))} chosen test rows (none has what it edits)"
            )
        else:
            results.append(flip_result(test, rows, perturbed[test.name], before, after, classes))
    report = Robustness(
        rows=len(rows),
        rows_requested=settings.rows,
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
    context.staged.write(PART.name, report)
