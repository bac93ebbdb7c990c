"""app.py's choice of run: newest complete run, else the quick run trained through the library."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import app
from agnews.config import TrainConfig
from agnews.rundir import RunError


def test_with_no_run_the_launcher_trains_the_quick_run_on_the_given_data(
    quick_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agnews.training.train

    runs = tmp_path / "runs"
    (runs / "half-written").mkdir(parents=True)  # incomplete: must not be chosen
    calls = []

    def fake_train_run(config: TrainConfig, out: Path) -> Path:
        calls.append((config, out))
        shutil.copytree(quick_run, out)
        return out

    monkeypatch.setattr(app, "RUNS", runs)
    monkeypatch.setattr(app, "QUICK_RUN", runs / "quick")
    monkeypatch.setattr(agnews.training.train, "train_run", fake_train_run)
    run = app.resolve_run(app.parse_args(["--data", "/some/data"]))
    [(config, out)] = calls
    assert out == runs / "quick" and run.path == out
    assert config.base_model == "minilm" and config.data == "/some/data"

    again = app.resolve_run(app.parse_args([]))  # now a complete run exists: no training
    assert again.path == runs / "quick" and len(calls) == 1


def test_a_training_failure_in_the_launcher_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(app, "QUICK_RUN", tmp_path / "runs" / "quick")
    with pytest.raises(RunError, match=r"could not train the quick run: .*data folder not found"):
        app.resolve_run(app.parse_args(["--data", str(tmp_path / "missing")]))
