"""Data-parallel training (`torchrun` / `accelerate launch`): how a batch splits over the devices, and
which training rows each process was given.

`batch_size` is the global batch: each of N devices takes batch_size / N rows a step and the gradients
are averaged, so one recipe trains the same model on one device or eight (and runs stay comparable
across machines). The Trainer draws whole global batches and accelerate splits each one over the
processes (`trainer_batch`), so a launch trains on the batches one process would.
`ShardRecordingTrainer` notes the training rows each process was given, epoch by epoch, and the first
process writes them into the run (`Training.data_parallel`), where a broken sharding (every process
given every row, or rows that no process got) shows.
"""

from __future__ import annotations

from typing import Any

import torch
from datasets import Dataset
from transformers import Trainer

from agnews.config import ConfigError
from agnews.processes import launch_size
from agnews.rundir.parts import DataParallel

POSITION = "train_position"


def batch_shares() -> int:
    """How many devices split each training batch: the launched processes, or, in one process on a
    machine with several GPUs, the GPUs `nn.DataParallel` spreads the batch over."""
    processes = launch_size()
    if processes > 1 or not torch.cuda.is_available():
        return processes
    return max(torch.cuda.device_count(), 1)


def per_device_batch(batch_size: int) -> int:
    """The rows each device takes a step so that together they make the global `batch_size`."""
    shares = batch_shares()
    if batch_size % shares:
        raise ConfigError(
            f"batch_size {batch_size} does not split evenly over {shares} devices; choose a multiple "
            f"of {shares} (batch_size is the global batch: each device takes batch_size / {shares} rows)"
        )
    return batch_size // shares


def trainer_batch(batch_size: int) -> int:
    """The Trainer's `per_device_train_batch_size` for the global `batch_size`.

    Under a launcher the Trainer draws whole global batches and accelerate hands each process its
    slice of every batch (`split_batches`, set beside this), so the batches, length-grouped or not,
    are the ones one process would train on. In one process nn.DataParallel multiplies the number by
    its GPUs, so it is divided here.
    """
    per_device = per_device_batch(batch_size)
    return batch_size if launch_size() > 1 else per_device


def check_launch(trainer: Trainer) -> None:
    """A launch of several processes that did not join one process group would train the whole
    recipe once per process, each unaware of the others: refuse instead of training in vain."""
    processes = launch_size()
    if processes > 1 and trainer.args.world_size != processes:
        raise ConfigError(
            f"{processes} processes were launched, but training was set up for {trainer.args.world_size}: "
            "the processes did not form one data-parallel group"
        )


def with_positions(rows: Dataset) -> Dataset:
    """The training rows with their position, which `ShardRecordingTrainer` takes off each batch."""
    return rows.add_column(POSITION, list(range(len(rows))))


class ShardRecordingTrainer(Trainer):
    """The Trainer, noting which training rows (by `POSITION`) this process trained on in each epoch.

    The position column rides through the collator to `training_step`, which removes it before the
    model sees the batch; evaluation rows carry none.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.given: dict[int, list[int]] = {}

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        if POSITION not in self._signature_columns:
            self._signature_columns.append(POSITION)

    def training_step(
        self, model: torch.nn.Module, inputs: dict[str, Any], num_items_in_batch: Any = None
    ) -> torch.Tensor:
        positions = inputs.pop(POSITION, None)
        if positions is not None:
            # `state.epoch` counts the epochs done before this step: its whole part is this step's epoch.
            self.given.setdefault(int(self.state.epoch or 0), []).extend(positions.tolist())
        return super().training_step(model, inputs, num_items_in_batch)


def shard_record(trainer: ShardRecordingTrainer, rows: int) -> DataParallel | None:
    """What each process of a data-parallel training was given, per epoch (None in one process).

    Every process must call it (it gathers across them); each prints its own line. Counts cover the
    epochs this launch trained: after `--resume`, the resumed epoch counts only its remaining steps.
    """
    from accelerate.utils import gather_object

    processes = trainer.args.world_size
    if processes == 1:
        return None
    given: list[dict[int, list[int]]] = gather_object([trainer.given])
    rank = trainer.args.process_index
    mine = trainer.given
    print(
        f"process {rank} of {processes}: "
        + "; ".join(f"epoch {e + 1}: {len(p)} rows ({len(set(p))} distinct)" for e, p in sorted(mine.items()))
    )
    epochs = sorted({epoch for record in given for epoch in record})
    per_epoch = [[record.get(epoch, []) for record in given] for epoch in epochs]
    return DataParallel(
        processes=processes,
        per_device_batch=trainer.args.per_device_train_batch_size // processes,
        rows=[[len(p) for p in shards] for shards in per_epoch],
        repeated=[sum(map(len, shards)) - len(set().union(*shards)) for shards in per_epoch],
        unseen=[rows - len(set().union(*shards)) for shards in per_epoch],
    )
