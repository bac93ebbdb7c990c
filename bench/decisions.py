"""What recording a decision costs as the log grows: the 10th, 100th, 1,000th and 10,000th event.

    .venv/bin/python bench/decisions.py

The log is filled with a decision and its undo in turn (a long log is mostly history: `standing`
folds it), then a new decision is recorded. For each size that is done in three fresh logs and the
median printed: the append alone (`DecisionStore.add`); a whole click on the page (the append, the
log read back by the store that had read the rest, and what stands folded for the table); the read
by a store that has never seen the file (an app just started); and the file's size.
Acceptance (issue 30): the 10,000th append costs at most twice the 10th.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

from machine import cpu_name

from agnews.rundir.decisions import RELABEL, TRAIN, Decision, DecisionStore, decide, standing, undo

SPLIT_HASH = "b" * 64
SIZES = (10, 100, 1_000, 10_000)
REPEATS = 3


def fill(store: DecisionStore, events: int) -> Decision:
    """Record `events` events in `store`, a decision and its undo in turn; the last decision made."""
    decision = None
    for number in range(events):
        if number % 2 == 0:
            key = f"row-{number // 2}"
            decision = decide(TRAIN, SPLIT_HASH, key, action=RELABEL, label="Sports", given="World", text="t")
            store.add(decision)
        else:
            store.add(undo([decision], TRAIN, SPLIT_HASH, decision.key, None)[0])
    return decision


def measure(size: int, folder: Path) -> tuple[float, float, float, int]:
    """(append s, click s, cold read s, file bytes) for recording the `size`th event into `folder`."""
    store = DecisionStore(folder)
    fill(store, size - 1)
    store.log(TRAIN, SPLIT_HASH)  # the page has shown the log before the click
    event = decide(TRAIN, SPLIT_HASH, "row-new", action=RELABEL, label="Sports", given="World", text="t")
    gc.collect()
    gc.disable()  # as timeit does: a collection of the filling's garbage is not the event's cost
    try:
        started = time.perf_counter()
        store.add(event)
        appended = time.perf_counter()
        standing(store.log(TRAIN, SPLIT_HASH).events)
        clicked = time.perf_counter()
        DecisionStore(folder).log(TRAIN, SPLIT_HASH)
        cold = time.perf_counter() - clicked
    finally:
        gc.enable()
    return appended - started, clicked - started, cold, store.path(TRAIN, SPLIT_HASH).stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    print(f"CPU: {cpu_name()}")
    print(f"{'event':>8} {'append ms':>10} {'click ms':>9} {'cold read ms':>13} {'log KB':>8}")
    appends = {}
    for size in SIZES:
        with tempfile.TemporaryDirectory(prefix="agnews-bench-decisions-") as tmp:
            runs = [measure(size, Path(tmp) / f"try{i}") for i in range(REPEATS)]
        append, click, cold, size_bytes = (statistics.median(column) for column in zip(*runs, strict=True))
        appends[size] = append
        kilobytes = size_bytes / 1e3
        print(f"{size:>8,} {append * 1e3:>10.3f} {click * 1e3:>9.3f} {cold * 1e3:>13.1f} {kilobytes:>8.0f}")
    ratio = appends[SIZES[-1]] / appends[SIZES[0]]
    verdict = "pass" if ratio <= 2 else "FAIL"
    print(f"append at {SIZES[-1]:,} / at {SIZES[0]}: {ratio:.2f} (acceptance: at most 2) {verdict}")


if __name__ == "__main__":
    main()
