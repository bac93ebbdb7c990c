"""`agnews train --from-run RUN`: a new run with RUN's data and recipe, the options given on the
command line over them, the decisions of a page's export applied (`--corrections`), and RUN recorded
as its parent; and the disk estimate a page checks before it starts one, against what one took."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from agnews import events
from agnews.cli import main
from agnews.csv_cells import neutralise_frame
from agnews.events import ERROR, EventReader
from agnews.rundir.decisions import KEEP, RELABEL, REMOVE, TEST, TRAIN, decide, export_frame
from agnews.rundir.estimates import disk_estimate_bytes
from agnews.rundir.files import RunError
from agnews.rundir.parts import CONFIG, RunConfig, parse
from agnews.rundir.run import Run
from agnews.text import text_hash
from agnews.training import train


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "train.events.jsonl"
    monkeypatch.setenv(events.ENVIRONMENT, str(path))
    return path


@pytest.fixture
def trained(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `agnews train` would have trained (train_run's arguments), with no training done."""
    called: dict[str, Any] = {}

    def record(config: Any, out: Path, **options: Any) -> None:
        called.update(options, config=config, out=out)
        return None  # as a non-first process of a launch: nothing to print

    monkeypatch.setattr(train, "train_run", record)
    return called


def _old_run(tmp_path: Path, parent: Path, **settings: Any) -> Path:
    """A run folder holding `parent`'s config.json with `settings` changed (all --from-run reads)."""
    config = json.loads((parent / CONFIG).read_text())
    config["train"].update(settings)
    folder = tmp_path / "runs" / "old"
    folder.mkdir(parents=True)
    (folder / CONFIG).write_text(json.dumps(config))
    return folder


def _error(log: Path) -> str:
    """The error the latest command said (each command appends one)."""
    return [e for e in EventReader(log).read() if e.event == ERROR][-1].message


def test_the_parents_settings_are_the_defaults_and_explicit_options_win(
    synthetic_run: Path, tiny_data: Path, tmp_path: Path, trained: dict[str, Any]
) -> None:
    parent = Run.load(synthetic_run).config.train
    checkpoints = tmp_path / "checkpoints"
    argv = [
        "train", "--from-run", str(synthetic_run), "--out", str(tmp_path / "runs" / "child"),
        "--data", str(tiny_data), "--seed", "7", "--epochs", "3", "--checkpoint-dir", str(checkpoints),
        "--stages", "slices",
    ]  # fmt: skip
    assert main(argv) == 0
    assert trained["config"] == dataclasses.replace(parent, data=str(tiny_data), seed=7, epochs=3.0)
    assert trained["parent"] == synthetic_run.name
    assert (trained["checkpoint_dir"], trained["stages"]) == (checkpoints, ("slices",))

    assert main(["train", "--out", str(tmp_path / "runs" / "plain"), "--data", str(tiny_data)]) == 0
    assert trained["parent"] is None and trained["config"].max_train_samples == 4500  # the quick preset


