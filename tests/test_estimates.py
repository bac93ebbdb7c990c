"""The disk and time a training will take, as a page estimates them before starting one without
importing training code (`agnews.rundir.estimates`); checked against a real run's size in
tests/test_train_from_run.py."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors import safe_open

from agnews.rundir.estimates import (
    CHECKPOINT_COPIES,
    CHECKPOINTS,
    PARTS_BYTES,
    ROW_BYTES,
    RUN_COPIES,
    EstimateError,
    disk_estimate_bytes,
    training_seconds_estimate,
    weights_bytes,
)


def _parameters(folder: Path) -> int:
    total = 0
    for path in folder.glob("*.safetensors"):
        with safe_open(str(path), "np") as weights:
            total += sum(weights.get_tensor(name).size for name in weights.keys())  # noqa: SIM118 (a safetensors file, not a dict)
    return total


def test_the_weights_are_sized_from_the_headers_in_float32(
    tiny_distilbert: Path, synthetic_run: Path
) -> None:
    assert weights_bytes(tiny_distilbert) == 4 * _parameters(tiny_distilbert)
    # A run folder is sized by its model: the base's weights and the classification head.
    assert weights_bytes(synthetic_run) == 4 * _parameters(synthetic_run / "model")
    assert (
        weights_bytes(tiny_distilbert) < weights_bytes(synthetic_run) < 1.1 * weights_bytes(tiny_distilbert)
    )


def test_the_bound_counts_the_run_the_checkpoints_and_the_rows() -> None:
    copies = RUN_COPIES + CHECKPOINTS * CHECKPOINT_COPIES
    assert disk_estimate_bytes(10**6) == copies * 10**6 + PARTS_BYTES
    assert disk_estimate_bytes(10**6, rows=1000) == disk_estimate_bytes(10**6) + 1000 * ROW_BYTES
    with pytest.raises(ValueError, match="cannot be negative"):
        disk_estimate_bytes(10**6, rows=-1)
    assert training_seconds_estimate(4500, 2.0, 150.0) == 60.0
    with pytest.raises(ValueError, match="must be positive"):
        training_seconds_estimate(4500, 2.0, 0.0)


def _header_file(folder: Path, prefix: bytes) -> Path:
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(prefix)
    return folder


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"\x01\x02", "shorter than its header's length"),
        (struct.pack("<Q", 2**62), "a header of"),  # never allocated, never read
        (struct.pack("<Q", 5) + b"\xff{oops", "its header is not JSON"),
        (struct.pack("<Q", 2) + b"[]", "not a JSON object"),
        (struct.pack("<Q", 30) + json.dumps({"w": {"shape": [-1, 3]}}).encode().ljust(30), "no valid shape"),
    ],
    ids=["truncated", "huge-header", "not-json", "not-object", "bad-shape"],
)
def test_a_damaged_or_hostile_weights_file_is_refused_by_name(
    tmp_path: Path, content: bytes, said: str
) -> None:
    folder = _header_file(tmp_path / "model", content)
    with pytest.raises(EstimateError, match=re.escape(said)) as refused:
        weights_bytes(folder)
    assert str(refused.value).startswith("model.safetensors: ")


def test_a_folder_without_safetensors_weights_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pytorch_model.bin").write_bytes(b"never opened")  # agnews loads no pickles
    with pytest.raises(EstimateError, match="no safetensors weights"):
        weights_bytes(tmp_path)


def test_estimating_imports_no_training_code() -> None:
    code = (
        "import sys, agnews.rundir.estimates; "
        "print(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
