"""The test-split label-issue check on known noise: does cleanlab find labels we broke on purpose?

For RUN's stored test predictions, `--seeds` times: give `--fraction` of the rows (seeded) a random
other class, flag both the clean and the noisy copy with the function the `label_issues_test` stage uses
(`agnews.analyses.label_issues.numeric.label_issue_table`, same probabilities), and score the flags that are
new in the noisy copy against the flipped rows. Rows the clean copy already flags are the data's own
label issues, not the injected ones, so they are left out of both counts. Prints a table, one line per
seed and their mean; the goal is precision and recall of at least 0.80 each. RUN is only read.

    .venv/bin/python bench/label_noise.py runs/quick
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agnews.analyses.label_issues.numeric import label_issue_table
from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.rundir.parts import prob_columns
from agnews.rundir.run import Run

NUM_LABELS = len(AG_NEWS_CLASSES)

GOAL = 0.80


def flip_labels(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A copy of `labels` with `fraction` of the rows (chosen with `seed`) moved to a uniformly random
    other class, and the boolean mask of the flipped rows."""
    rng = np.random.default_rng(seed)
    flipped = np.zeros(len(labels), dtype=bool)
    flipped[rng.choice(len(labels), size=round(fraction * len(labels)), replace=False)] = True
    noisy = labels.copy()
    noisy[flipped] = (labels[flipped] + rng.integers(1, NUM_LABELS, size=flipped.sum())) % NUM_LABELS
    return noisy, flipped


@dataclass(frozen=True)
class NoiseCheck:
    """One injected-noise trial: counts and the precision and recall of the new flags."""

    seed: int
    rows: int
    flipped: int
    clean_flags: int
    new_flags: int
    found: int  # new flags on flipped rows

    @property
    def precision(self) -> float:
        return self.found / self.new_flags if self.new_flags else float("nan")

    @property
    def recall(self) -> float:
        return self.found / self.flipped if self.flipped else float("nan")


def noise_check(labels: np.ndarray, probs: np.ndarray, *, fraction: float, seed: int) -> NoiseCheck:
    """Flip `fraction` of `labels`, and score the flags the flip adds against the flipped rows."""
    labels = np.asarray(labels, dtype=np.int64)
    clean = label_issue_table(labels, probs)["flagged"].to_numpy()
    noisy_labels, flipped = flip_labels(labels, fraction, seed)
    new = label_issue_table(noisy_labels, probs)["flagged"].to_numpy() & ~clean
    return NoiseCheck(
        seed=seed,
        rows=len(labels),
        flipped=int(flipped.sum()),
        clean_flags=int(clean.sum()),
        new_flags=int(new.sum()),
        found=int((new & flipped).sum()),
    )


def table(checks: list[NoiseCheck]) -> str:
    lines = [
        f"{'seed':>6} {'rows':>6} {'flipped':>8} {'clean flags':>12} {'new flags':>10} {'found':>6} "
        f"{'precision':>10} {'recall':>7}"
    ]
    for c in checks:
        lines.append(
            f"{c.seed:>6} {c.rows:>6} {c.flipped:>8} {c.clean_flags:>12} {c.new_flags:>10} {c.found:>6} "
            f"{c.precision:>10.3f} {c.recall:>7.3f}"
        )
    precision = float(np.mean([c.precision for c in checks]))
    recall = float(np.mean([c.recall for c in checks]))
    lines.append(f"{'mean':>6} {'':>6} {'':>8} {'':>12} {'':>10} {'':>6} {precision:>10.3f} {recall:>7.3f}")
    verdict = "met" if min(precision, recall) >= GOAL else "NOT met"
    lines.append(f"goal: precision and recall >= {GOAL:.2f} each: {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="A finished run (its test predictions are used).")
    parser.add_argument("--fraction", type=float, default=0.05, help="Share of rows flipped (default 0.05).")
    parser.add_argument("--seeds", type=int, default=5, help="Trials, seeds 0..N-1 (default 5).")
    args = parser.parse_args(argv)
    predictions = Run.load(args.run).predictions
    labels, probs = predictions["label"].to_numpy(), predictions[list(prob_columns(NUM_LABELS))].to_numpy()
    checks = [noise_check(labels, probs, fraction=args.fraction, seed=seed) for seed in range(args.seeds)]
    print(f"{args.run}: {args.fraction:.0%} of the test labels flipped to another class, {args.seeds} seeds")
    print(table(checks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
