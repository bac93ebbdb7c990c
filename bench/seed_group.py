"""Train a seed group of one recipe, resumably: the runs a claim of "better" is made from.

    .venv/bin/python bench/seed_group.py --preset mpnet --seeds 42 1 2 --out runs/mpnet \
        -- --data ../shared/data/ag_news --stages calibration

Each seed becomes the run `OUT-sSEED` through `agnews train` (the options after `--` go to every
run). A seed whose run exists is skipped; one whose checkpoints exist (an interrupted run: the
session ended, the machine was lent to something else) is continued with `--resume`, which refuses
if the settings, the data or what they resolve to on this machine differ. So the same command, run
again after any interruption, picks up where it stopped. Compare the groups afterwards with
`agnews compare A-s42 A-s1 ... -- B-s42 B-s1 ...`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True, help="Runs are named OUT-sSEED.")
    parser.add_argument("train_options", nargs=argparse.REMAINDER, help="After --: for agnews train.")
    args = parser.parse_args()
    extra = [option for option in args.train_options if option != "--"]
    for seed in args.seeds:
        out = args.out.with_name(f"{args.out.name}-s{seed}")
        if (out / "manifest.json").is_file():
            print(f"{out}: done, skipped", flush=True)
            continue
        checkpoints = out.parent / f".{out.name}.checkpoints"
        resume = ["--resume"] if any(checkpoints.glob("checkpoint-*")) else []
        command = [
            sys.executable, "-m", "agnews", "train", "--preset", args.preset, "--seed", str(seed),
            "--out", str(out), *resume, *extra,
        ]  # fmt: skip
        print(f"{out}: {'resuming' if resume else 'training'}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        done = subprocess.run(command, check=False)
        print(f"{out}: exit {done.returncode} after {time.perf_counter() - started:.0f} s", flush=True)
        if done.returncode != 0:
            sys.exit(done.returncode)


if __name__ == "__main__":
    main()
