"""What the Overview tab adds to start-up: `build_app` with and without it, on the same run.

    .venv/bin/python bench/overview_startup.py runs/quick [--rounds 3]

Without it means the tab's `build` and `link` replaced by nothing (the rest of the page as it is).
The two are timed in turns, `--rounds` times each; the table gives the median of each and their
difference. The model is loaded once, before timing (the Overview does not touch it).
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

from machine import cpu_name

from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.ui import app, overview


def build_seconds(run: Run, predictor: Predictor, *, with_overview: bool) -> float:
    patches = (
        nullcontext()
        if with_overview
        else mock.patch.multiple(overview, build=mock.DEFAULT, link=mock.DEFAULT)
    )
    with patches:
        began = time.perf_counter()
        app.build_app(run, predictor)
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run = Run.load(args.run)
    predictor = Predictor.from_run(run)
    build_seconds(run, predictor, with_overview=True)  # warm-up: imports, first Blocks
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for with_overview in (False, True):
            times[with_overview].append(build_seconds(run, predictor, with_overview=with_overview))
    without, with_ = statistics.median(times[False]), statistics.median(times[True])
    print(f"CPU: {cpu_name()}; run {run.name}; median of {args.rounds}")
    print(f"{'build_app':<24}{'seconds':>10}")
    print(f"{'without the Overview':<24}{without:>10.3f}")
    print(f"{'with the Overview':<24}{with_:>10.3f}")
    print(f"{'difference':<24}{with_ - without:>+10.3f}")


if __name__ == "__main__":
    main()
