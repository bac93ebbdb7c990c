"""app.py's choice of run (newest complete run, else the quick run trained through the library) and
the background `agnews analyze` it starts for a run whose default stages have not all run."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
import pytest
from test_live_run import has_timer, without_parts

import app
from agnews.config import TrainConfig
from agnews.rundir.catalog import CATALOG
from agnews.rundir.files import RunError
from agnews.rundir.run import Run


def test_with_no_run_the_launcher_trains_the_quick_run_on_the_given_data(
    quick_run: Path, tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agnews.training.train

    runs = tmp_path / "runs"
    (runs / "half-written").mkdir(parents=True)  # incomplete: must not be chosen
    calls = []

    def fake_train_run(config: TrainConfig, out: Path, *, stages: tuple[str, ...]) -> Path:
        assert stages == ()  # the default stages run after the app opens, in the background
        calls.append((config, out))
        shutil.copytree(quick_run, out)
        return out

    monkeypatch.setattr(app, "RUNS", runs)
    monkeypatch.setattr(app, "QUICK_RUN", runs / "quick")
    monkeypatch.setattr(agnews.training.train, "train_run", fake_train_run)
    run = app.resolve_run(app.parse_args(["--data", str(tiny_data)]))
    [(config, out)] = calls
    assert out == runs / "quick" and run.path == out  # AG News: the documented first run's folder
    assert config.base_model == "minilm" and config.data == str(tiny_data)

    again = app.resolve_run(app.parse_args([]))  # now a complete run exists: no training
    assert again.path == runs / "quick" and len(calls) == 1
    # With --data, the runs made from that data (the split hashes they record) are the candidates.
    made = Run.load(quick_run).config.data.split_hashes
    assert [r.path for r in app.runs_made_from(made)] == [runs / "quick"]
    assert app.runs_made_from({**made, "test": "another test split"}) == []

    tickets = tmp_path / "tickets"
    tickets.mkdir()
    rows = [
        (f"ticket {i} about {topic} and more {topic}", topic) for i in range(30) for topic in ("a b", "c/d")
    ]
    for split, part in (("train", rows[:48]), ("test", rows[48:])):
        pd.DataFrame(part, columns=["text", "label"]).to_csv(tickets / f"{split}.csv", index=False)
    mine = app.resolve_run(app.parse_args(["--data", str(tickets)]))
    assert mine.path == runs / "quick-tickets" and len(calls) == 2  # another data's run: never runs/quick


def test_a_training_failure_in_the_launcher_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(app, "QUICK_RUN", tmp_path / "runs" / "quick")
    with pytest.raises(RunError, match=r"could not read --data: .*missing.*not found"):
        app.resolve_run(app.parse_args(["--data", str(tmp_path / "missing")]))
    assert not (tmp_path / "runs").exists()  # nothing written


class FakeProcess:
    """What `subprocess.Popen` returns, recording the command instead of running it."""

    def __init__(self, command: list[str], **options: Any) -> None:
        self.args, self.options = command, options
        self.signals: list[int] = []
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, number: int) -> None:
        self.signals.append(number)
        self.returncode = -number

    def wait(self, timeout: float | None = None) -> int | None:
        return self.returncode


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """main() up to `launch`, which returns at once; the Popen it starts, recorded, never run."""
    import torch

    record: dict[str, Any] = {"processes": []}
    popen = subprocess.Popen

    def fake_popen(command: list[str], **options: Any) -> FakeProcess | subprocess.Popen[bytes]:
        if command[1:4] != ["-m", "agnews", "analyze"]:  # e.g. ctypes looking for libc: the real one
            return popen(command, **options)
        record["processes"].append(FakeProcess(command, **options))
        return record["processes"][-1]

    def fake_launch(demo: gr.Blocks, **options: Any) -> None:
        record["demo"] = demo

    monkeypatch.setattr(subprocess, "Popen", fake_popen)
    monkeypatch.setattr(gr.Blocks, "launch", fake_launch)
    monkeypatch.setattr(app, "SERVING_THREADS", torch.get_num_threads())  # the tests' own
    return record


def test_the_launcher_completes_a_run_in_the_background(
    quick_run: Path, tmp_path: Path, served: dict[str, Any]
) -> None:
    run = without_parts(quick_run, tmp_path / "runs" / "quick", ("map",))
    assert CATALOG.pending_stages(Run.load(run)) == ("map",)
    assert app.main(["--run", str(run), "--data", "/some/data"]) == 0
    [process] = served["processes"]
    assert process.args == [sys.executable, "-m", "agnews", "analyze", str(run), "--data", "/some/data"]
    log = tmp_path / "runs" / ".quick.analyze.log"
    assert process.options["stdout"].name == str(log) and process.options["stderr"] == subprocess.STDOUT
    assert has_timer(served["demo"])  # the page follows the run
    assert process.signals == [signal.SIGINT]  # and the analyze ends with the app


def test_a_complete_run_starts_nothing(quick_run: Path, served: dict[str, Any]) -> None:
    assert CATALOG.pending_stages(Run.load(quick_run)) == ()
    assert app.main(["--run", str(quick_run)]) == 0
    assert served["processes"] == [] and not has_timer(served["demo"])


def test_a_freshly_trained_quick_run_opens_while_its_stages_run(
    quick_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: dict[str, Any]
) -> None:
    import agnews.training.train

    def fake_train_run(config: TrainConfig, out: Path, *, stages: tuple[str, ...]) -> Path:
        return without_parts(quick_run, out)  # model, metrics, predictions; no embed or map parts

    monkeypatch.setattr(app, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(app, "QUICK_RUN", tmp_path / "runs" / "quick")
    monkeypatch.setattr(agnews.training.train, "train_run", fake_train_run)
    assert app.main([]) == 0
    [process] = served["processes"]
    assert process.args[-2:] == ["analyze", str(tmp_path / "runs" / "quick")]
    assert "Still being built" in str(served["demo"].get_config_file())


def test_compare_opens_the_compare_tab_on_the_second_run(
    quick_run: Path, quick_run_seed_1: Path, served: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert app.main(["--run", str(quick_run), "--compare", str(quick_run_seed_1)]) == 0
    names = {getattr(fn, "api_name", None) for fn in served["demo"].fns.values()}
    assert {"compare", "compare_open"} <= names  # the tab opens with the comparison drawn
    assert app.main(["--run", str(quick_run), "--compare", str(quick_run.parent / "nowhere")]) == 2
    assert "nowhere: run directory not found" in capsys.readouterr().err
    assert served["processes"] == []


@pytest.mark.parametrize(
    ("argv", "space", "writes"),
    [
        ([], False, True),  # a local page: the person at the machine
        (["--share"], False, False),
        (["--host", "0.0.0.0"], False, False),
        ([], True, False),  # a Space is public
        (["--share", "--allow-edits"], False, True),
        (["--host", "0.0.0.0", "--allow-edits"], True, True),
    ],
)
def test_a_public_page_writes_decisions_only_when_allowed(
    argv: list[str], space: bool, writes: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    if space:
        monkeypatch.setenv("SPACE_ID", "someone/agnews")
    else:
        monkeypatch.delenv("SPACE_ID", raising=False)
    assert app.may_write(app.parse_args(argv)) is writes
