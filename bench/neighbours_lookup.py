"""How long the Neighbours tab takes to find the nearest training rows, as a table.

    .venv/bin/python bench/neighbours_lookup.py [--run runs/quick] [--repeats 3] [--rows 4500 --dim 384]

With `--run`: the tab's own functions on that run: a test row (`neighbours_of_row`: its stored
vector, the search, the table and the summary) and a typed text (`neighbours_of_text`: the same after
the predictor embeds the text, on `--threads` threads as the app serves it; a different headline
each time, so no cache answers), then the embedding of a headline alone (the model's share); all
after the first lookup, which also builds the index (the vectors' float32 copy, the join with the
label issues) and is timed on its own. Without: the same steps on
synthetic unit vectors of `--rows` x `--dim` (the quick run's training rows and MiniLM's width),
where a typed text's lookup is the search alone (no model: add the predictor's time per text).
Each figure is the median of `--repeats` calls, in milliseconds.
Not a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from machine import cpu_name

from agnews.analyses.neighbours.schema import PART as NEIGHBOURS
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.rundir.run import Run
from agnews.serving.map_index import unit_rows
from agnews.serving.neighbours import TrainingNeighbours
from agnews.ui import neighbours


def median_ms(call: Callable[[int], object], repeats: int) -> float:
    """The median time of `call(i)` for i in 0..repeats-1, in milliseconds."""
    times = []
    for i in range(repeats):
        began = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def on_run(path: Path, repeats: int, threads: int) -> list[tuple[str, float]]:
    from agnews.serving.predictor import Predictor

    run = Run.load(path)
    predictor = Predictor.from_run(run, threads=threads)
    ids = run.predictions["row_id"].tolist()
    texts = run.predictions["text"].tolist()
    predictor.cls_vector(texts[-1])  # warm-up: the backend's first call
    began = time.perf_counter()
    neighbours.neighbours_of_row(run, ids[0])
    first = (time.perf_counter() - began) * 1000
    return [
        (
            f"first lookup of run {run.name} (builds the index of {len(run.get(NEIGHBOURS).rows):,} rows)",
            first,
        ),
        ("test row", median_ms(lambda i: neighbours.neighbours_of_row(run, ids[i + 1]), repeats)),
        (
            f"typed text ({predictor.backend}, {threads} thread(s))",
            median_ms(lambda i: neighbours.neighbours_of_text(run, predictor, texts[i]), repeats),
        ),
        (
            "  of which the predictor's [CLS] vector alone",
            median_ms(lambda i: predictor.cls_vector(texts[repeats + i]), repeats),
        ),
    ]


def synthetic(rows: int, dim: int, repeats: int) -> list[tuple[str, float]]:
    generator = np.random.default_rng(0)
    vectors = unit_rows(generator.normal(size=(rows, dim))).astype(np.float16)
    labels = generator.integers(0, len(LABELS), rows)
    table = pd.DataFrame({"text_hash": [f"{i:016x}" for i in range(rows)], "text": ["a headline"] * rows})
    table = table.assign(label=labels, label_name=[LABELS[i] for i in labels])
    table = table.assign(flagged=pd.array(generator.random(rows) < 0.02, dtype="boolean"), suggested="World")
    queries = generator.normal(size=(repeats + 1, dim)).astype(np.float32)
    began = time.perf_counter()
    index = TrainingNeighbours(table, unit_rows(vectors), True)
    build = (time.perf_counter() - began) * 1000

    def lookup(vector: np.ndarray) -> tuple[pd.DataFrame, str]:
        found = index.nearest(vector, neighbours.K)
        return neighbours.neighbours_table(found), neighbours.summary(found, "Row", True)

    return [
        (f"index of {rows:,} x {dim} synthetic vectors (float16 to unit float32)", build),
        (
            "test row (stored vector): search, table, summary",
            median_ms(lambda i: lookup(vectors[i]), repeats),
        ),
        ("typed text, without the model's forward pass", median_ms(lambda i: lookup(queries[i]), repeats)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a run with the neighbours part (default: synthetic)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=4500)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--threads", type=int, default=1, help="the predictor's (app.py's SERVING_THREADS)")
    args = parser.parse_args()
    rows = (
        on_run(args.run, args.repeats, args.threads)
        if args.run
        else synthetic(args.rows, args.dim, args.repeats)
    )
    print(f"CPU: {cpu_name()}; k = {neighbours.K}; median of {args.repeats} (first lookup / index: once)")
    width = max(len(name) for name, _ in rows) + 2
    print(f"{'lookup':<{width}}{'ms':>9}")
    for name, ms in rows:
        print(f"{name:<{width}}{ms:>9.2f}")


if __name__ == "__main__":
    main()
