"""What a training will take before it starts: the disk a run and its checkpoints fill, and the time
its fine-tuning takes, for a page that starts `agnews train` in a child process.

Kept free of torch and transformers (the page never imports training code): the model's size is
read from its safetensors headers, the only weights agnews loads, without loading a tensor.

The disk bound counts copies of the model's weights in float32 (whatever dtype its files hold: a
run's model is saved in float32):

- the run: its model, the ONNX graph in float32 and the int8 one (a quarter, counted whole);
- the checkpoints: each holds the weights and AdamW's two moment estimates, all float32, so three
  copies; the Trainer keeps two (`save_total_limit`, the best epoch's among them) and writes the
  next before it deletes the oldest, so three exist at the peak, and the run is written beside them;
- the rest: tokenizer, configs and logs (`PARTS_BYTES`), and per row of data the predictions,
  embeddings, map and analyses (`ROW_BYTES`).

Every term is rounded up, and the peak (checkpoints and run together) never all occurs at once, so
the bound is generous: the check it backs refuses a training that could not finish, never one that
could.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

from agnews.rundir.parts import MODEL_DIR

RUN_COPIES = 3  # the model, its float32 ONNX graph, the int8 graph
CHECKPOINT_COPIES = 3  # weights + AdamW's first and second moments
CHECKPOINTS = 3  # `save_total_limit` 2, plus the one written before the oldest is deleted
PARTS_BYTES = 64 * 2**20
# Per row of data (training, validation and test): two float32 vectors of up to 1024 wide per test
# row and one per training row, the probabilities and logits, the text in the predictions and a map
# point, all well within this.
ROW_BYTES = 16 * 2**10
FLOAT32_BYTES = 4
MAX_HEADER_BYTES = 100 * 2**20  # the safetensors format's own limit on a header


class EstimateError(ValueError):
    """A model folder whose size cannot be read; the message says which and why."""


def safetensors_parameters(path: Path) -> int:
    """The number of parameters in the safetensors file `path`, from its header alone.

    A safetensors file starts with the header's length (8 bytes, little-endian) and the header, a JSON
    object giving each tensor's shape; the tensors' bytes are never read.
    """
    with path.open("rb") as handle:
        prefix = handle.read(8)
        if len(prefix) != 8:
            raise EstimateError(f"{path.name}: not a safetensors file (shorter than its header's length)")
        (length,) = struct.unpack("<Q", prefix)
        if length > MAX_HEADER_BYTES:
            raise EstimateError(f"{path.name}: not a safetensors file (a header of {length} bytes)")
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, ValueError) as exc:
            raise EstimateError(f"{path.name}: not a safetensors file (its header is not JSON)") from exc
    if not isinstance(header, dict):
        raise EstimateError(f"{path.name}: not a safetensors file (its header is not a JSON object)")
    total = 0
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        shape = tensor.get("shape") if isinstance(tensor, dict) else None
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise EstimateError(f"{path.name}: tensor {name[:100]!r} has no valid shape")
        total += math.prod(shape)
    return total


def weights_bytes(model: Path) -> int:
    """The float32 size of the weights in the model folder `model` (or in the run folder `model`'s
    model): its parameters, counted over every `*.safetensors` file (sharded ones included), times 4.
    EstimateError for a folder without safetensors weights."""
    folder = model / MODEL_DIR if (model / MODEL_DIR).is_dir() else model
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise EstimateError(f"{folder}: no safetensors weights to size a training by")
    return FLOAT32_BYTES * sum(safetensors_parameters(path) for path in files)


def disk_estimate_bytes(base: Path | int, *, rows: int = 0) -> int:
    """A generous upper bound of the disk one training takes beside the runs: its run and its
    checkpoints at their peak (see the module docstring for each term).

    Parameters
    ----------
    base : Path or int
        The base model: its folder (or a run folder, whose model has the base's size give or take its
        classification head), or its float32 weights' size in bytes (`weights_bytes`).
    rows : int
        The rows of data the run holds (training, validation and test); 0 leaves the rows out.
    """
    weights = base if isinstance(base, int) else weights_bytes(base)
    if weights < 0 or rows < 0:
        raise ValueError(f"weights ({weights} bytes) and rows ({rows}) cannot be negative")
    copies = RUN_COPIES + CHECKPOINTS * CHECKPOINT_COPIES
    return weights * copies + PARTS_BYTES + rows * ROW_BYTES


def training_seconds_estimate(rows: int, epochs: float, samples_per_second: float) -> float:
    """How long fine-tuning `rows` training rows for `epochs` takes at `samples_per_second`, the
    rate an earlier run recorded (`Training.samples_per_second`) for the same base model and settings
    on this machine. Fine-tuning only: the evaluation and the stages after it are not counted."""
    if samples_per_second <= 0:
        raise ValueError(f"samples_per_second must be positive, got {samples_per_second}")
    return rows * epochs / samples_per_second
