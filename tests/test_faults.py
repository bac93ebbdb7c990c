"""Faults, by really signalling a training process: SIGKILL and SIGINT mid-training, then resume."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agnews.run import Run, RunError, check_writable


def _train_command(data: Path, base: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "agnews", "train", "--preset", "distilbert", "--data", str(data),
        "--base-model", str(base), "--out", str(out), "--epochs", "20", "--batch-size", "16",
        "--max-length", "32", "--no-embed", *extra,
    ]  # fmt: skip


def _start_and_wait_for_checkpoint(command: list[str], checkpoints: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 180
    while not list(checkpoints.glob("checkpoint-*/trainer_state.json")):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no checkpoint appeared; output:\n{process.communicate()[0]}")
        time.sleep(0.05)
    time.sleep(0.05)  # into the second epoch, past the first checkpoint
    assert process.poll() is None, "training finished before it could be interrupted"
    return process


def test_sigkill_leaves_no_run_and_resume_finishes(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs" / "killed"
    checkpoints = tmp_path / "runs" / ".killed.checkpoints"
    command = _train_command(tiny_data, tiny_distilbert, out)
    process = _start_and_wait_for_checkpoint(command, checkpoints)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir()] == [".killed.checkpoints"]

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    run = Run.load(out)
    assert run.config["train"]["epochs"] == 20.0
    assert not checkpoints.exists()


def test_sigint_stops_cleanly_and_keeps_the_checkpoint(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path
) -> None:
    out = tmp_path / "runs" / "stopped"
    checkpoints = tmp_path / "runs" / ".stopped.checkpoints"
    process = _start_and_wait_for_checkpoint(_train_command(tiny_data, tiny_distilbert, out), checkpoints)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "rerun with --resume" in output
    assert "Traceback" not in output
    assert list(checkpoints.glob("checkpoint-*"))
    assert not out.exists()


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
    import agnews.run
    from agnews.train import fine_tune, preset_config

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(agnews.run.os, "fsync", refuse)
    config = preset_config("quick", data=str(tiny_data))
    started = time.monotonic()
    with pytest.raises(RunError, match=f"cannot write there \\({os.strerror(error)}\\)"):
        fine_tune(config, tmp_path / "runs" / "x", progress=False)
    assert time.monotonic() - started < 5
