"""Run directories: typed parts validated on load, atomic edits, locks, staleness, legacy runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import as_legacy

from agnews.analyses.map.schema import PART as MAP
from agnews.rundir.edit import RunEditor, create_run, edit_run, run_lock
from agnews.rundir.files import RunBusyError, RunError
from agnews.rundir.migrate import migrate_run
from agnews.rundir.run import Run, latest_run
from agnews.training.stages import analyze_run


def test_a_complete_run_loads_with_all_parts(synthetic_run: Path) -> None:
    run = Run.load(synthetic_run)
    assert run.warnings == []
    assert {"config", "model", "predictions", "metrics", "serving", "embeddings", "baseline", "map"} <= set(
        run.manifest.parts
    )
    assert run.embeddings is not None and set(run.embeddings) == {"base_cls", "finetuned_cls"}
    assert run.get(MAP) is not None and list(run.get(MAP).coordinates["row_id"]) == list(
        run.predictions["row_id"]
    )
    assert run.get(MAP) is not None and set(run.get(MAP).info.quality) == {"base", "finetuned"}
    assert run.baseline is not None and 0 < run.baseline.accuracy <= 1
    # metrics and predictions come from one evaluation; logits are kept beside the probabilities
    stored = run.predictions
    assert run.metrics.test.accuracy == pytest.approx((stored["pred"] == stored["label"]).mean())
    logits = stored[[f"logit_{i}" for i in range(4)]].to_numpy()
    assert (logits.argmax(axis=1) == stored["pred"]).all()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "config.json").unlink(), r"config.json: missing"),
        (lambda p: (p / "metrics.json").write_text("{not json"), r"metrics.json: not valid JSON"),
        (
            lambda p: (p / "metrics.json").write_text(
                json.dumps({**json.loads((p / "metrics.json").read_text()), "test": {"accuracy": 1}})
            ),
            r"metrics.json: key test.rows: Field required",
        ),
        (
            lambda p: (p / "config.json").write_text(
                json.dumps({**json.loads((p / "config.json").read_text()), "train": {"epochs": -1}})
            ),
            r"config.json: .*epochs must be positive",
        ),
        (lambda p: (p / "config.json").write_text("{}"), r"config.json: key train: Field required"),
        (
            lambda p: (p / "predictions.parquet").write_bytes(b"PAR1garbage"),
            r"predictions.parquet: unreadable",
        ),
        (lambda p: (p / "predictions.parquet").unlink(), r"predictions.parquet: missing"),
        (lambda p: (p / "model" / "model.safetensors").unlink(), r"model.safetensors: missing"),
        (lambda p: (p / "model" / "model.safetensors").write_bytes(b"\x10\x00"), r"corrupted safetensors"),
        (lambda p: shutil.rmtree(p / "model"), r"model: missing"),
        (lambda p: (p / "manifest.json").write_text('{"parts": {}}'), r"incomplete"),
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
    assert run.get(MAP) is None and run.embeddings is None
    assert not run.has("map") and not run.has("embeddings")
    assert all("agnews analyze" in w for w in run.warnings)
    assert any(w.startswith("map.parquet, map.json: ignored (") for w in run.warnings)
    assert any(w.startswith("embeddings.safetensors: ignored (") for w in run.warnings)
    assert any(
        w.startswith("baseline.json: ignored (made from embeddings, which was ignored)") for w in run.warnings
    )


def _reverse_predictions(edit: RunEditor) -> None:
    """New predictions (other row order): what re-evaluating on other rows does to a run."""
    frame = pd.read_parquet(edit.file("predictions.parquet")).iloc[::-1]
    edit.write("predictions", frame, made_from=("model", "config"))


def test_a_part_made_from_older_predictions_is_reported_stale(run_copy: Path) -> None:
    with edit_run(run_copy) as edit:
        _reverse_predictions(edit)
        edit.record("metrics", made_from=("predictions",))
    run = Run.load(run_copy)
    assert run.get(MAP) is None and run.embeddings is None and run.baseline is None
    assert any("made from an older predictions" in w for w in run.warnings)


def test_metrics_out_of_step_with_predictions_fail_loudly(run_copy: Path) -> None:
    with edit_run(run_copy) as edit:
        _reverse_predictions(edit)
    with pytest.raises(RunError, match="out of step"):
        Run.load(run_copy)


def test_a_failed_edit_changes_nothing(run_copy: Path) -> None:
    before = {p.name: p.stat().st_ino for p in run_copy.iterdir()}
    with pytest.raises(RuntimeError, match="stage broke"), edit_run(run_copy) as edit:
        edit.remove("map")
        raise RuntimeError("stage broke")
    assert {p.name: p.stat().st_ino for p in run_copy.iterdir()} == before
    assert [p.name for p in run_copy.parent.iterdir() if ".edit-" in p.name] == []
    assert Run.load(run_copy).has("map")


def test_an_edit_never_writes_through_the_runs_files(run_copy: Path) -> None:
    """Hard-linked staging: a changed part is a new file, the old inode keeps its bytes."""
    old = run_copy / "metrics.json"
    old_inode, old_bytes = old.stat().st_ino, old.read_bytes()
    keep = run_copy.parent / "kept-link"
    keep.hardlink_to(old)
    with edit_run(run_copy) as edit:
        metrics = Run.load(run_copy).metrics
        metrics.seconds = 123.0
        edit.write("metrics", metrics, made_from=("predictions",))
    assert keep.read_bytes() == old_bytes and keep.stat().st_ino == old_inode
    assert Run.load(run_copy).metrics.seconds == 123.0


@pytest.mark.parametrize(
    ("stage", "file"),
    [
        ("slices", "slices.parquet"),
        # numba compiles UMAP on its first call in a process: seconds of CPU
        pytest.param("map", "map.parquet", marks=pytest.mark.slow),
        ("label_issues_train", "label_issues_train.parquet"),
        ("neighbours", "train_embeddings.safetensors"),
    ],
)
def test_a_rerun_stage_writes_new_files_never_through_the_runs_own(
    run_copy: Path, stage: str, file: str
) -> None:
    """The staged copy's files are hard links to the run's: a stage writing one in place would change
    the live run under its readers (and keep the change if the stage then failed)."""
    kept = run_copy.parent / "kept-link"
    kept.hardlink_to(run_copy / file)
    assert analyze_run(run_copy, (stage,), progress=False) == {}
    assert (run_copy / file).stat().st_ino != kept.stat().st_ino
    assert Run.load(run_copy).warnings == []


def test_a_second_writer_is_told_the_run_is_busy(run_copy: Path) -> None:
    with run_lock(run_copy), pytest.raises(RunBusyError, match="another agnews process"), edit_run(run_copy):
        pass


def test_failed_creation_leaves_nothing_and_latest_run_skips_incomplete(
    run_copy: Path, tmp_path: Path
) -> None:
    root = tmp_path / "runs"
    with pytest.raises(RuntimeError), create_run(root / "broken") as edit:
        (edit.path / "config.json").write_text("{}")
        raise RuntimeError("killed")
    assert [p.name for p in root.iterdir() if not p.name.endswith(".lock")] == []
    (root / "incomplete").mkdir()
    assert latest_run(root) is None
    shutil.move(run_copy, root / "good")
    found = latest_run(root)
    assert found is not None and found.path == root / "good"


def test_missing_run_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="run directory not found"):
        Run.load(tmp_path / "nope")


def test_a_legacy_run_loads_in_memory_and_migrates(run_copy: Path) -> None:
    accuracy = Run.load(run_copy).metrics.test.accuracy
    as_legacy(run_copy)
    legacy = Run.load(run_copy)
    assert any("agnews migrate" in w for w in legacy.warnings)
    assert legacy.metrics.test.accuracy == accuracy and legacy.baseline is not None
    assert legacy.config.train.split_seed == legacy.config.train.seed
    assert legacy.get(MAP) is not None and legacy.embeddings is not None

    migrate_run(run_copy)
    migrated = Run.load(run_copy)
    assert migrated.warnings == []
    assert migrated.metrics.test.accuracy == accuracy
    assert migrated.get(MAP) is not None and set(migrated.get(MAP).info.quality) == {"base", "finetuned"}
    probs = migrated.predictions[[f"prob_{i}" for i in range(4)]].to_numpy()
    logits = migrated.predictions[[f"logit_{i}" for i in range(4)]].to_numpy()
    assert (logits.argmax(axis=1) == probs.argmax(axis=1)).all()
    with pytest.raises(RunError, match="nothing to migrate"):
        migrate_run(run_copy)


def test_an_edit_of_a_pulled_run_never_writes_through_its_symlinks(run_copy: Path, tmp_path: Path) -> None:
    """A run pulled from the Hub is a folder of symlinks into the Hugging Face cache."""
    pulled = tmp_path / "pulled"
    for source in run_copy.rglob("*"):
        if source.is_file():
            link = pulled / source.relative_to(run_copy)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source)
    cached = {p: p.read_bytes() for p in run_copy.rglob("*") if p.is_file()}
    with edit_run(pulled) as edit:
        metrics = Run.load(pulled).metrics
        metrics.seconds = 7.0
        edit.write("metrics", metrics, made_from=("predictions",))
    assert {p: p.read_bytes() for p in run_copy.rglob("*") if p.is_file()} == cached
    assert not (pulled / "metrics.json").is_symlink() and (pulled / "predictions.parquet").is_symlink()
    assert Run.load(pulled).metrics.seconds == 7.0
