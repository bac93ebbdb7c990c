"""The GPU benchmark's CPU dry run, so `bench/gpu_train.py` cannot rot between the rare GPU sessions.

It runs in a subprocess exactly as a person would (the script must stay importable with only torch,
transformers and numpy, so it is not imported as part of agnews), and the table and JSON are checked
for structure, not speed: timings on this shared machine mean nothing and timed tests are banned.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPT = BENCH / "gpu_train.py"
ALLOWED_IMPORTS = {"numpy", "torch", "transformers", "__future__"}


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """One dry run shared by the checks below; the JSON lands in $OUT as on the device machine."""
    out = tmp_path_factory.mktemp("out")
    env = {**os.environ, "OUT": str(out), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    env["OMP_NUM_THREADS"] = "1"  # tiny models; spare the shared cores
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, json.loads((out / "gpu_bench.json").read_text())


@pytest.mark.slow
def test_table_lists_every_architecture_task_and_recipe(dry_run: tuple[str, dict]) -> None:
    stdout, _ = dry_run
    assert "architecture" in stdout and "samples/s" in stdout and "ratio" in stdout
    for arch in ("distilbert", "minilm"):
        for recipe in ("stock (fp32, b16, random)", "buckets", "stock (fp32, b64, file order)", "sorted"):
            assert any(arch in line and recipe in line for line in stdout.splitlines()), (arch, recipe)
    assert "target: distilbert training" in stdout


@pytest.mark.slow
def test_json_rows_have_numbers_and_ratios_against_stock(dry_run: tuple[str, dict]) -> None:
    _, result = dry_run
    assert result["dry_run"] is True
    assert {"torch", "transformers", "device"} <= result["environment"].keys()
    rows = result["rows"]
    assert {(r["architecture"], r["task"]) for r in rows} == {
        (a, t) for a in ("distilbert", "minilm") for t in ("train", "infer")
    }
    for row in rows:
        assert row["samples_per_s"] > 0 and row["seconds"] > 0 and row["samples"] > 0, row
        assert 0 < row["pad_efficiency"] <= 1
        if row["recipe"].startswith("stock"):
            assert row["ratio"] == pytest.approx(1.0)
        else:
            assert row["settings"]["order"] in {"buckets", "sorted"}
            assert row["settings"]["amp"] and row["settings"]["on_device"]
    train = [r for r in rows if r["task"] == "train"]
    assert all(np.isfinite(r["mean_loss"]) for r in train)
    fast_train = [r for r in train if r["settings"]["order"] == "buckets"]
    stock_train = [r for r in train if r["settings"]["order"] == "random"]
    # Same rows, same epochs' worth of samples: buckets only change the padding, and reduce it.
    for fast, stock in zip(fast_train, stock_train, strict=True):
        assert fast["pad_efficiency"] > stock["pad_efficiency"]
    assert result["target"]["threshold"] == 8.0 and result["target"]["ratio"] > 0


def test_script_imports_only_what_the_gpu_machine_has() -> None:
    tree = ast.parse(SCRIPT.read_text())
    modules = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    third_party = {m for m in modules if m not in sys.stdlib_module_names}
    assert third_party <= ALLOWED_IMPORTS, third_party - ALLOWED_IMPORTS


def test_bucket_batches_shuffle_buckets_not_rows() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import gpu_train
    finally:
        sys.path.remove(str(BENCH))
    rng = np.random.default_rng(0)
    lengths = gpu_train.synthetic_lengths(4096, rng)
    assert 48 < lengths.mean() < 57 and lengths.max() <= gpu_train.MAX_LENGTH
    first = gpu_train.bucket_batches(lengths, 256, rng)
    second = gpu_train.bucket_batches(lengths, 256, rng)
    for batches in (first, second):
        rows = np.concatenate(batches)
        assert sorted(rows.tolist()) == list(range(4096))  # every row once per epoch
        spans = [int(np.ptp(lengths[b])) for b in batches]
        assert np.median(spans) <= 4  # each batch holds rows of nearly equal length (random: ~60)
        assert not np.all(np.diff([lengths[b].mean() for b in batches]) >= 0)  # batch order shuffled
    assert any(not np.array_equal(a, b) for a, b in zip(first, second, strict=True))  # reshuffled per epoch
    random = gpu_train.random_batches(4096, 256, rng)
    assert sorted(np.concatenate(random).tolist()) == list(range(4096))
    assert np.median([np.ptp(lengths[b]) for b in random]) > 20
