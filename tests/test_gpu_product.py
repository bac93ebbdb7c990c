"""The product-path GPU benchmark's CPU dry run, and the training recipe's speed knobs.

`bench/gpu_product.py` times `fine_tune` itself (stock Trainer recipe against the fast one) on a GPU;
its dry run here keeps it working between the rare GPU sessions. Structure is checked, not speed:
timings on this shared machine mean nothing. The knob tests check that each `TrainConfig` setting
reaches the Trainer's own field, and that the `quick` preset's Trainer is what it was before them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset
from helpers import ROOT, load_script

from agnews.cli import _train_parser
from agnews.config import ConfigError, TrainConfig, preset_config
from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.dataset.ag_news import read_ag_news_csv as read_csv_split
from agnews.models import bundled_minilm_path, load_classifier, load_tokenizer
from agnews.rundir.catalog import CATALOG
from agnews.training import train
from agnews.training.train import build_trainer

SCRIPT = ROOT / "bench" / "gpu_product.py"


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """One dry run, as on the device machine: through the wrapper, JSON in $OUT."""
    out = tmp_path_factory.mktemp("out")
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_product.sh"), "--dry-run"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads((out / "gpu_product.json").read_text())


@pytest.mark.slow
def test_dry_run_times_the_stock_and_fast_recipes_through_fine_tune(dry_run: tuple[str, dict]) -> None:
    stdout, result = dry_run
    assert "steady samples/s" in stdout and "120k-row epoch" in stdout and "target:" in stdout
    assert result["dry_run"] is True
    stock, fast = result["rows"]
    assert stock["recipe"].startswith("stock") and stock["ratio"] == pytest.approx(1.0)
    assert {k: v for k, v in stock["settings"].items() if k != "batch_size"} == {
        "eval_batch_size": 64,
        "group_by_length": False,
        "mixed_precision": "no",
        "tf32": False,
        "pad_to_multiple_of": None,
        "dataloader_workers": 0,
        "torch_compile": False,
    }
    assert fast["settings"]["group_by_length"] and fast["settings"]["pad_to_multiple_of"] == 8
    assert fast["settings"]["mixed_precision"] == "bf16" and fast["settings"]["dataloader_workers"] == 2
    assert fast["settings"]["batch_size"] > stock["settings"]["batch_size"]
    for row in (stock, fast):
        assert row["steady_samples_per_s"] > 0 and row["trainer_samples_per_s"] > 0, row
        assert row["timed_steps"] > 0 and row["timed_samples"] > 0
        assert row["projected_epoch_s"] == pytest.approx(120_000 / row["steady_samples_per_s"])
        assert 0 <= row["validation_accuracy"] <= 1
    assert fast["precision"] == "bf16" and stock["precision"] == "no"
    data = result["data"]
    assert data["train_rows"] == 256 and 45 < data["mean_tokens"] < 60
    assert result["target"]["threshold"] == 8.0 and result["target"]["ratio"] == fast["ratio"]


def test_synthetic_rows_are_original_format_and_tokenise_to_their_lengths(tmp_path: Path) -> None:
    bench = load_script(SCRIPT, "gpu_product")
    tokenizer = load_tokenizer(str(bundled_minilm_path()))
    lengths = bench.write_csv(
        tmp_path / "train.csv", 64, bench.whole_words(tokenizer), np.random.default_rng(0)
    )
    raw = read_csv_split(tmp_path / "train.csv")  # the product's reader: class 1-4, title, description
    assert len(raw.texts) == 64 and set(raw.labels) <= {0, 1, 2, 3}
    tokens = [len(ids) for ids in tokenizer(raw.texts, truncation=True, max_length=128)["input_ids"]]
    assert tokens == lengths.tolist()


def test_speed_knobs_are_checked_and_the_distilbert_preset_pads_to_8(monkeypatch: pytest.MonkeyPatch) -> None:
    # HfArgumentParser rewrites TrainConfig's `X | None` field types to `X` in place, which makes a
    # later pydantic read of a run in this process reject None; put them back after this test.
    for f in dataclasses.fields(TrainConfig):
        monkeypatch.setattr(f, "type", f.type)
    with pytest.raises(ConfigError, match="pad_to_multiple_of must be"):
        TrainConfig(pad_to_multiple_of=0)
    with pytest.raises(ConfigError, match="dataloader_workers must be"):
        TrainConfig(dataloader_workers=-1)
    with pytest.raises(ConfigError, match="torch_compile must be"):
        TrainConfig.from_dict({"torch_compile": "yes"})
    quick = preset_config("quick")
    assert (quick.pad_to_multiple_of, quick.dataloader_workers, quick.torch_compile) == (None, 0, False)
    assert preset_config("distilbert").pad_to_multiple_of == 8
    config, _ = _train_parser("quick", CATALOG).parse_args_into_dataclasses(
        [
            "--out",
            "x",
            "--pad-to-multiple-of",
            "8",
            "--dataloader-workers",
            "4",
            "--torch-compile",
            "--no-tf32",
        ]
    )
    assert (config.pad_to_multiple_of, config.dataloader_workers, config.torch_compile) == (8, 4, True)
    assert config.tf32 is False


def _tiny_dataset(tokenizer) -> Dataset:
    encoded = tokenizer(["a short row", "a somewhat longer row of text"], truncation=True)
    return Dataset.from_dict({**encoded, "label": [0, 1], "length": [len(i) for i in encoded["input_ids"]]})


def test_knobs_reach_the_trainer_and_quick_keeps_its_recipe(tiny_distilbert: Path, tmp_path: Path) -> None:
    tokenizer = load_tokenizer(str(tiny_distilbert))
    model = load_classifier(str(tiny_distilbert), classes=AG_NEWS_CLASSES)
    data = _tiny_dataset(tokenizer)
    fast = TrainConfig(
        base_model=str(tiny_distilbert), pad_to_multiple_of=8, dataloader_workers=2, mixed_precision="no"
    )
    trainer = build_trainer(fast, model, tokenizer, data, None, output_dir=tmp_path, progress=False)
    assert trainer.data_collator.pad_to_multiple_of == 8
    assert trainer.args.dataloader_num_workers == 2 and trainer.args.dataloader_persistent_workers
    batch = trainer.data_collator([{k: data[0][k] for k in ("input_ids", "attention_mask")}])
    assert batch["input_ids"].shape[1] % 8 == 0

    quick = preset_config("quick", base_model=str(tiny_distilbert), mixed_precision="no")
    trainer = build_trainer(quick, model, tokenizer, data, None, output_dir=tmp_path, progress=False)
    assert trainer.data_collator.pad_to_multiple_of is None
    assert trainer.args.dataloader_num_workers == 0 and not trainer.args.dataloader_persistent_workers
    assert not trainer.args.torch_compile and trainer.args.tf32 is None  # CPU: TF32 never set
    assert trainer.args.logging_nan_inf_filter  # only CUDA drops the per-step host sync


def test_tf32_is_asked_for_only_on_cuda_cards_that_have_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers.utils

    assert "tf32" not in train._precision_flags("no", tf32=True)  # this machine has no CUDA
    monkeypatch.setattr(train.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(train.torch.accelerator, "is_available", lambda: True)
    monkeypatch.setattr(transformers.utils, "is_torch_tf32_available", lambda: True)
    assert train._precision_flags("bf16", tf32=True) == {"bf16": True, "fp16": False, "tf32": True}
    assert "tf32" not in train._precision_flags("no", tf32=False)
    monkeypatch.setattr(transformers.utils, "is_torch_tf32_available", lambda: False)
    assert "tf32" not in train._precision_flags("bf16", tf32=True)  # pre-Ampere: the Trainer would raise
