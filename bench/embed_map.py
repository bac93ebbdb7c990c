"""The map step of a finished run, measured: time, determinism, and placement faithfulness.

For RUN (a full quick run with embeddings), in `--repeats` fresh processes each: base-model [CLS]
for test + train rows, the frozen-feature baseline, and both UMAP maps (numba compilation included;
its cache lives in NUMBA_CACHE_DIR). Prints the median time, whether the repeats' coordinates are
identical, and the placement check over `--placements` test rows.

    .venv/bin/python bench/embed_map.py runs/quick --data ../shared/data/ag_news
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

STEP = """
import json, sys, time
from pathlib import Path
from safetensors.numpy import load_file
from agnews.embed import embed_run_dir
from agnews.run import Run
from agnews.train import TrainConfig, load_config_data
run, scratch = Run.load(sys.argv[1]), Path(sys.argv[2])
config = TrainConfig.from_dict(run.config["train"])
data = load_config_data(config)
run.predictions.to_parquet(scratch / "predictions.parquet")
finetuned = load_file(run.path / "embeddings.safetensors")["finetuned_cls"].astype("float32")
started = time.perf_counter()
metrics = {}
embed_run_dir(scratch, data, finetuned_cls=finetuned, config=config, metrics=metrics, progress=False)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "baseline": metrics["frozen_baseline"]["accuracy"]}))
"""


def placement_check(run_path: Path, rows: int) -> dict[str, float]:
    """Place `rows` stored test texts anew; report own-point hits and distances against map spacing."""
    from agnews.embed import check_placement
    from agnews.run import Run

    run = Run.load(run_path)
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
    args = parser.parse_args()

    seconds, maps = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as scratch:
            out = subprocess.run(
                [sys.executable, "-c", STEP, str(args.run), scratch],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            seconds.append(result["seconds"])
            maps.append(pd.read_parquet(Path(scratch) / "map.parquet"))
    identical = all(m.equals(maps[0]) for m in maps[1:])
    placement = placement_check(args.run, args.placements)

    print(f"\nmap step of {args.run} (a fresh process each run)")
    print(f"{'measure':44} value")
    print(f"{'embed + baseline + 2 maps, median of runs (s)':44} {statistics.median(seconds):.1f}")
    print(f"{'runs (s)':44} {', '.join(f'{s:.1f}' for s in seconds)}")
    print(f"{'frozen baseline test accuracy':44} {result['baseline']:.4f}")
    print(f"{'coordinates identical across runs':44} {identical}")
    for key, value in placement.items():
        print(f"{key:44} {value:.4f}")


if __name__ == "__main__":
    main()
