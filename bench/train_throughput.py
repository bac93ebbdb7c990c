"""Training throughput: the project's recipe against the stock recipe, on the same rows, in one run.

Stock recipe: Trainer, fp32, batch 16, random order, per-batch dynamic padding. Project recipe: the
`quick` preset (batch 32, length-grouped batches, automatic precision: bf16 with eager attention on
CPUs with native bf16, bf16/fp16 on CUDA), plus variants that show what each knob is worth. Same
epochs, learning rate and rows. The recipes alternate `--repeats` times and the median samples/s of
each is reported, because this machine's absolute speed drifts; the ratio is the number to read.
On a CPU without native bf16 (AVX512-BF16 or AMX) a row that trains in bf16 is printed as not
applying instead of run: emulated bf16 runs for many minutes, and `--mixed-precision auto` would not
pick it there. Runs unchanged on CUDA. Measured tables: docs/performance.md.

    .venv/bin/python bench/train_throughput.py --data ../shared/data/ag_news --rows 1024
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from agnews.config import TrainConfig, preset_config
from agnews.models import cpu_has_native_bf16, load_tokenizer, resolve_base_model
from agnews.training.data import load_ag_news
from agnews.training.train import build_trainer, prepare_model, resolve_precision, tokenize_splits

# name -> (overrides of the quick preset, attention kernels; None: what `agnews train` picks). The
# rows add one knob at a time, so each ratio step shows what that knob is worth on this machine.
RECIPES = {
    "stock (fp32, batch 16, random)": (
        {"batch_size": 16, "group_by_length": False, "mixed_precision": "no", "dropout": None},
        "sdpa",
    ),
    "batch 32, length-grouped, fp32": ({"mixed_precision": "no", "dropout": None}, "sdpa"),
    "+ no dropout": ({"mixed_precision": "no"}, "sdpa"),
    "+ bf16 autocast (SDPA attention)": ({"mixed_precision": "bf16"}, "sdpa"),
    # As `agnews train --preset quick` resolves it here: bf16 with eager attention where the CPU has
    # native bf16; fp32 with the embeddings and 3 lowest layers frozen where it has not.
    "quick preset (as resolved on this CPU)": ({"freeze_layers": None}, None),
    "quick + freeze embeddings": ({"freeze_embeddings": True}, None),
    # fp32 rows: what a CPU without native bf16 (AVX2 only) can use.
    "fp32 + no dropout + freeze embeddings": ({"mixed_precision": "no", "freeze_embeddings": True}, "sdpa"),
    "fp32 + no dropout + freeze 2 layers": ({"mixed_precision": "no", "freeze_layers": 2}, "sdpa"),
    "fp32 + no dropout + freeze 3 layers": ({"mixed_precision": "no", "freeze_layers": 3}, "sdpa"),
    "fp32 + no dropout + freeze emb + batch 64": (
        {"mixed_precision": "no", "freeze_embeddings": True, "batch_size": 64},
        "sdpa",
    ),
    "fp32 + no dropout + freeze emb + compile": (
        {"mixed_precision": "no", "freeze_embeddings": True, "torch_compile": True},
        "sdpa",
    ),
}


NO_NATIVE_BF16 = "n/a (no native bf16 on this CPU)"


def needs_native_bf16(config: TrainConfig) -> bool:
    """Whether `config` would train in bf16 on a CPU that only emulates it (as on AVX2-only CPUs)."""
    on_cpu = not torch.cuda.is_available()
    return on_cpu and resolve_precision(config.mixed_precision) == "bf16" and not cpu_has_native_bf16()


def measure(config: TrainConfig, attention: str | None, base: str, tokenized: dict, tokenizer) -> float:
    """Training samples per second for one epoch of `config` (no evaluation, no checkpoints)."""
    torch.manual_seed(config.seed)
    model, _ = prepare_model(config, base, attention=attention)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = build_trainer(
            config, model, tokenizer, tokenized["train"], None, output_dir=Path(scratch), progress=False
        )
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    return len(tokenized["train"]) * config.epochs / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="Local AG News folder (default: the Hub).")
    parser.add_argument("--base-model", default="minilm")
    parser.add_argument("--rows", type=int, default=1024, help="Training rows per measurement.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--only",
        default="",
        help="Comma-separated substrings: measure only matching rows (the first always).",
    )
    args = parser.parse_args()

    base = resolve_base_model(args.base_model)
    tokenizer = load_tokenizer(base)
    configs = {
        # Nothing frozen unless a row says so (the quick preset itself resolves its freezing per CPU).
        name: preset_config(
            "quick",
            base_model=args.base_model,
            data=args.data,
            epochs=1.0,
            **{"freeze_layers": 0, **overrides},
        )
        for index, (name, (overrides, _)) in enumerate(RECIPES.items())
        if index == 0 or not args.only or any(part in name for part in args.only.split(","))
    }
    some = next(iter(configs.values()))
    data = load_ag_news(args.data, max_train_samples=args.rows, max_validation_samples=8, max_test_samples=8)
    tokenized = tokenize_splits(data, tokenizer, some.max_length)

    skipped = {name for name, config in configs.items() if needs_native_bf16(config)}
    samples: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.repeats):
        for name, config in configs.items():
            if name not in skipped:
                samples[name].append(measure(config, RECIPES[name][1], base, tokenized, tokenizer))

    device = (
        torch.cuda.get_device_name()
        if torch.cuda.is_available()
        else f"CPU, {torch.get_num_threads()} threads"
    )
    baseline = statistics.median(samples[next(iter(configs))])
    auto = resolve_precision("auto")
    rows = len(tokenized["train"])
    print(f"\ntraining throughput, {args.base_model}, {rows} rows, {device}, auto precision: {auto}")
    print(f"{'recipe':34} {'samples/s (median)':>18} {'runs':>24} {'ratio':>6}")
    for name, values in samples.items():
        if name in skipped:
            print(f"{name:34} {NO_NATIVE_BF16}")
            continue
        median = statistics.median(values)
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:34} {median:18.1f} {runs:>24} {median / baseline:6.2f}x")


if __name__ == "__main__":
    main()
