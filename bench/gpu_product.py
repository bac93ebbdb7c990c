"""The product's own training path on a GPU: `fine_tune` with the stock Trainer recipe against the fast one.

`bench/gpu_train.py` measures a separate training loop on synthetic tokens; this script times what
`agnews train` runs: `agnews.training.train.fine_tune` (the project's CSV reader, cleaning, split,
tokenisation, `build_trainer` and the Hugging Face Trainer with per-epoch evaluation and checkpoint)
on a randomly initialised DistilBERT-shaped model (DistilBertConfig defaults: 6 layers, 768 wide,
66M weights; weights cannot be carried to the GPU machine) and synthetic rows in AG News's original
3-column CSV format (class 1-4, title, description) whose token counts follow AG News's (log-normal fit
of the test split under the bert-base-uncased WordPiece tokenizer, mean about 52 tokens; the same
statistics as `bench/gpu_train.py`). Every word is one whole-word token of the bundled MiniLM's
uncased vocabulary, so a row of n words tokenises to n + 2 tokens, truncated at 128.

Recipes (same rows, one epoch, learning rate, schedule, weight decay, dropout and max_length):

* stock: the Trainer's defaults as a TrainConfig: fp32 without TF32, batch 32, random order, each
  batch padded to its own longest row, no data-loader workers, no compilation.
* fast: bf16, batch 256, length-grouped batches, padding to a multiple of 8, TF32, 4 persistent
  data-loader workers. `--compile` adds the same with `torch_compile`.

What the numbers include: `steady samples/s` is training steps only, timed by a callback from the
end of step `warmup` (worker start, first-shape allocation and compilation happen before it) to the
end of the last step, with `torch.cuda.synchronize()` at both ends; it excludes the epoch-end
evaluation and checkpoint. `trainer samples/s` is the Trainer's own `train_samples_per_second`: the
whole `trainer.train()` call, so it also counts warm-up, compilation, the per-epoch evaluation on the
validation rows and the checkpoint save. `fine_tune s` is the whole product call (CSV reading,
tokenisation, model loading too). The projected epoch is 120,000 rows at the steady rate.

Note: on CUDA, `build_trainer` always turns off the Trainer's loss NaN filter (a host sync per step),
for the stock recipe too; the stock row is therefore a little faster than a truly stock Trainer, and
the ratio, if anything, understated.

    bash bench/gpu_product.sh                      # on the GPU machine; JSON in $OUT/gpu_product.json
    python bench/gpu_product.py --dry-run          # tiny model, few rows, on the CPU: keeps this honest
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from transformers import DistilBertConfig, DistilBertForSequenceClassification, TrainerCallback

from agnews.config import TrainConfig
from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.models import bundled_minilm_path, load_tokenizer
from agnews.training.train import fine_tune, remove_checkpoints

NUM_LABELS = len(AG_NEWS_CLASSES)

LOG_LENGTH_MU = (
    3.918  # bench/gpu_train.py: AG News test.csv, bert-base-uncased WordPiece, [CLS]/[SEP] included
)
LOG_LENGTH_SIGMA = 0.286
MIN_LENGTH = 8
MAX_LENGTH = 128  # TrainConfig.max_length's default; longer rows are truncated by the tokenizer
TITLE_WORDS = 8  # AG News titles run about 7-10 words; the rest of a row is its description
FULL_EPOCH_ROWS = 120_000  # AG News's training split
TARGET_RATIO = 8.0
LEARNING_RATE = 5e-5  # the distilbert preset's


@dataclass(frozen=True)
class Recipe:
    name: str
    settings: dict[str, Any]
    warmup_steps: int
    optional: bool = False  # a failure is recorded instead of ending the run


@dataclass
class Sizes:
    train_rows: int
    validation_rows: int
    test_rows: int
    model: dict[str, int] = field(default_factory=dict)


def sizes(dry_run: bool, train_rows: int | None) -> Sizes:
    if dry_run:
        return Sizes(train_rows or 256, 32, 16, {"dim": 32, "n_layers": 2, "n_heads": 2, "hidden_dim": 64})
    # 36,864 = 144 batches of 256 and 1,152 of 32: no short last batch, which would be a new shape
    # for a compiled model on the clock.
    return Sizes(train_rows or 36_864, 1_024, 256, {})


def recipes(dry_run: bool, with_compile: bool, workers: int) -> list[Recipe]:
    """Stock first: it is the ratio's denominator, and it must run before any recipe turns TF32 on
    (PyTorch's switch is process-wide, and the stock recipe leaves it as PyTorch has it)."""
    stock_batch, fast_batch = (8, 32) if dry_run else (32, 256)
    warmup = 2 if dry_run else 10
    stock = Recipe(
        f"stock (fp32, b{stock_batch}, random)",
        {
            "batch_size": stock_batch,
            "eval_batch_size": 64,
            "group_by_length": False,
            "mixed_precision": "no",
            "tf32": False,
            "pad_to_multiple_of": None,
            "dataloader_workers": 0,
            "torch_compile": False,
        },
        warmup,
    )
    fast_settings = {
        "batch_size": fast_batch,
        "eval_batch_size": 256,
        "group_by_length": True,
        "mixed_precision": "bf16",
        "tf32": True,
        "pad_to_multiple_of": 8,
        "dataloader_workers": workers,
        "torch_compile": False,
    }
    fast = Recipe(f"fast (bf16, b{fast_batch}, grouped, pad8, tf32, w{workers})", fast_settings, warmup)
    if not with_compile:
        return [stock, fast]
    compiled = Recipe(
        fast.name.replace(")", ", compile)"),
        {**fast_settings, "torch_compile": True},
        warmup * 2,  # the first shapes compile, then the dynamic-shape graph
        optional=True,
    )
    return [stock, fast, compiled]


# ---------------------------------------------------------------- synthetic data and model


def whole_words(tokenizer: Any) -> np.ndarray:
    """Vocabulary entries that are plain lowercase words: each tokenises to exactly itself."""
    words = [t for t in tokenizer.get_vocab() if t.isascii() and t.isalpha() and t.islower() and len(t) >= 2]
    return np.array(sorted(words))


def synthetic_lengths(rows: int, rng: np.random.Generator) -> np.ndarray:
    """Tokens per row, [CLS] and [SEP] included, before truncation (the tokenizer caps them at 128)."""
    raw = rng.lognormal(LOG_LENGTH_MU, LOG_LENGTH_SIGMA, size=rows)
    return np.maximum(np.rint(raw), MIN_LENGTH).astype(np.int64)


def write_csv(path: Path, rows: int, words: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """AG News's original format: class (1-4), title, description; no header. Returns token counts."""
    lengths = synthetic_lengths(rows, rng)
    labels = rng.integers(1, NUM_LABELS + 1, size=rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for label, length in zip(labels, lengths, strict=True):
            row_words = words[rng.integers(0, len(words), size=int(length) - 2)]
            title = min(TITLE_WORDS, len(row_words) // 3)
            writer.writerow([int(label), " ".join(row_words[:title]), " ".join(row_words[title:])])
    return np.minimum(lengths, MAX_LENGTH)


def make_inputs(
    folder: Path, tokenizer_path: str, size: Sizes, seed: int
) -> tuple[Path, Path, dict[str, Any]]:
    """The data folder (train.csv, test.csv) and the random DistilBERT folder the recipes train."""
    tokenizer = load_tokenizer(tokenizer_path)
    rng = np.random.default_rng(seed)
    words = whole_words(tokenizer)
    data = folder / "data"
    data.mkdir(parents=True)
    # fine_tune holds out 10% for validation and caps it; the caps below keep exactly train_rows.
    source_rows = int(np.ceil(size.train_rows / 0.9)) + 8
    lengths = write_csv(data / "train.csv", source_rows, words, rng)
    write_csv(data / "test.csv", size.test_rows, words, rng)
    (data / "classes.txt").write_text("\n".join(AG_NEWS_CLASSES) + "\n")  # AG News's layout, read as such

    model_dir = folder / "distilbert-random"
    torch.manual_seed(seed)
    config = DistilBertConfig(vocab_size=len(tokenizer), num_labels=NUM_LABELS, **size.model)
    model = DistilBertForSequenceClassification(config)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    info = {
        "source": "synthetic, AG-News-like token counts (log-normal fit, bench/gpu_train.py)",
        "format": "original 3-column CSV: class 1-4, title, description",
        "train_rows": size.train_rows,
        "validation_rows": size.validation_rows,
        "vocabulary_words": len(words),
        "mean_tokens": round(float(lengths.mean()), 2),
        "share_truncated_at_128": round(float((lengths >= MAX_LENGTH).mean()), 4),
        "model": {
            "architecture": "DistilBertForSequenceClassification, randomly initialised",
            "layers": config.n_layers,
            "dim": config.dim,
            "parameters": sum(p.numel() for p in model.parameters()),
        },
    }
    return data, model_dir, info


# ---------------------------------------------------------------- measuring


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class StepClock(TrainerCallback):
    """Times training steps from the end of step `warmup` to the end of the last step.

    The Trainer calls `on_step_end` after the optimizer step and before any logging, evaluation or
    saving of that step, so the window holds training steps only.
    """

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.started: float | None = None
        self.ended: float | None = None
        self.steps = 0
        self.train_begin: float | None = None
        self.matmul_fp32 = "unknown"

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        sync()
        self.train_begin = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == self.warmup:
            sync()
            self.started = time.perf_counter()
            # What fp32 matrix products ran in (PyTorch's new API; "none" is its default, exact fp32).
            self.matmul_fp32 = getattr(torch.backends.cuda.matmul, "fp32_precision", "unknown")
        if state.global_step == state.max_steps:
            sync()
            self.ended = time.perf_counter()
            self.steps = state.global_step - self.warmup


def measure(
    recipe: Recipe, data: Path, model_dir: Path, size: Sizes, scratch: Path, seed: int
) -> dict[str, Any]:
    config = TrainConfig(
        base_model=str(model_dir),
        data=str(data),
        epochs=1.0,
        learning_rate=LEARNING_RATE,
        max_train_samples=size.train_rows,
        max_validation_samples=size.validation_rows,
        seed=seed,
        **recipe.settings,
    )
    checkpoints = scratch / f"checkpoints-{abs(hash(recipe.name))}"
    clock = StepClock(recipe.warmup_steps)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    try:
        trained = fine_tune(config, checkpoints, progress=False, callbacks=[clock])
    finally:
        remove_checkpoints(checkpoints)
    wall = time.perf_counter() - started
    assert trained is not None
    if clock.started is None or clock.ended is None or clock.steps <= 0:
        raise RuntimeError(f"{recipe.name}: fewer than {recipe.warmup_steps + 1} training steps; add rows")
    batch = config.batch_size
    window_samples = size.train_rows - recipe.warmup_steps * batch  # every batch before the window is full
    steady = window_samples / (clock.ended - clock.started)
    losses = [e["loss"] for e in trained.training.log_history if "loss" in e]
    result = {
        "steady_samples_per_s": steady,
        "trainer_samples_per_s": trained.training.samples_per_second,
        "steps": clock.steps + recipe.warmup_steps,
        "timed_steps": clock.steps,
        "timed_samples": window_samples,
        "warmup_steps": recipe.warmup_steps,
        "warmup_s": (clock.started - clock.train_begin) if clock.train_begin else None,
        "train_s": trained.training.seconds,
        "fine_tune_s": wall,
        "projected_epoch_s": FULL_EPOCH_ROWS / steady,
        "projected_epoch_s_trainer_rate": FULL_EPOCH_ROWS / trained.training.samples_per_second
        if trained.training.samples_per_second
        else None,
        "precision": trained.training.precision,
        "cuda_matmul_fp32_precision": clock.matmul_fp32,
        "device": trained.training.device,
        "first_logged_loss": losses[0] if losses else None,
        "last_logged_loss": losses[-1] if losses else None,
        "validation_accuracy": trained.training.validation.get("accuracy"),
    }
    if torch.cuda.is_available():
        result["peak_gpu_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    del trained
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return result


# ---------------------------------------------------------------- reporting


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__}
    for name in ("transformers", "accelerate", "datasets", "tokenizers", "numpy", "pyarrow", "pydantic"):
        try:
            info[name] = __import__(name).__version__
        except Exception as exc:  # reported, not fatal: the table is still worth having
            info[name] = f"unavailable ({type(exc).__name__})"
    info["transformers"] = transformers.__version__
    info["cpu_count"] = os.cpu_count()
    info["device"] = f"CPU, {torch.get_num_threads()} threads"
    if torch.cuda.is_available():
        info |= {
            "device": torch.cuda.get_device_name(),
            "capability": ".".join(map(str, torch.cuda.get_device_capability())),
            "cuda": torch.version.cuda,
        }
    return info


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def format_table(rows: list[dict[str, Any]]) -> str:
    header = (
        f"{'recipe':52} {'steady samples/s':>16} {'ratio':>7} {'trainer samples/s':>17} {'ratio':>7} "
        f"{'120k-row epoch':>14} {'fine_tune s':>11}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        if row.get("error"):
            lines.append(f"{row['recipe']:52} failed: {row['error']}")
            continue
        lines.append(
            f"{row['recipe']:52} {row['steady_samples_per_s']:16.1f} {row['ratio']:6.2f}x "
            f"{row['trainer_samples_per_s'] or 0:17.1f} {row['trainer_ratio'] or 0:6.2f}x "
            f"{format_seconds(row['projected_epoch_s']):>14} {row['fine_tune_s']:11.1f}"
        )
    return "\n".join(lines)


def target_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    fast = [r for r in rows if not r["recipe"].startswith("stock") and r.get("ratio")]
    best = max(fast, key=lambda r: r["ratio"], default=None)
    return {
        "metric": "steady training samples/s through fine_tune, best fast recipe / stock recipe",
        "threshold": TARGET_RATIO,
        "ratio": best["ratio"] if best else None,
        "recipe": best["recipe"] if best else None,
        "projected_120k_epoch_s": best["projected_epoch_s"] if best else None,
        "met": bool(best and best["ratio"] >= TARGET_RATIO),
    }


def write(result: dict[str, Any], path: Path | None) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    if args.dry_run:
        torch.set_num_threads(1)  # tiny model; OpenMP spinning on a shared CPU only slows it
    size = sizes(args.dry_run, args.train_rows)
    scratch = Path(tempfile.mkdtemp(prefix="gpu_product-"))
    result: dict[str, Any] = {"dry_run": args.dry_run, "environment": environment(), "rows": []}
    try:
        data, model_dir, info = make_inputs(scratch, args.tokenizer, size, args.seed)
        result["data"] = info
        result["shared"] = {"epochs": 1, "learning_rate": LEARNING_RATE, "max_length": MAX_LENGTH}
        baseline: dict[str, float] = {}
        for recipe in recipes(args.dry_run, args.compile, args.workers):
            row: dict[str, Any] = {"recipe": recipe.name, "settings": recipe.settings}
            elapsed = time.perf_counter() - started
            if recipe.optional and args.deadline_s and elapsed > args.deadline_s:
                row["error"] = f"skipped: {elapsed:.0f} s spent, past --deadline-s {args.deadline_s:g}"
                result["rows"].append(row)
                continue
            try:
                row |= measure(recipe, data, model_dir, size, scratch, args.seed)
            except Exception as exc:
                if not recipe.optional:
                    raise
                traceback.print_exc()
                row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
                result["rows"].append(row)
                continue
            baseline = baseline or {
                "steady": row["steady_samples_per_s"],
                "trainer": row["trainer_samples_per_s"] or 0.0,
            }
            row["ratio"] = row["steady_samples_per_s"] / baseline["steady"]
            row["trainer_ratio"] = (
                row["trainer_samples_per_s"] / baseline["trainer"] if baseline["trainer"] else None
            )
            result["rows"].append(row)
            print(
                f"  {recipe.name}: {row['steady_samples_per_s']:.1f} samples/s steady, "
                f"{row['trainer_samples_per_s']:.1f} by the Trainer, fine_tune {row['fine_tune_s']:.1f} s",
                flush=True,
            )
            result["target"] = target_summary(result["rows"])
            result["wall_s"] = time.perf_counter() - started
            write(result, args.json)  # after every recipe: a later timeout keeps what was measured
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result["target"] = target_summary(result["rows"])
    result["wall_s"] = time.perf_counter() - started
    return result


def default_tokenizer() -> str:
    try:
        return str(bundled_minilm_path())
    except Exception:
        return ""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="Tiny model and few rows on the CPU.")
    parser.add_argument(
        "--compile", action="store_true", help="Also measure the fast recipe with torch_compile."
    )
    parser.add_argument(
        "--tokenizer",
        default=default_tokenizer(),
        help="Tokenizer folder (default: the bundled MiniLM's; its uncased vocabulary is DistilBERT's).",
    )
    parser.add_argument(
        "--train-rows", type=int, default=None, help="Training rows (default 36864; dry run 256)."
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="Data-loader workers of the fast recipe (default 4; dry run 2).",
    )
    parser.add_argument(
        "--deadline-s",
        type=float,
        default=None,
        help="Skip the optional (compile) recipe when this many seconds have passed before it starts.",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="Results file (default: $OUT/gpu_product.json when $OUT is set).",
    )
    args = parser.parse_args(argv)
    if not args.tokenizer:
        parser.error("no bundled MiniLM installed; pass --tokenizer FOLDER (an uncased BERT tokenizer)")
    if args.workers is None:
        args.workers = 2 if args.dry_run else 4
    if args.json is None and os.environ.get("OUT"):
        args.json = Path(os.environ["OUT"]) / "gpu_product.json"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.dry_run and not torch.cuda.is_available():
        print("no CUDA device visible; run with --dry-run for the CPU check", file=sys.stderr)
        return 2
    result = run(args)
    env = result["environment"]
    print(
        f"\nagnews fine_tune on {env['device']} (torch {env['torch']}, transformers {env['transformers']}, "
        f"accelerate {env['accelerate']}, datasets {env['datasets']})"
    )
    print(format_table(result["rows"]))
    target = result["target"]
    ratio = f"{target['ratio']:.2f}x" if target["ratio"] else "n/a"
    verdict = "met" if target["met"] else "NOT met"
    print(
        f"\ntarget: {target['metric']} >= {TARGET_RATIO:g}x: {ratio} ({verdict}); "
        f"projected {FULL_EPOCH_ROWS:,}-row epoch: {format_seconds(target['projected_120k_epoch_s'])}"
    )
    print(f"wall time {result['wall_s']:.1f} s")
    write(result, args.json)
    if args.json:
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
