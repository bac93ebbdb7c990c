"""Training throughput: the project's recipe against the stock recipe, on the same rows, in one run.

Stock recipe: Trainer, fp32, batch 16, random order, per-batch dynamic padding. Project recipe: the
`quick` preset (batch 32, length-grouped batches, bf16/fp16 on CUDA). Same epochs, learning rate
and rows. The two alternate `--repeats` times and the median samples/s of each is reported, because
this machine's absolute speed drifts; the ratio is the number to read. Runs unchanged on CUDA.

    .venv/bin/python bench/train_throughput.py --data ../shared/data/ag_news --rows 1024
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from agnews.data import load_ag_news
from agnews.models import load_classifier, load_tokenizer, resolve_base_model
from agnews.train import TrainConfig, build_trainer, freeze_bottom, preset_config, tokenize_splits

RECIPES = {
    "stock (fp32, batch 16, random)": {"batch_size": 16, "group_by_length": False, "mixed_precision": "no"},
    "agnews quick preset": {},
    "quick + freeze embeddings, 2 layers": {"freeze_layers": 2},
    "quick + freeze embeddings, 3 layers": {"freeze_layers": 3},
}


def measure(config: TrainConfig, base: str, tokenized: dict, tokenizer) -> float:
    """Training samples per second for one epoch of `config` (no evaluation, no checkpoints)."""
    torch.manual_seed(config.seed)
    model = load_classifier(base)
    freeze_bottom(model, config.freeze_layers)
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
    args = parser.parse_args()

    base = resolve_base_model(args.base_model)
    tokenizer = load_tokenizer(base)
    configs = {
        name: preset_config("quick", base_model=args.base_model, data=args.data, epochs=1.0, **overrides)
        for name, overrides in RECIPES.items()
    }
    some = next(iter(configs.values()))
    data = load_ag_news(args.data, max_train_samples=args.rows, max_validation_samples=8, max_test_samples=8)
    tokenized = tokenize_splits(data, tokenizer, some.max_length)

    samples: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.repeats):
        for name, config in configs.items():
            samples[name].append(measure(config, base, tokenized, tokenizer))

    device = (
        torch.cuda.get_device_name()
        if torch.cuda.is_available()
        else f"CPU, {torch.get_num_threads()} threads"
    )
    baseline = statistics.median(samples[next(iter(configs))])
    print(f"\ntraining throughput, {args.base_model}, {len(tokenized['train'])} rows, {device}")
    print(f"{'recipe':34} {'samples/s (median)':>18} {'runs':>24} {'ratio':>6}")
    for name, values in samples.items():
        median = statistics.median(values)
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:34} {median:18.1f} {runs:>24} {median / baseline:6.2f}x")


if __name__ == "__main__":
    main()
