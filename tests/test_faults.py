"""Faults, by really signalling agnews processes at named points (`AGNEWS_FAULT`, see
`agnews.rundir.edit.fault_point`): SIGKILL and SIGINT mid-training, then resume; SIGKILL inside
`agnews evaluate` and `agnews analyze` at every step of an edit, which must leave the old run or the
new one, never a mix."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agnews.analyses.map.schema import PART as MAP
from agnews.rundir.edit import FAULT_ENV
from agnews.rundir.files import RunError, check_writable
from agnews.rundir.parts import BASELINE, EMBEDDINGS
from agnews.rundir.run import Run


def _train_command(data: Path, base: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "agnews", "train", "--preset", "distilbert", "--data", str(data),
        "--base-model", str(base), "--out", str(out), "--epochs", "2", "--batch-size", "16",
        "--max-length", "32", "--stages", "", *extra,
    ]  # fmt: skip


def _run(
    command: list[str], fault: str | None = None, *, sigint: signal.Handlers | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `command` with the fault set; `sigint` sets the SIGINT disposition the child inherits (as a
    shell's background job inherits SIG_IGN), else it inherits this process's."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop(FAULT_ENV, None)
    if fault is not None:
        env[FAULT_ENV] = fault
    inherit = None if sigint is None else (lambda: signal.signal(signal.SIGINT, sigint))
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, preexec_fn=inherit)


@pytest.mark.slow
def test_sigkill_leaves_no_run_and_resume_finishes(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs" / "killed"
    checkpoints = tmp_path / "runs" / ".killed.checkpoints"
    command = _train_command(tiny_data, tiny_distilbert, out)
    killed = _run(command, fault="train:checkpoint-saved")
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if not p.name.endswith(".lock")] == [".killed.checkpoints"]
    assert list(checkpoints.glob("checkpoint-*/trainer_state.json"))

    resumed = _run([*command, "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    run = Run.load(out)
    assert run.config.train.epochs == 2.0
    assert not checkpoints.exists()


@pytest.mark.slow
@pytest.mark.parametrize("inherited", [signal.SIG_DFL, signal.SIG_IGN], ids=["foreground", "background-job"])
def test_sigint_stops_cleanly_and_keeps_the_checkpoint(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path, inherited: signal.Handlers
) -> None:
    out = tmp_path / "runs" / "stopped"
    checkpoints = tmp_path / "runs" / ".stopped.checkpoints"
    command = _train_command(tiny_data, tiny_distilbert, out)
    stopped = _run(command, fault="train:checkpoint-saved@SIGINT", sigint=inherited)
    assert stopped.returncode == 130
    assert "rerun with --resume" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert list(checkpoints.glob("checkpoint-*"))
    assert not out.exists()


def _assert_consistent(path: Path) -> Run:
    """The run loads and its parts agree: metrics describe exactly the stored predictions, and every
    row-aligned part it still shows lines up with them."""
    run = Run.load(path)
    stored = run.predictions
    assert run.metrics.test.rows == len(stored)
    assert run.metrics.test.accuracy == pytest.approx((stored["pred"] == stored["label"]).mean())
    if run.get(MAP) is not None:
        assert run.get(MAP).coordinates["row_id"].tolist() == stored["row_id"].tolist()
    if run.embeddings is not None:
        assert all(len(v) == len(stored) for v in run.embeddings.values())
    if run.baseline is not None:
        assert run.baseline.rows == len(stored)
    return run


AGNEWS = [sys.executable, "-m", "agnews"]
# The test rows `agnews evaluate` keeps below: fewer than the synthetic run's, so that the run it
# swaps in is told from the old one by its length.
FEWER = "20"


@pytest.mark.slow  # a process of its own per fault, killed
@pytest.mark.parametrize(
    "fault", ["edit:staged", "part:predictions", "part:metrics", "edit:before-swap", "edit:after-swap"]
)
def test_killed_evaluate_leaves_the_old_run_or_the_new_one(run_copy: Path, fault: str) -> None:
    """The kill needs a process of its own; the evaluation after it runs the same command in this one
    (`agnews.cli.main`), as it proves the same: the lock and the run are usable again."""
    from agnews.cli import main

    before = len(Run.load(run_copy).predictions)
    assert before > int(FEWER)
    killed = _run([*AGNEWS, "evaluate", str(run_copy), "--max-test-samples", FEWER], fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    run = _assert_consistent(run_copy)
    expected = int(FEWER) if fault == "edit:after-swap" else before  # swapped in, or never
    assert len(run.predictions) == expected
    # the kernel released the dead writer's lock
    assert main(["evaluate", str(run_copy), "--max-test-samples", FEWER]) == 0
    assert len(_assert_consistent(run_copy).predictions) == int(FEWER)
    assert not [p.name for p in run_copy.parent.iterdir() if ".edit-" in p.name]  # leftovers cleared


@pytest.fixture
def stale_run(run_copy: Path) -> Path:
    """A run whose embeddings, baseline and map were made from older predictions (other rows)."""
    from agnews.training.stages import evaluate_run

    evaluate_run(run_copy, max_test_samples=int(FEWER), progress=False)
    assert not Run.load(run_copy).has("embeddings")
    return run_copy


@pytest.mark.slow  # a process of its own per fault, killed; UMAP compiled here once
@pytest.mark.parametrize(
    ("command", "fault"),
    [
        (["--stages", "embed"], "edit:staged"),
        (["--stages", "embed"], "part:embeddings"),
        (["--stages", "embed"], "part:baseline"),
        (["--stages", "embed"], "edit:before-swap"),
        (["--stages", "embed,map"], "analyze:between-stages"),
        (["--stages", "embed,map"], "part:map"),
    ],
)
def test_killed_analyze_leaves_a_consistent_run(stale_run: Path, command: list[str], fault: str) -> None:
    killed = _run([*AGNEWS, "analyze", str(stale_run), *command], fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    run = _assert_consistent(stale_run)
    embedded = fault in ("analyze:between-stages", "part:map")  # the embed stage was swapped in
    assert run.has("embeddings") == embedded and run.has("baseline") == embedded
    assert not run.has("map")
    # The stages the faults touched, run again (the other missing stages would only add minutes), by
    # the same command in this process: UMAP's kernels are compiled once here, not once per test.
    from agnews.cli import main

    assert main(["analyze", str(stale_run), "--stages", "embed,map"]) == 0
    done = _assert_consistent(stale_run)
    assert done.has("map") and done.has("embeddings") and done.has("baseline")
    assert done.manifest.warnings == []  # no stage failed
    touched = (EMBEDDINGS, BASELINE, *MAP.files)
    assert not [w for w in done.warnings if any(name in w for name in touched)]  # none of them stale


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_output_folder_fails_before_training(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    with pytest.raises(RunError, match="cannot write there"):
        check_writable(folder)


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_unwritable_output_fails_before_training(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    """Disk full / read-only / no permission (as root, only emulated): error before any training."""
    import agnews.rundir.files
    import agnews.training.train
    from agnews.config import preset_config
    from agnews.training.train import train_run

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(agnews.rundir.files.os, "fsync", refuse)
    monkeypatch.setattr(agnews.training.train, "fine_tune", lambda *a, **k: pytest.fail("training started"))
    config = preset_config("quick", data=str(tiny_data))
    with pytest.raises(RunError, match=f"cannot write there \\({os.strerror(error)}\\)"):
        train_run(config, tmp_path / "runs" / "x", progress=False)
