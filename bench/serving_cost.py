"""What a run costs to serve: one headline classified, one explained, and its size on disk.

    .venv/bin/python bench/serving_cost.py runs/quick runs/mpnet-s42 [--texts 60] [--repeats 3]

Per run, the app's predictor (`Predictor.from_run`, one thread, the run's fp32 ONNX graph where it
has one) classifies `--texts` distinct test headlines one at a time (`probabilities`, what the
Classify tab and `POST /api/classify` call) and explains a third as many (`word_scores`, the
`/explain` event: one batched pass over every one-word-removed variant). Times are p50 per call,
the median over `--repeats` rounds, the runs taking turns; the first call of each run is a warm-up.
Size: the run folder's bytes (model, graphs, parts). Run it with nothing else on the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from machine import cpu_name

from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def p50_seconds(call: Callable[[str], object], texts: list[str]) -> float:
    seconds = []
    for text in texts:
        began = time.perf_counter()
        call(text)
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--texts", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    loaded = {path: Run.load(path) for path in args.runs}
    predictors = {path: Predictor.from_run(run, threads=1) for path, run in loaded.items()}
    texts = next(iter(loaded.values())).predictions["text"].tolist()
    classify: dict[Path, list[float]] = {path: [] for path in args.runs}
    explain: dict[Path, list[float]] = {path: [] for path in args.runs}
    for round_ in range(args.repeats):
        start = 1 + round_ * args.texts  # every round and run reads texts not seen before: no cache hits
        batch = texts[start : start + args.texts]
        for path, predictor in predictors.items():
            predictor.probabilities(texts[0])  # warm-up
            classify[path].append(p50_seconds(predictor.probabilities, batch))
            explain[path].append(p50_seconds(predictor.word_scores, batch[: args.texts // 3]))
    print(f"CPU: {cpu_name()}; one thread per call; p50 per call, median of {args.repeats} rounds")
    print(
        f"{'run':16} {'base model':10} {'backend':32} {'classify ms':>11} {'explain ms':>10} {'size MB':>8}"
    )
    for path, predictor in predictors.items():
        print(
            f"{path.name:16} {loaded[path].config.train.base_model:10} {predictor.backend:32} "
            f"{1000 * statistics.median(classify[path]):11.1f} "
            f"{1000 * statistics.median(explain[path]):10.1f} "
            f"{folder_bytes(path) / 1e6:8.0f}"
        )


if __name__ == "__main__":
    main()
