"""Start-up of the app against an earlier commit's, on the same run and machine, taking turns.

    .venv/bin/python bench/startup_paired.py runs/quick --base d53ef24 [--rounds 3]

Each round starts one fresh Python process per checkout (this one, and `--base` checked out into a
temporary git worktree) that imports the app's modules, then times what start-up does after the
imports: `Run.load` (every part the run has), `Predictor.from_run` and `build_app`. The imports are
left out of the clock, being the same libraries on both sides, and the largest source of noise. The
table gives each side's median over `--rounds` and the difference.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from machine import cpu_name

ROOT = Path(__file__).resolve().parents[1]
# Run from the checkout's root, so that `import agnews` finds that checkout's package first.
PROBE = """
import json, sys, time
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.ui import build_app
began = time.perf_counter()
run = Run.load(sys.argv[1])
build_app(run, Predictor.from_run(run, threads=1))
print(json.dumps({"seconds": time.perf_counter() - began}))
"""


def start_seconds(checkout: Path, run: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(run.resolve())],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
        env={"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--base", required=True, help="The earlier commit to compare with.")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agnews-base-") as folder:
        base = Path(folder) / "checkout"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=ROOT, check=True)
        try:
            times: dict[str, list[float]] = {args.base: [], "this checkout": []}
            for _ in range(args.rounds):
                times[args.base].append(start_seconds(base, args.run))
                times["this checkout"].append(start_seconds(ROOT, args.run))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"CPU: {cpu_name()}; run {args.run.name}; median of {args.rounds}, turns taken")
    print(f"{'Run.load + Predictor + build_app':34} {'seconds':>8}")
    for name, value in medians.items():
        print(f"{name:34} {value:8.3f}")
    print(f"{'difference':34} {medians['this checkout'] - medians[args.base]:+8.3f}")


if __name__ == "__main__":
    main()
