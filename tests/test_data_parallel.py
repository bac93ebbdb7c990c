"""Data-parallel training on the CPU: `torchrun` and `accelerate launch` with two gloo processes.

The weights check is what a broken sharding fails: two processes splitting each global batch must
end where one process taking the whole batch ends (the same rows each step, the gradients averaged),
and a process that trained alone on its half-batches (what a launch whose processes never joined
one group does) must not.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import ROOT
from safetensors.torch import load_file

from agnews.config import ConfigError
from agnews.hub.card import build_model_card
from agnews.rundir.run import Run
from agnews.training.data_parallel import check_launch, per_device_batch, trainer_batch
from agnews.training.train import train_run

# fp32 sums of the same rows in another order (two half-batch means averaged, against one mean, and
# matrix products split over however many threads each process gets) differ in the last bits; over
# the steps below that stays under this bound (1e-7 in runs of the test alone, 5e-6 once inside the
# whole suite in CI), while training at another batch size moves the weights by 1e-2 and more.
WEIGHT_TOLERANCE = 2e-5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _train_args(model: Path, data: Path, out: Path, *extra: str, epochs: int = 2) -> list[str]:
    """`agnews train` with what makes one process and two comparable (fp32, no dropout: a process's
    random masks differ from one process's), length-grouped batches as the presets have them, and no
    stages after evaluation."""
    return [
        *("-m", "agnews", "train", "--base-model", str(model), "--data", str(data), "--out", str(out)),
        *("--epochs", str(epochs), "--batch-size", "8", "--learning-rate", "1e-3", "--seed", "3"),
        *("--mixed-precision", "no", "--dropout", "0", "--stages="),
        *extra,
    ]


def _launch(launcher: list[str], args: list[str]) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    env.pop("WORLD_SIZE", None)
    done = subprocess.run(
        [sys.executable, *launcher, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for rank in (0, 1):
        assert f"process {rank} of 2:" in done.stdout + done.stderr  # each process logs its shard


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(run / "model" / "model.safetensors")


def _largest_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max((a[name] - b[name]).abs().max().item() for name in a)


def _only_the_run(folder: Path, name: str) -> None:
    """Exactly one run was written (by the first process), and no checkpoint folder is left behind."""
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock")) == [name]


@pytest.mark.slow
def test_torchrun_two_processes_train_the_weights_one_process_trains_at_the_same_global_batch(
    tiny_distilbert: Path, tiny_data: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    torchrun = ["-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(_free_port())]
    # One epoch: the run keeps its best epoch by validation accuracy, and the tiny model's epochs are
    # all at chance with near-equal logits, so which epoch "wins" would turn on the last bits that
    # the two trainings may differ in (both epochs of one tie, one row of the other flips), and the
    # weights compared would be of different epochs.
    _launch(torchrun, _train_args(tiny_distilbert, tiny_data, runs / "ddp", epochs=1))
    _only_the_run(runs, "ddp")

    shared = Run.load(runs / "ddp")
    training_rows = shared.config.data.rows["train"]
    assert training_rows % 8 == 0  # whole global batches: every step holds the same rows in both trainings
    record = shared.training.data_parallel
    assert record is not None and record.processes == 2 and record.per_device_batch == 4
    assert record.rows == [[training_rows // 2] * 2] and record.repeated == [0] and record.unseen == [0]
    assert "in each of 2 data-parallel processes" in str(build_model_card(shared, "user/agnews"))

    single = train_run(shared.config.train, tmp_path / "single", progress=False, stages=())
    assert Run.load(single).training.data_parallel is None
    initial = load_file(tiny_distilbert / "model.safetensors")
    trained = {name.removeprefix("distilbert."): weights for name, weights in _weights(single).items()}
    moved = max((trained[name] - initial[name]).abs().max().item() for name in initial)
    assert moved > 1e-3  # training changed the weights: the comparison below cannot pass vacuously

    assert _largest_difference(_weights(runs / "ddp"), _weights(single)) < WEIGHT_TOLERANCE
    half_batches = train_run(
        dataclasses.replace(shared.config.train, batch_size=4), tmp_path / "alone", progress=False, stages=()
    )
    assert _largest_difference(_weights(runs / "ddp"), _weights(half_batches)) > 50 * WEIGHT_TOLERANCE


@pytest.mark.slow
def test_accelerate_launch_accounts_for_the_rows_repeated_to_even_the_last_batches(
    tiny_distilbert: Path, tiny_data: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    # `--multi_gpu` is accelerate's several-process launcher; on a machine without GPUs its processes
    # join over gloo on the CPU (`--cpu` with several processes would need MPI).
    accelerate = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    accelerate += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    accelerate += ["--main_process_port", str(_free_port())]
    # 142 rows: the 36th half-batch of 4 holds 2 rows, and is filled up with 2 rows from the start.
    _launch(accelerate, _train_args(tiny_distilbert, tiny_data, runs / "ddp", "--max-train-samples", "142"))
    _only_the_run(runs, "ddp")

    record = Run.load(runs / "ddp").training.data_parallel
    assert record is not None and record.processes == 2
    assert record.rows == [[72, 72], [72, 72]]
    assert record.repeated == [2, 2] and record.unseen == [0, 0]


def test_the_global_batch_must_split_evenly_over_the_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "3")
    assert per_device_batch(24) == 8
    assert trainer_batch(24) == 24  # the Trainer draws global batches; accelerate splits each one
    with pytest.raises(ConfigError, match="batch_size 32 does not split evenly over 3 devices"):
        per_device_batch(32)


def test_processes_that_did_not_join_one_group_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class Alone:
        class args:  # the Trainer's attribute name
            world_size = 1

    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="did not form one data-parallel group"):
        check_launch(Alone())  # type: ignore[arg-type]
