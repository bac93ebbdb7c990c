"""Run directories: validation of every part, atomic creation, newest-complete-run lookup."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agnews.run import Run, RunError, building_run, latest_run


@pytest.fixture
def run_copy(quick_run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(quick_run, target)
    return target


def test_quick_run_loads_with_all_parts(quick_run: Path) -> None:
    run = Run.load(quick_run)
    assert run.warnings == []
    assert run.embeddings is not None and set(run.embeddings) == {"base_cls", "finetuned_cls"}
    assert run.map_coords is not None and list(run.map_coords["row_id"]) == list(run.predictions["row_id"])
    for kind in ("base", "finetuned"):
        quality = run.metrics["maps"][kind]
        assert {"silhouette_true", "knn_agreement_true", "knn_agreement_pred"} <= set(quality)
    assert 0 < run.metrics["frozen_baseline"]["accuracy"] <= 1


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "config.json").unlink(), r"config.json: missing"),
        (lambda p: (p / "metrics.json").write_text("{not json"), r"metrics.json: not valid JSON"),
        (
            lambda p: (p / "predictions.parquet").write_bytes(b"PAR1garbage"),
            r"predictions.parquet: unreadable",
        ),
        (lambda p: (p / "predictions.parquet").unlink(), r"predictions.parquet: missing"),
        (lambda p: (p / "model" / "model.safetensors").unlink(), r"model.safetensors: missing"),
        (lambda p: (p / "model" / "model.safetensors").write_bytes(b"\x10\x00"), r"corrupted safetensors"),
        (lambda p: shutil.rmtree(p / "model"), r"model: missing"),
    ],
)
def test_damaged_run_names_the_broken_file(run_copy: Path, damage, message: str) -> None:
    damage(run_copy)
    with pytest.raises(RunError, match=message):
        Run.load(run_copy)


def test_damaged_optional_parts_are_reported_not_fatal(run_copy: Path) -> None:
    (run_copy / "map.parquet").write_bytes(b"broken")
    (run_copy / "embeddings.safetensors").write_bytes(b"broken")
    run = Run.load(run_copy)
    assert run.map_coords is None and run.embeddings is None
    assert len(run.warnings) == 2


def test_failed_build_leaves_nothing_and_latest_run_skips_incomplete(run_copy: Path, tmp_path: Path) -> None:
    root = tmp_path / "runs"
    with pytest.raises(RuntimeError), building_run(root / "broken") as tmp:
        (tmp / "config.json").write_text("{}")
        raise RuntimeError("killed")
    assert list(root.iterdir()) == []
    (root / "incomplete").mkdir()
    assert latest_run(root) is None
    shutil.move(run_copy, root / "good")
    found = latest_run(root)
    assert found is not None and found.path == root / "good"


def test_missing_run_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="run directory not found"):
        Run.load(tmp_path / "nope")
