"""What each calibration rule keeps, and what that does on test, for runs already trained.

    .venv/bin/python bench/calibration_rule.py runs/quick runs/mpnet-s42 ...

Per run: the raw validation logits recorded at training (`train_log.json`) are given to both rules,
the lowest cross-validated NLL (the rule before) and the simplest candidate whose gain exceeds one
standard error (`agnews.training.calibration.simplest_within_noise`, the rule now); each choice is
fitted on all validation rows and applied to the run's raw test logits (the stored, folded logits
with the run's own fit inverted). Test NLL and ECE are printed for none and both choices. Choices
are made on validation only; test is read to report, never to choose.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from machine import cpu_name

from agnews.rundir.parts import logit_columns
from agnews.rundir.run import Run
from agnews.training.calibration import (
    CV_FOLDS,
    FITTERS,
    METHODS,
    LogitTransform,
    ece,
    nll,
    out_of_fold_probabilities,
    simplest_within_noise,
    softmax,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    args = parser.parse_args()
    print(f"CPU (where the runs were read): {cpu_name()}")
    print(
        f"{'run':24} {'recipe':14} {'before: lowest NLL':>18} {'now: 1-SE rule':>16} "
        f"{'test NLL none / before / now':>30} {'test ECE none / before / now':>30}"
    )
    for path in args.runs:
        run = Run.load(path)
        fit = run.training.calibration
        if fit is None:
            print(f"{run.name:24} no calibration fit recorded (trained with --calibration none)")
            continue
        validation = np.asarray(fit.validation_logits)
        labels = np.asarray(fit.validation_labels, dtype=np.int64)
        held_out = out_of_fold_probabilities(validation, labels, METHODS, CV_FOLDS, run.config.train.seed)
        before = min(held_out, key=lambda method: nll(held_out[method], labels))
        now, _ = simplest_within_noise(held_out, labels)
        served = run.predictions[list(logit_columns(len(run.classes)))].to_numpy(np.float64)
        raw = LogitTransform(np.asarray(fit.scale), np.asarray(fit.bias)).invert(served)
        test_labels = run.predictions["label"].to_numpy()

        chosen = {"none", before, now}
        probs = {method: softmax(FITTERS[method](validation, labels).apply(raw)) for method in chosen}
        recipe = f"{run.training.precision}, {run.training.frozen_layers} frozen"
        nlls = " / ".join(f"{nll(probs[m], test_labels):.4f}" for m in ("none", before, now))
        eces = " / ".join(f"{ece(probs[m], test_labels):.2%}" for m in ("none", before, now))
        print(f"{run.name:24} {recipe:14} {before:>18} {now:>16} {nlls:>30} {eces:>30}")


if __name__ == "__main__":
    main()
