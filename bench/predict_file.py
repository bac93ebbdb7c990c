"""`agnews predict` figures: peak memory against the file's size, speed against the app's batch path,
and how often the faster backends disagree with fp32.

    .venv/bin/python bench/predict_file.py --run runs/quick --data ../shared/data/ag_news [--rows 10000]
        [--memory-rows 10000 100000 1000000]

1. Peak memory (the process's max resident set) of `agnews predict` on synthetic CSV files of
   `--memory-rows` rows, each in a fresh process, with a tiny random BERT (2 layers, 32 wide, the
   bundled MiniLM's vocabulary) trained for a few steps into a throwaway run: the model's own memory
   is then negligible, so what grows with the file would show.
2. On `--rows` test texts of `--data` (repeated if fewer) with the run's real model, one process on
   this machine's cores: rows/s of `predict_file` per backend and of the app's batch path
   (`Predictor.probabilities_many`, what the page's CSV upload calls; model loaded before the clock,
   where `predict_file`'s rates include loading it), and the share of rows whose class differs from
   fp32's, with the largest probability difference.
Not a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from machine import cpu_name

from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.rundir.run import Run
from agnews.serving.csv_batch import BatchError
from agnews.serving.predict_file import BACKENDS, predict_file
from agnews.serving.predictor import Predictor

MEASURE = """
import resource, sys
from pathlib import Path
from agnews.rundir.run import Run
from agnews.serving.predict_file import predict_file
predict_file(Run.load(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
WORDS = ["oil", "prices", "market", "team", "season", "striker", "chip", "launch", "rebels", "vote", "bank"]


def tiny_run(folder: Path, data: Path) -> Path:
    """A run of a tiny random BERT on a few rows: a model whose memory does not hide the file's."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from agnews.config import preset_config
    from agnews.models import resolve_base_model
    from agnews.training.train import train_run

    base = folder / "tiny-bert"
    tokenizer = AutoTokenizer.from_pretrained(str(resolve_base_model("minilm")))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(LABELS),
    )
    BertForSequenceClassification(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    settings = preset_config(
        "quick", data=str(data), base_model=str(base), epochs=1.0, max_train_samples=64,
        max_validation_samples=32, max_test_samples=32,
    )  # fmt: skip
    return train_run(settings, folder / "tiny-run", progress=False, stages=())


def synthetic_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(0)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for start in range(0, rows, 10_000):
            picks = rng.integers(0, len(WORDS), size=(min(10_000, rows - start), 12))
            writer.writerows([i, " ".join(WORDS[j] for j in pick)] for i, pick in enumerate(picks, start))
    return path


def memory_table(run: Path, sizes: list[int], folder: Path) -> None:
    print(f"{'rows in the file':>18} {'file MB':>8} {'peak memory MB':>15} {'seconds':>8}")
    for rows in sizes:
        source = synthetic_csv(folder / f"rows-{rows}.csv", rows)
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, str(run), str(source), str(folder / f"out-{rows}.csv")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        peak_mb = int(done.stdout.strip().splitlines()[-1]) / 1024
        seconds = time.perf_counter() - began
        print(f"{rows:>18,} {source.stat().st_size / 1e6:>8.1f} {peak_mb:>15.0f} {seconds:>8.1f}")


def speed_table(run: Run, texts: list[str], folder: Path) -> None:
    source = folder / "real.csv"
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    predictor = Predictor(run.model_path, max_length=run.config.train.max_length)
    began = time.perf_counter()
    predictor.probabilities_many(texts)
    app_rate = len(texts) / (time.perf_counter() - began)
    print(f"{'path':<34} {'rows/s':>8} {'class differs from fp32':>24} {'max |dp|':>9}")
    app_path = "app's batch path (bf16 where native)"
    print(f"{app_path:<34} {app_rate:>8.0f}")
    reference = None
    for backend in BACKENDS:
        out = folder / f"{backend}.csv"
        began = time.perf_counter()
        try:
            predict_file(run, source, out, backend=backend, progress=False)
        except BatchError as exc:
            print(f"{'predict --backend ' + backend:<34} {'—':>8}  not available: {exc}")
            continue
        rate = len(texts) / (time.perf_counter() - began)
        probs = pd.read_csv(out)[[f"p_{name}" for name in LABELS]].to_numpy()
        reference = probs if reference is None else reference
        differs = float((probs.argmax(1) != reference.argmax(1)).mean())
        gap = float(np.abs(probs - reference).max())
        print(f"{'predict --backend ' + backend:<34} {rate:>8.0f} {differs:>24.2%} {gap:>9.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=10_000, help="0: the memory table only.")
    parser.add_argument("--memory-rows", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    print(f"CPU: {cpu_name()}")
    with tempfile.TemporaryDirectory(prefix="agnews-predict-bench-") as name:
        folder = Path(name)
        if args.memory_rows:
            print(
                "\nPeak memory of `agnews predict` (tiny random BERT, default chunks), one process per file"
            )
            memory_table(tiny_run(folder, args.data), args.memory_rows, folder)
        if not args.rows:
            return
        test = pd.read_csv(args.data / "test.csv", header=None, dtype=str, keep_default_na=False)
        texts = (test[1] + " " + test[2]).tolist()
        texts = (texts * (args.rows // len(texts) + 1))[: args.rows]
        print(f"\n{args.rows:,} test texts, the run's model ({args.run.name}), one process")
        speed_table(Run.load(args.run), texts, folder)


if __name__ == "__main__":
    main()
