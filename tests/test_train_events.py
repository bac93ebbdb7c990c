"""`agnews train` as a page follows it, through its event log only (`agnews.events`): the stage
"train" from start to the run's creation, its optimizer steps, each epoch's validation accuracy, the
command's own error, and a cancel (SIGTERM or SIGINT) that leaves checkpoints and no run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from agnews import events
from agnews.cli import main
from agnews.events import DONE, ERROR, FAILED, PROGRESS, STARTED, TRAIN, VALIDATION, Event, EventReader
from agnews.line_log import append, encode
from agnews.rundir.edit import FAULT_ENV
from agnews.rundir.run import Run
from agnews.training.train import INTERRUPTED, TrainingEvents


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The event log this process writes to, as the page names it for its child."""
    path = tmp_path / "train.events.jsonl"
    monkeypatch.setenv(events.ENVIRONMENT, str(path))
    return path


def _train_args(data: Path, base: Path, out: Path, *extra: str) -> list[str]:
    """A tiny two-epoch training: 144 rows, 9 steps an epoch."""
    return [
        "train", "--preset", "distilbert", "--data", str(data), "--base-model", str(base),
        "--out", str(out), "--epochs", "2", "--batch-size", "16", "--max-length", "32",
        "--learning-rate", "1e-3", "--stages", "", *extra,
    ]  # fmt: skip


def ends(said: list[Event]) -> list[tuple[str, str | None]]:
    return [(e.event, e.stage) for e in said if e.event != PROGRESS]


# -- the event and its reader ------------------------------------------------------------------------


def test_a_measured_progress_keeps_its_value_and_older_lines_still_read(log: Path) -> None:
    measured = Event(PROGRESS, TRAIN, n=1, total=2, what=VALIDATION, value=0.0)
    assert measured.record()["value"] == 0.0  # a zero is a value, not an absence
    assert "value" not in Event(PROGRESS, TRAIN, n=3, total=9, what=TRAIN).record()
    assert Event.parse(json.loads(json.dumps(measured.record()))) == measured
    older = {"v": 1, "time": "2024-01-01T00:00:00+00:00", "stage": "embed", "event": "progress", "n": 2}
    assert Event.parse(older).value is None
    for bad in (True, "0.9", float("nan"), float("inf"), [0.9]):
        with pytest.raises(ValueError, match="value not a finite number"):
            Event.parse({**older, "value": bad})


def test_the_summary_keeps_each_epochs_accuracy_beside_the_step_count(log: Path) -> None:
    for event in (
        Event(STARTED, TRAIN),
        Event(PROGRESS, TRAIN, n=9, total=18, what=TRAIN),
        Event(PROGRESS, TRAIN, n=1, total=2, what=VALIDATION, value=0.5),
        Event(PROGRESS, TRAIN, n=12, total=18, what=TRAIN),
        Event(PROGRESS, TRAIN, n=2, total=2, what=VALIDATION, value=0.75),
    ):
        append(log, encode(event.record()))
    reader = EventReader(log)
    reader.read()
    summary = reader.summary
    assert summary.validation == [(1, 0.5), (2, 0.75)]
    assert summary.progress is not None and (summary.progress.what, summary.progress.n) == (TRAIN, 12)
    assert summary.stage == TRAIN


def _state(step: int, steps: int = 18, epoch: float = 0.0, first: bool = True) -> SimpleNamespace:
    return SimpleNamespace(global_step=step, max_steps=steps, epoch=epoch, is_world_process_zero=first)


def test_the_callback_throttles_steps_but_says_the_first_and_the_last_and_each_epoch(log: Path) -> None:
    args = SimpleNamespace(num_train_epochs=1.5)
    callback = TrainingEvents()
    callback.on_evaluate(args, _state(0), None, metrics={"eval_accuracy": 0.1})  # not in training: not said
    callback.on_train_begin(args, _state(4), None)  # a resumed run starts at its checkpoint's step
    for step in range(5, 19):
        callback.on_step_end(args, _state(step), None)
        if step == 12:
            callback.on_evaluate(args, _state(step, epoch=0.9999999), None, metrics={"eval_accuracy": 0.5})
    callback.on_evaluate(args, _state(18, epoch=1.5), None, metrics={"eval_accuracy": 0.625})
    callback.on_train_end(args, _state(18), None)
    callback.on_evaluate(args, _state(18), None, metrics={"eval_accuracy": 0.625})  # the kept model's
    callback.on_train_begin(args, _state(0, first=False), None)  # another process of a launch: silent
    said = EventReader(log).read()
    steps = [(e.n, e.total) for e in said if e.what == TRAIN]
    assert steps == [(4, 18), (18, 18)]  # the loop's 14 steps took well under PROGRESS_SECONDS
    assert [(e.n, e.total, e.value) for e in said if e.what == VALIDATION] == [(1, 2, 0.5), (2, 2, 0.625)]
    assert {e.stage for e in said} == {TRAIN}


