"""The map step of a finished run, measured: time, determinism, and placement faithfulness.

For RUN (a finished run with embeddings and a map), `--repeats` times, each on a fresh scratch copy
of RUN and in a fresh process: the embed and map stages as `agnews analyze RUN --stages embed,map`
runs them (the run's data loaded, fine-tuned and base-model [CLS] for the test rows, base-model
[CLS] for the train rows, the frozen-feature baseline, both UMAP maps; numba compilation included,
its cache lives in NUMBA_CACHE_DIR). RUN itself is never written. Prints the median time, whether
the repeats' coordinates are identical, and the placement check over `--placements` of RUN's test
rows. Measured numbers: docs/performance.md.

    .venv/bin/python bench/embed_map.py runs/quick --data ../shared/data/ag_news
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from agnews.rundir.parts import MAP

# Run in a fresh process, so every repeat pays imports, model loading and numba's start-up alike.
STEP = """
import json, sys, time
from pathlib import Path
from agnews.rundir.run import Run
from agnews.training.stages import analyze_run
copy, data = Path(sys.argv[1]), sys.argv[2] or None
started = time.perf_counter()
failures = analyze_run(copy, ("embed", "map"), data=data, progress=False)
seconds = time.perf_counter() - started
if failures:
    raise SystemExit(f"stages failed: {failures}")
print(json.dumps({"seconds": seconds, "baseline": Run.load(copy).baseline.accuracy}))
"""


def timed_stages(run: Path, data: str | None) -> tuple[float, float, pd.DataFrame]:
    """Seconds of the embed + map stages on a scratch copy of `run`, its baseline accuracy and map."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "run"
        shutil.copytree(run, copy)
        done = subprocess.run(
            [sys.executable, "-c", STEP, str(copy), data or ""], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"the embed and map stages failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        return result["seconds"], result["baseline"], pd.read_parquet(copy / MAP)


def placement_check(run_path: Path, rows: int) -> dict[str, float]:
    """Place `rows` stored test texts anew; report own-point hits and distances against map spacing."""
    from agnews.analyses.map.placement import check_placement
    from agnews.rundir.run import Run

    run = Run.load(run_path)
    rows = min(rows, len(run.predictions))
    sample = np.random.default_rng(0).choice(len(run.predictions), size=rows, replace=False)
    check = check_placement(run, sample)
    return {
        "own_row_first": float(check.own_row_first.mean()),
        "median_placement_distance": float(np.median(check.distances)),
        "median_10th_neighbour_distance": float(np.median(check.tenth_neighbour)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--placements", type=int, default=200)
    parser.add_argument("--data", default=None, help="AG News folder (default: the run's own data setting).")
    args = parser.parse_args()

    seconds, maps = [], []
    for _ in range(args.repeats):
        took, baseline, coords = timed_stages(args.run, args.data)
        seconds.append(took)
        maps.append(coords)
    identical = all(m.equals(maps[0]) for m in maps[1:])
    placement = placement_check(args.run, args.placements)

    print(f"\nmap step of {args.run} (a fresh process each run)")
    print(f"{'measure':44} value")
    print(f"{'embed + map stages, median of runs (s)':44} {statistics.median(seconds):.1f}")
    print(f"{'runs (s)':44} {', '.join(f'{s:.1f}' for s in seconds)}")
    print(f"{'frozen baseline test accuracy':44} {baseline:.4f}")
    print(f"{'coordinates identical across runs':44} {identical}")
    for key, value in placement.items():
        print(f"{key:44} {value:.4f}")


if __name__ == "__main__":
    main()
