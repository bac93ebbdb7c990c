"""The Overview's rules on a trained run, as trained and with a share of its training labels flipped.

    .venv/bin/python bench/overview_rules.py --run runs/quick --flip 0.10

RUN is copied to a temporary folder and only the copy changes. Its Overview cards
(`agnews.ui.overview.cards`, most severe first) are listed with their verdicts; then `--flip` of
the training rows of every class (chosen with `--seed`) are given a uniformly random other class,
in memory, in the data the run's config names (read as `agnews analyze` reads it), the
`label_issues_train` stage runs again on the copy with those labels, and the cards are listed
again. What issue 33 asks of the rules: as trained, at most one card says "look here"; flipped, the
label-issue card does.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from agnews.analyses.label_issues.schema import TRAIN_PART
from agnews.present.cards import LOOK, Card
from agnews.rundir.run import Run
from agnews.training.context import StageContext
from agnews.training.data import LoadedData, load_config_data
from agnews.training.stages import run_stages
from agnews.ui.overview import cards

HEADLINE = 96  # characters of each card's headline the table shows


def flip_labels(
    labels: np.ndarray, fraction: float, classes: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A copy of `labels` ((rows,) class ids 0 to `classes` - 1) in which `fraction` of each class's
    rows (rounded, chosen with `seed`) carry a uniformly random other class, and the (rows,) mask of
    the flipped rows. Stratified, so that no class is spared and the class balance moves little."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"--flip {fraction}: a share of the training rows, from 0 to 1")
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    flipped = np.zeros(len(labels), dtype=bool)
    for k in range(classes):
        members = np.flatnonzero(labels == k)
        flipped[rng.choice(members, size=round(fraction * len(members)), replace=False)] = True
    noisy = labels.copy()
    noisy[flipped] = (labels[flipped] + rng.integers(1, classes, size=int(flipped.sum()))) % classes
    return noisy, flipped


def with_flipped_training_labels(data: LoadedData, fraction: float, seed: int) -> tuple[LoadedData, int]:
    """`data` whose training split has `fraction` of its labels flipped (`flip_labels`), and how many
    were; the other splits are left as they are."""
    train = data.splits["train"]
    noisy, flipped = flip_labels(np.asarray(train["label"]), fraction, len(data.classes), seed)
    splits = data.splits.copy()
    splits["train"] = train.map(lambda _row, i: {"label": int(noisy[i])}, with_indices=True)
    return dataclasses.replace(data, splits=splits), int(flipped.sum())


def find_training_label_issues(path: Path, data: LoadedData) -> None:
    """Run the `label_issues_train` stage on the run at `path` with `data` (as `agnews analyze
    --stages label_issues_train` does); raises with the stage's warning if it fails."""
    context = StageContext(Run.load(path).config.train, progress=False, loaded=data)
    failures = run_stages(path, (TRAIN_PART.name,), context)
    if failures:
        raise RuntimeError(f"{path}: the {TRAIN_PART.name} stage failed: {failures[TRAIN_PART.name]}")


def card_lines(shown: list[Card]) -> list[str]:
    """One line per card: its key, verdict and the start of its headline."""
    return [
        f"  {card.key:16} {card.verdict:12} {card.headline.replace(chr(10), ' ')[:HEADLINE]}"
        for card in shown
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="A trained run; only a copy is changed.")
    parser.add_argument("--flip", type=float, default=0.10, help="Share of each class's training labels.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the rows flipped and their new class.")
    args = parser.parse_args()
    from machine import cpu_name  # beside this script: importable when it runs, not when a test loads it

    print(f"CPU: {cpu_name()}")
    with tempfile.TemporaryDirectory(prefix="overview-rules-") as scratch:
        copy = Path(shutil.copytree(args.run, Path(scratch) / args.run.name))
        as_trained = cards(Run.load(copy))
        print(f"{args.run} as trained: {sum(c.verdict == LOOK for c in as_trained)} look here")
        print("\n".join(card_lines(as_trained)))
        started = time.perf_counter()
        data, flipped = with_flipped_training_labels(
            load_config_data(Run.load(copy).config.train), args.flip, args.seed
        )
        find_training_label_issues(copy, data)
        seconds = time.perf_counter() - started
        noisy = cards(Run.load(copy))
        print(
            f"\n{flipped} of {len(data.splits['train'])} training labels flipped (seed {args.seed}), "
            f"{TRAIN_PART.name} again in {seconds:.0f} s: {sum(c.verdict == LOOK for c in noisy)} look here"
        )
        print("\n".join(card_lines(noisy)))


if __name__ == "__main__":
    main()