# -- a real tiny training ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_training_says_its_stage_steps_and_each_epochs_accuracy(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path, log: Path
) -> None:
    out = tmp_path / "runs" / "tiny"
    assert main(_train_args(tiny_data, tiny_distilbert, out, "--stages", "slices")) == 0
    reader = EventReader(log)
    said = reader.read()
    assert ends(said) == [(STARTED, TRAIN), (DONE, TRAIN), (STARTED, "slices"), (DONE, "slices")]
    steps = [e for e in said if e.what == TRAIN]
    assert steps[0].n == 0 and steps[-1].n == steps[-1].total == 18
    assert all(e.stage == TRAIN and e.total == 18 for e in steps)
    log_history = Run.load(out).training.log_history
    accuracies = [entry["eval_accuracy"] for entry in log_history if "eval_accuracy" in entry]
    assert reader.summary.validation == list(enumerate(accuracies[:2], start=1))
    done = next(e for e in said if e.event == DONE)
    assert done.seconds >= max(e.seconds for e in said if e.what == VALIDATION)
    assert reader.summary.error == "" and reader.summary.failed == {}


def test_a_failed_training_says_the_commands_own_error(tmp_path: Path, log: Path) -> None:
    gone = tmp_path / "no-such-data"
    assert main(["train", "--data", str(gone), "--out", str(tmp_path / "runs" / "x")]) == 2
    reader = EventReader(log)
    said = reader.read()
    assert ends(said) == [(STARTED, TRAIN), (FAILED, TRAIN), (ERROR, None)]
    assert str(gone) in reader.summary.error and not reader.summary.error.startswith("DataError")
    assert reader.summary.failed[TRAIN].startswith("DataError: ") and reader.summary.stage is None
    assert not (tmp_path / "runs" / "x").exists()


@pytest.mark.slow  # a process of its own, signalled, then a resumed training
@pytest.mark.parametrize("sent", ["SIGTERM", "SIGINT"])
def test_a_cancelled_training_leaves_checkpoints_and_no_run_and_resumes(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path, log: Path, sent: str
) -> None:
    """The page cancels with SIGINT; SIGTERM reaches the training when the app ends (its parent-death
    signal). Both stop it as Ctrl-C does, after the first epoch's checkpoint here."""
    out = tmp_path / "runs" / "cancelled"
    checkpoints = tmp_path / "checkpoints"
    args = _train_args(tiny_data, tiny_distilbert, out, "--checkpoint-dir", str(checkpoints))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", FAULT_ENV: f"train:checkpoint-saved@{sent}"}
    stopped = subprocess.run(
        [sys.executable, "-m", "agnews", *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert stopped.returncode == 130, stopped.stderr[-3000:]
    assert "Traceback" not in stopped.stderr and INTERRUPTED in stopped.stderr
    assert not out.exists() and [p.name for p in out.parent.iterdir() if not p.name.endswith(".lock")] == []
    assert [p.name for p in checkpoints.glob("checkpoint-*")] == ["checkpoint-9"]
    reader = EventReader(log)
    assert ends(reader.read())[-2:] == [(FAILED, TRAIN), (ERROR, None)]
    assert reader.summary.error == reader.summary.failed[TRAIN] == INTERRUPTED
    assert reader.summary.validation and reader.summary.validation[0][0] == 1

    log.unlink()  # the page starts the resumed command with a log of its own
    assert main([*args, "--resume"]) == 0
    resumed = EventReader(log)
    said = resumed.read()
    assert next((e.n, e.total) for e in said if e.what == TRAIN) == (9, 18)  # it goes on from epoch 1
    assert resumed.summary.done == {TRAIN} and [n for n, _ in resumed.summary.validation] == [2]
    assert Run.load(out).metrics.test.rows == 40 and not checkpoints.exists()


def test_sigterm_is_only_caught_while_the_command_trains(tmp_path: Path) -> None:
    """The handler `agnews train` sets is put back as it ends, error or not (tests and a program
    calling `main` keep their own)."""
    before = signal.getsignal(signal.SIGTERM)
    assert main(["train", "--data", str(tmp_path / "gone"), "--out", str(tmp_path / "x")]) == 2
    assert signal.getsignal(signal.SIGTERM) is before
