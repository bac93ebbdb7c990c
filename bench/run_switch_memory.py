"""What a server holds when pages show other runs than its own: resident memory as the run picker's
runs are opened (`agnews.serving.predictors.Predictors`, `agnews.ui.run_state.RUNS`).

    .venv/bin/python bench/run_switch_memory.py --run runs/quick --other runs/quick-s1 [--other ...]

Steps, in one process, each measured as the process's resident set size (VmRSS) after it:
1. the app built on `--run` as app.py builds it (its model served, its parts loaded);
2. each `--other` run opened as a page opens it: the run loaded (`RUNS.current`), its map points
   drawn, its model loaded (`Predictors.for_run`, kept: `KEPT_OTHER_RUNS`);
3. the same runs opened again (nothing new should load: the row shows what a re-visit costs).
Each `--other` may be a copy of `--run` (the same weights in another folder load as another model:
the memory is the same as another run's of that size). Not a test: memory depends on the libraries.
"""

from __future__ import annotations

import argparse
import gc
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def resident_mib() -> float:
    """This process's resident set size, in MiB (Linux: /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--other", type=Path, action="append", required=True)
    args = parser.parse_args()

    from agnews.present.tables import map_points
    from agnews.rundir.run import Run
    from agnews.serving.predictor import Predictor
    from agnews.ui import build_app
    from agnews.ui.run_state import RUNS

    rows: list[tuple[str, float]] = [("python + libraries imported", resident_mib())]
    run = Run.load(args.run)
    predictor = Predictor.from_run(run, threads=1)
    build_app(run, predictor, runs_root=args.run.parent)
    from agnews.serving.predictors import KEPT_OTHER_RUNS, Predictors

    predictors = Predictors(run, predictor, lambda other: Predictor.from_run(other, threads=1))
    predictor.probabilities("warm the model up")
    gc.collect()
    rows.append((f"app built on {run.name}", resident_mib()))
    for visit in ("opened", "opened again"):
        for path in args.other:
            other = RUNS.current(path)
            map_points(other)
            predictors.for_run(other).probabilities("warm the model up")
            gc.collect()
            rows.append(
                (f"{path.name} {visit} (models loaded: {', '.join(predictors.loaded())})", resident_mib())
            )
    print(f"| step (kept other runs: {KEPT_OTHER_RUNS}) | resident MiB | change |")
    print("|---|---:|---:|")
    before = rows[0][1]
    for name, mib in rows:
        print(f"| {name} | {mib:,.0f} | {mib - before:+,.0f} |")
        before = mib


if __name__ == "__main__":
    main()