def test_what_is_not_a_run_or_a_preset_beside_a_run_is_refused(
    synthetic_run: Path, tmp_path: Path, log: Path, trained: dict[str, Any]
) -> None:
    nowhere = tmp_path / "nowhere"
    assert main(["train", "--from-run", str(nowhere), "--out", str(tmp_path / "x")]) == 2
    assert _error(log).startswith(f"--from-run {nowhere}: not a run (no config.json)")
    argv = ["train", "--from-run", str(synthetic_run), "--preset", "quick", "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    assert "give --preset or --from-run, not both" in _error(log)
    assert trained == {}


@pytest.mark.parametrize("setting", ["data", "corrections"])
def test_a_file_the_parent_used_that_is_gone_is_named(
    synthetic_run: Path, tmp_path: Path, log: Path, trained: dict[str, Any], setting: str
) -> None:
    gone = str(tmp_path / "moved-away")
    old = _old_run(tmp_path, synthetic_run, **{setting: gone})
    assert main(["train", "--from-run", str(old), "--out", str(tmp_path / "runs" / "new")]) == 2
    option = setting.replace("_", "-")
    assert _error(log).startswith(f"--from-run {old}: its {option} {gone} no longer exists; pass --{option}")
    assert trained == {}


def test_a_config_made_before_parents_were_recorded_reads_as_having_none(synthetic_run: Path) -> None:
    config = json.loads((synthetic_run / CONFIG).read_text())
    assert config["parent"] is None
    del config["parent"]
    assert parse(RunConfig, config, CONFIG).parent is None
    assert parse(RunConfig, {**config, "parent": "quick"}, CONFIG).parent == "quick"
    with pytest.raises(RunError, match="key parent"):
        parse(RunConfig, {**config, "parent": ["quick"]}, CONFIG)


def _decisions_csv(run: Run, path: Path) -> Path:
    """The page's export of decisions on `run`'s rows: a relabel, a removal and a keep on training
    rows, and a test-row decision (not for training), written as the page's download writes it."""
    from agnews.training.data import load_config_data

    rows = load_config_data(run.config.train).splits["train"]
    split_hash, classes = run.config.data.split_hashes["train"], run.classes
    texts, labels = rows["text"][:3], [classes[label] for label in rows["label"][:3]]
    other = next(name for name in classes if name != labels[0])
    decisions = [
        decide(TRAIN, split_hash, text_hash(texts[0]), action=RELABEL, label=other, given=labels[0],
               text=texts[0], classes=classes),
        decide(TRAIN, split_hash, text_hash(texts[1]), action=REMOVE, given=labels[1], text=texts[1]),
        decide(TRAIN, split_hash, text_hash(texts[2]), action=KEEP, given=labels[2], text=texts[2]),
        decide(TEST, run.config.data.split_hashes["test"], "3", action=REMOVE, given=classes[0], text="t"),
    ]  # fmt: skip
    neutralise_frame(export_frame(decisions)).to_csv(path, index=False)
    return path


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_a_run_from_a_run_with_decisions_records_both_and_fits_its_disk_estimate(
    synthetic_run: Path, tmp_path: Path
) -> None:
    parent = Run.load(synthetic_run)
    corrections = _decisions_csv(parent, tmp_path / "decisions.csv")
    out, checkpoints = tmp_path / "runs" / "child", tmp_path / "checkpoints"
    argv = [
        "train", "--from-run", str(synthetic_run), "--corrections", str(corrections), "--seed", "7",
        "--out", str(out), "--checkpoint-dir", str(checkpoints), "--keep-checkpoints", "--stages", "export",
    ]  # fmt: skip
    assert main(argv) == 0
    child = Run.load(out)
    assert child.config.parent == synthetic_run.name
    assert child.config.train == dataclasses.replace(
        parent.config.train, seed=7, corrections=str(corrections)
    )
    applied = child.data_stats.corrections
    assert applied is not None
    assert (applied.file, applied.split_hash) == ("decisions.csv", parent.config.data.split_hashes["train"])
    assert (applied.relabelled, applied.removed, applied.kept, applied.test_rows_not_applied) == (1, 1, 1, 1)
    assert child.config.data.rows["train"] == parent.config.data.rows["train"] - 1
    for split in ("validation", "test"):  # the rows it is judged on are its parent's
        assert child.config.data.split_hashes[split] == parent.config.data.split_hashes[split]

    # The run with its ONNX graphs, and the checkpoints kept: within the bound a page checks first,
    # from the base model (before training) or from the run it retrains (its model is as large).
    used = _size(out) + _size(checkpoints)
    rows = sum(child.config.data.rows.values())
    for model in (Path(parent.config.train.base_model), synthetic_run):
        assert used <= disk_estimate_bytes(model, rows=rows) <= 10 * used
