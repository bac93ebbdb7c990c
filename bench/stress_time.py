"""Time `agnews stress` on a run: the command's wall time and the stage's own, native and AVX2-only.

    .venv/bin/python bench/stress_time.py --run runs/quick [--rows 1000] [--repeats 3]

Each repeat runs `python -m agnews stress COPY --rows N` in a fresh process on a copy of the run (the
run itself is never written), once with the CPU's own instruction set and once restricted to AVX2
the way the AVX2 numbers of docs/performance.md are made (`ATEN_CPU_CAPABILITY=avx2`, oneDNN and MKL capped at
AVX2), which is what most users' CPUs run. The issue's target: 3 minutes for 1,000 rows on 2 cores.
Prints medians over the repeats; not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name

ROOT = Path(__file__).resolve().parents[1]
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
MODES = {"native": {}, "AVX2 only": AVX2_ONLY}


def time_once(run: Path, rows: str, env: dict[str, str]) -> tuple[float, float]:
    """(command wall seconds, the stage's own seconds as recorded in robustness.json)."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / run.name
        shutil.copytree(run, copy)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "agnews", "stress", str(copy), "--rows", rows],
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - started
        stage = json.loads((copy / "robustness.json").read_text())["seconds"]
    return wall, stage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--rows", default="1000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{cpu_name()}, {os.cpu_count()} cores; {args.rows} rows; medians of {args.repeats}\n")
    print("| instruction set | command wall (s) | stage (s) | runs (wall) |")
    print("|---|---:|---:|---|")
    for mode, env in MODES.items():
        times = [time_once(args.run, args.rows, env) for _ in range(args.repeats)]
        walls, stages = zip(*times, strict=True)
        runs = ", ".join(f"{w:.0f}" for w in walls)
        print(
            f"| {mode} | {statistics.median(walls):.0f} | {statistics.median(stages):.0f} | {runs} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
